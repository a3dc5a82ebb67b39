import { type BitrixEvent, type EventAuth, encodeEvent } from '../channels/bitrix24/events';
import type { AppContext } from '../context';
import type { BotEvent } from '../services/bot-deliveries';
import { numericIds } from '../services/numeric-ids';
import type { BitrixBotCommandRow, BitrixBotRow } from '../store/bitrix-schema';
import { applicationTokenOf } from './apps';
import { chatEntityIdOf } from './chat-entity';

/**
 * A bot registered with imbot.register hears what Bitrix24 sends its bots, from the same durable
 * queue as every external bot (bot_deliveries, workers/bot-deliveries: retried with backoff, where
 * Bitrix24 does not retry), form-encoded with PHP-style keys like every Bitrix24 event:
 *   session.started  → ONIMBOTJOINCHAT to EVENT_WELCOME_MESSAGE, then the message that opened the
 *                      session as ONIMBOTMESSAGEADD (a bot joins an open line's chat, then reads it)
 *   message.created  → ONIMBOTMESSAGEADD to EVENT_MESSAGE_ADD, or ONIMCOMMANDADD to the command's
 *                      EVENT_COMMAND_ADD when it is `/<command> …` of a command the bot registered
 *   session.left     → nothing: Bitrix24 has no such event for bots
 *   message.edited / message.deleted (the client's, services/bot-deliveries
 *                      enqueueClientMessageChange) → ONIMBOTMESSAGEUPDATE / …DELETE to
 *                      EVENT_MESSAGE_UPDATE / _DELETE
 * `auth` (and `data.BOT[<id>].AUTH`) carry `application_token` to verify us, but no OAuth access
 * token: the bot acts with its application's token (docs/bitrix24-compat.md).
 */
export interface BitrixBotPost {
  url: string;
  event: string;
  body: string;
}

/** The posts of one bot event, in order; `null` when the application was revoked. */
export async function bitrixBotPosts(
  ctx: AppContext,
  bot: BitrixBotRow,
  event: BotEvent,
): Promise<BitrixBotPost[] | null> {
  if (event.type === 'session.left') return [];
  const applicationToken = await applicationTokenOf(ctx, bot.app_id);
  if (applicationToken === null) return null;
  const { db } = ctx.store;
  const dialog = await db
    .selectFrom('dialogs')
    .innerJoin('lines', 'lines.id', 'dialogs.line_id')
    .innerJoin('clients', 'clients.id', 'dialogs.client_id')
    .select(['dialogs.channel_id', 'dialogs.client_id', 'lines.settings', 'clients.name'])
    .where('dialogs.id', '=', event.session.dialogId)
    .executeTakeFirst();
  // The dialog was erased meanwhile: there is nothing left to tell.
  if (!dialog) return [];
  const message = event.message ?? null;
  const [botNumber, chat, line, client, session, messageNumber] = await numericIds(db, bot.account_id, [
    { kind: 'bot', id: bot.bot_id },
    { kind: 'dialog', id: event.session.dialogId },
    { kind: 'line', id: event.session.lineId },
    { kind: 'client', id: dialog.client_id },
    { kind: 'session', id: event.session.id },
    ...(message ? [{ kind: 'message' as const, id: message.id }] : []),
  ]);
  const entityId = await chatEntityIdOf(
    db,
    { channelId: dialog.channel_id, clientId: dialog.client_id },
    { line: line!, client: client! },
  );
  const endpoint = `${ctx.publicUrl.value.replace(/\/$/, '')}/rest/`;
  const auth: EventAuth = {
    domain: new URL(endpoint).host,
    client_endpoint: endpoint,
    server_endpoint: endpoint,
    member_id: bot.account_id,
    application_token: applicationToken,
  };
  const ts = Math.floor(ctx.clock.now().getTime() / 1000);
  const chatParams = {
    BOT_ID: botNumber,
    DIALOG_ID: `chat${chat}`,
    CHAT_ID: chat,
    CHAT_TYPE: 'L',
    MESSAGE_TYPE: 'L',
    CHAT_ENTITY_TYPE: 'LINES',
    CHAT_ENTITY_ID: entityId,
    SESSION_ID: session,
    LANGUAGE: dialog.settings.other.language,
  };
  const common = {
    BOT: { [String(botNumber)]: { BOT_ID: botNumber, BOT_CODE: bot.code, AUTH: auth } },
    USER: {
      ID: client,
      NAME: dialog.name,
      FIRST_NAME: dialog.name,
      LAST_NAME: '',
      GENDER: '',
      IS_BOT: 'N',
      IS_CONNECTOR: 'Y',
      IS_NETWORK: 'N',
      IS_EXTRANET: 'Y',
    },
  };
  const build = (name: string, params: Record<string, unknown>): BitrixEvent => ({
    event: name,
    data: { ...common, PARAMS: { ...chatParams, ...params } },
    ts,
    auth,
  });
  const posts: BitrixBotPost[] = [];
  if (message && (event.type === 'message.edited' || event.type === 'message.deleted')) {
    const edited = event.type === 'message.edited';
    const url = edited ? bot.handlers.messageUpdate : bot.handlers.messageDelete;
    if (!url) return [];
    const changed = build(edited ? 'ONIMBOTMESSAGEUPDATE' : 'ONIMBOTMESSAGEDELETE', {
      ...(edited ? { MESSAGE: message.text ?? '' } : {}),
      MESSAGE_ID: messageNumber,
      FROM_USER_ID: client,
      TO_CHAT_ID: chat,
    });
    return [{ url, event: changed.event, body: encodeEvent(changed) }];
  }
  if (event.type === 'session.started') {
    const joined = build('ONIMBOTJOINCHAT', { USER_ID: client });
    posts.push({
      url: bot.handlers.welcome ?? bot.handlers.messageAdd,
      event: joined.event,
      body: encodeEvent(joined),
    });
  }
  const command = message?.text ? await commandOf(ctx, bot, message.text) : null;
  if (message && command) {
    const commandNumber = command.row.id;
    const called = build('ONIMCOMMANDADD', {
      MESSAGE: message.text ?? '',
      MESSAGE_ID: messageNumber,
      FROM_USER_ID: client,
      TO_CHAT_ID: chat,
      SKIP_CONNECTOR: 'N',
    });
    called.data.COMMAND = {
      [String(commandNumber)]: {
        AUTH: auth,
        BOT_ID: botNumber,
        BOT_CODE: bot.code,
        COMMAND: command.row.command,
        COMMAND_ID: commandNumber,
        COMMAND_PARAMS: command.params,
        COMMAND_CONTEXT: 'TEXTAREA',
        MESSAGE_ID: messageNumber,
      },
    };
    posts.push({ url: command.row.handler, event: called.event, body: encodeEvent(called) });
  } else if (message) {
    const added = build('ONIMBOTMESSAGEADD', {
      MESSAGE: message.text ?? '',
      MESSAGE_ID: messageNumber,
      FROM_USER_ID: client,
      TO_CHAT_ID: chat,
      SKIP_CONNECTOR: 'N',
      NO_SESSION_OL: 'N',
    });
    posts.push({ url: bot.handlers.messageAdd, event: added.event, body: encodeEvent(added) });
  }
  return posts;
}

/**
 * A client's `/<command> params` that names one of the bot's registered commands (imbot.command.*):
 * it goes to the bot as ONIMCOMMANDADD, to the command's handler, instead of ONIMBOTMESSAGEADD.
 */
async function commandOf(
  ctx: AppContext,
  bot: BitrixBotRow,
  text: string,
): Promise<{ row: BitrixBotCommandRow; params: string } | null> {
  const match = /^\/(\S{1,64})(?:\s+([\s\S]*))?$/u.exec(text.trim());
  if (!match) return null;
  const row = await ctx.store.db
    .selectFrom('bitrix_bot_commands')
    .selectAll()
    .where('bitrix_bot_id', '=', bot.id)
    .where('command', '=', match[1]!.toLowerCase())
    .executeTakeFirst();
  return row ? { row, params: match[2]?.trim() ?? '' } : null;
}
