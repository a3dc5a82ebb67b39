import type { BotSendInput } from '@openlines/contract';
import { botClose, botSendMessage, botTransfer, botTyping } from '../services/bot-api';
import { createBot, deleteBot, updateBot } from '../services/bots';
import { deleteBotMessage, editBotMessage } from '../services/message-edits';
import { numericId, resolveNumericId } from '../services/numeric-ids';
import type {
  BitrixBotCommandRow,
  BitrixBotHandlers,
  BitrixBotRow,
  BitrixCommandLang,
} from '../store/bitrix-schema';
import type { BotRow } from '../store/schema';
import { argumentError, BitrixError, notFoundError } from './errors';
import { handlerUrl } from './events';
import { appOf, type MethodCall, type MethodHandler } from './method';
import {
  asList,
  isObject,
  optionalFlag,
  optionalId,
  optionalString,
  type Params,
  pick,
  requiredId,
} from './params';

/**
 * imbot.* (v1) and imopenlines.bot.session.*: a chatbot of a Bitrix24 application is one of our
 * external bots (services/bots), so a line's welcome bot (WELCOME_BOT_ID) or no-answer bot can be
 * it, it holds sessions in status `bot`, and it acts through the same bot API functions
 * (services/bot-api). Its events are Bitrix24's (bitrix/bot-events), delivered from the bots'
 * durable queue. Only its application reaches it: another app's BOT_ID is BOT_ID_ERROR.
 */

const BOT_TYPES = ['B', 'O', 'H'] as const;
/** Our bot API's limit on a message (contract BotSendBody). */
const MAX_TEXT = 4_000;

const botNotFound = () => new BitrixError('BOT_ID_ERROR', 'Bot not found', 400);

interface AppBot {
  bitrix: BitrixBotRow;
  bot: BotRow;
  number: number;
}

async function botOf(call: MethodCall): Promise<AppBot> {
  const app = appOf(call);
  const number = optionalId(call.params, 'BOT_ID');
  if (number === undefined) throw botNotFound();
  const { db } = call.ctx.store;
  const id = await resolveNumericId(db, call.caller.actor.accountId, 'bot', number);
  const row = id
    ? await db
        .selectFrom('bitrix_bots')
        .innerJoin('bots', 'bots.id', 'bitrix_bots.bot_id')
        .selectAll('bitrix_bots')
        .where('bitrix_bots.bot_id', '=', id)
        .where('bitrix_bots.app_id', '=', app.id)
        .executeTakeFirst()
    : undefined;
  if (!row) throw botNotFound();
  const bot = await db.selectFrom('bots').selectAll().where('id', '=', row.bot_id).executeTakeFirstOrThrow();
  return { bitrix: row, bot, number };
}

function url(params: Params, name: string): string | null {
  const value = optionalString(params, name, 2048);
  if (value === undefined) return null;
  try {
    return handlerUrl(value);
  } catch (error) {
    throw new BitrixError(`${name}_ERROR`, `${name}: ${(error as BitrixError).description}`);
  }
}

/** EVENT_HANDLER sets every handler; EVENT_MESSAGE_ADD, EVENT_WELCOME_MESSAGE, … each one. */
function handlersOf(params: Params, current: BitrixBotHandlers | null): BitrixBotHandlers {
  const all = url(params, 'EVENT_HANDLER');
  const messageAdd = url(params, 'EVENT_MESSAGE_ADD') ?? all ?? current?.messageAdd;
  if (!messageAdd)
    throw new BitrixError('EVENT_MESSAGE_ADD_ERROR', 'EVENT_MESSAGE_ADD (or EVENT_HANDLER) is required');
  const pickUrl = (name: string, was: string | null | undefined) => url(params, name) ?? all ?? was ?? null;
  return {
    messageAdd,
    welcome: pickUrl('EVENT_WELCOME_MESSAGE', current?.welcome),
    botDelete: pickUrl('EVENT_BOT_DELETE', current?.botDelete),
    messageUpdate: pickUrl('EVENT_MESSAGE_UPDATE', current?.messageUpdate),
    messageDelete: pickUrl('EVENT_MESSAGE_DELETE', current?.messageDelete),
  };
}

const PROPERTY_FIELDS = [
  'NAME',
  'LAST_NAME',
  'COLOR',
  'EMAIL',
  'PERSONAL_BIRTHDAY',
  'WORK_POSITION',
  'PERSONAL_WWW',
  'PERSONAL_GENDER',
  'PERSONAL_PHOTO',
];

/** PROPERTIES → the bot's name (NAME LAST_NAME); the other documented fields are accepted, not kept. */
function nameOf(properties: unknown, required: boolean): string | undefined {
  if (properties === undefined && !required) return undefined;
  if (!isObject(properties))
    throw new BitrixError('NAME_ERROR', 'PROPERTIES[NAME] or PROPERTIES[LAST_NAME] is required');
  const unknown = Object.keys(properties).find((key) => !PROPERTY_FIELDS.includes(key));
  if (unknown) throw argumentError(`PROPERTIES[${unknown}] is not a bot property`);
  const part = (key: string) => {
    const value = properties[key];
    if (value === undefined || value === '') return '';
    if (typeof value !== 'string') throw argumentError(`PROPERTIES[${key}] must be a string`);
    return value.trim();
  };
  const name = [part('NAME'), part('LAST_NAME')].filter(Boolean).join(' ');
  if (!name) {
    if (!required) return undefined;
    throw new BitrixError('NAME_ERROR', 'PROPERTIES[NAME] or PROPERTIES[LAST_NAME] is required');
  }
  if (name.length > 100) throw new BitrixError('NAME_ERROR', 'The bot name must be at most 100 characters');
  return name;
}

function typeOf(params: Params): string {
  const type = (optionalString(params, 'TYPE', 1) ?? 'B').toUpperCase();
  if (!(BOT_TYPES as readonly string[]).includes(type)) {
    throw argumentError('TYPE must be B, O or H (a supervisor bot, S, is not supported by this server)');
  }
  return type;
}

function codeOf(value: string | undefined): string {
  if (!value) throw new BitrixError('CODE_ERROR', 'CODE is required');
  if (!/^[\w.-]{1,100}$/.test(value))
    throw new BitrixError('CODE_ERROR', 'CODE may hold letters, digits, _ . - (at most 100)');
  return value;
}

const register: MethodHandler = async (call) => {
  const app = appOf(call);
  const { params } = call;
  const code = codeOf(optionalString(params, 'CODE', 200));
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  // Registering the same CODE again answers the bot already registered, as Bitrix24 does.
  const existing = await db
    .selectFrom('bitrix_bots')
    .select('bot_id')
    .where('app_id', '=', app.id)
    .where('code', '=', code)
    .executeTakeFirst();
  if (existing) return { result: await numericId(db, accountId, 'bot', existing.bot_id) };
  const type = typeOf(params);
  const openline = optionalFlag(params, 'OPENLINE') ?? type === 'O';
  const handlers = handlersOf(params, null);
  const name = nameOf(pick(params, 'PROPERTIES'), true)!;
  const clientId = optionalString(params, 'CLIENT_ID', 200) ?? null;
  const { bot } = await createBot(
    call.ctx,
    call.caller.actor,
    { kind: 'external', name, webhookUrl: handlers.messageAdd },
    async (tx, row) => {
      await tx
        .insertInto('bitrix_bots')
        .values({
          account_id: accountId,
          app_id: app.id,
          bot_id: row.id,
          code,
          type,
          openline,
          handlers: JSON.stringify(handlers),
          client_id: clientId,
          created_at: call.ctx.clock.now(),
        })
        .execute();
    },
  );
  return { result: await numericId(db, accountId, 'bot', bot.id) };
};

const unregister: MethodHandler = async (call) => {
  const { bot } = await botOf(call);
  await deleteBot(call.ctx, call.caller.actor, bot.id);
  return { result: true };
};

const update: MethodHandler = async (call) => {
  const { bitrix, bot } = await botOf(call);
  const fields = pick(call.params, 'FIELDS');
  if (!isObject(fields)) throw argumentError('FIELDS must be an object');
  const code = pick(fields, 'CODE') === undefined ? bitrix.code : codeOf(optionalString(fields, 'CODE', 200));
  const handlers = handlersOf(fields, bitrix.handlers);
  const name = nameOf(pick(fields, 'PROPERTIES'), false);
  const clientId = optionalString(fields, 'CLIENT_ID', 200);
  await updateBot(
    call.ctx,
    call.caller.actor,
    bot.id,
    { ...(name ? { name } : {}), webhookUrl: handlers.messageAdd },
    async (tx) => {
      const clash = await tx
        .selectFrom('bitrix_bots')
        .select('id')
        .where('app_id', '=', bitrix.app_id)
        .where('code', '=', code)
        .where('id', '!=', bitrix.id)
        .executeTakeFirst();
      if (clash) throw new BitrixError('CODE_ERROR', `Another bot of this application has CODE ${code}`);
      await tx
        .updateTable('bitrix_bots')
        .set({
          code,
          handlers: JSON.stringify(handlers),
          ...(clientId !== undefined ? { client_id: clientId } : {}),
        })
        .where('id', '=', bitrix.id)
        .execute();
    },
  );
  return { result: true };
};

const list: MethodHandler = async (call) => {
  const app = appOf(call);
  const rows = await call.ctx.store.db
    .selectFrom('bitrix_bots')
    .innerJoin('bots', 'bots.id', 'bitrix_bots.bot_id')
    .select(['bots.id', 'bots.name', 'bitrix_bots.code', 'bitrix_bots.type', 'bitrix_bots.openline'])
    .where('bitrix_bots.app_id', '=', app.id)
    .orderBy('bitrix_bots.id')
    .execute();
  const result: Record<string, unknown> = {};
  for (const row of rows) {
    const id = await numericId(call.ctx.store.db, call.caller.actor.accountId, 'bot', row.id);
    result[String(id)] = {
      ID: id,
      NAME: row.name,
      CODE: row.code,
      TYPE: row.type,
      OPENLINE: row.openline ? 'Y' : 'N',
    };
  }
  return { result };
};

// ----- A bot in a chat -----------------------------------------------------------------------------

/** `chat<id>` (or CHAT_ID): our dialog. A private chat with a user (`DIALOG_ID=<user id>`) is not served. */
async function dialogOf(call: MethodCall, name: 'DIALOG_ID' | 'CHAT_ID'): Promise<string> {
  let number: number | undefined;
  if (name === 'CHAT_ID') number = requiredId(call.params, 'CHAT_ID');
  else {
    const value = optionalString(call.params, 'DIALOG_ID', 50);
    if (!value) throw argumentError('DIALOG_ID is required');
    const match = /^chat(\d{1,10})$/.exec(value);
    if (!match) throw argumentError('DIALOG_ID must be chat<id>: bots here answer open-line chats only');
    number = Number(match[1]);
  }
  const id = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'dialog', number);
  if (!id) throw notFoundError(`Chat ${number}`);
  return id;
}

/** The chat's latest session that this bot holds or held. */
async function sessionOfBot(
  call: MethodCall,
  dialogId: string,
  botIds: string[],
): Promise<{ id: string; botId: string }> {
  const row =
    botIds.length > 0
      ? await call.ctx.store.db
          .selectFrom('sessions')
          .select(['id', 'bot_id'])
          .where('account_id', '=', call.caller.actor.accountId)
          .where('dialog_id', '=', dialogId)
          .where('bot_id', 'in', botIds)
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst()
      : undefined;
  if (!row?.bot_id) throw notFoundError('A session of this bot in the chat');
  return { id: row.id, botId: row.bot_id };
}

function messageOf(params: Params, name: string): BotSendInput {
  const text = optionalString(params, name, MAX_TEXT);
  if (!text) throw argumentError(`${name} is required`);
  for (const unsupported of ['ATTACH', 'MENU']) {
    if (pick(params, unsupported) !== undefined)
      throw argumentError(`${unsupported} is not supported by this server; send MESSAGE (and KEYBOARD)`);
  }
  if (optionalFlag(params, 'SKIP_CONNECTOR') === true)
    throw argumentError(
      'SKIP_CONNECTOR=Y is not supported: a bot message in an open line goes to the client',
    );
  const keyboard = pick(params, 'KEYBOARD');
  if (keyboard === undefined) return { text };
  const buttons = (asList(keyboard) ?? []).flatMap((item, index) => {
    if (!isObject(item)) throw argumentError(`KEYBOARD[${index}] must be an object`);
    // A line break of Bitrix24's keyboard carries no button.
    if (item.TYPE === 'NEWLINE') return [];
    const title = item.TEXT;
    if (typeof title !== 'string' || title === '' || title.length > 64)
      throw argumentError(`KEYBOARD[${index}][TEXT] must be 1 to 64 characters`);
    return [{ title }];
  });
  if (!asList(keyboard)) throw argumentError('KEYBOARD must be a list of buttons');
  return buttons.length > 0 ? { text, buttons } : { text };
}

const messageAdd: MethodHandler = async (call) => {
  const { bot } = await botOf(call);
  const input = messageOf(call.params, 'MESSAGE');
  const session = await sessionOfBot(call, await dialogOf(call, 'DIALOG_ID'), [bot.id]);
  const message = await botSendMessage(call.ctx, bot, session.id, input);
  return { result: await numericId(call.ctx.store.db, bot.account_id, 'message', message.id) };
};

/** The bot's own message by MESSAGE_ID; another author's message, or another account's, is not found. */
async function ownMessageOf(call: MethodCall): Promise<string> {
  const number = requiredId(call.params, 'MESSAGE_ID');
  const id = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'message', number);
  if (!id) throw notFoundError(`Message ${number}`);
  return id;
}

/** imbot.message.update: the bot corrects its message, as an operator's edit (services/message-edits). */
const messageUpdate: MethodHandler = async (call) => {
  const { bot } = await botOf(call);
  for (const unsupported of ['ATTACH', 'KEYBOARD', 'MENU']) {
    if (pick(call.params, unsupported) !== undefined)
      throw argumentError(`${unsupported} cannot be changed by this server; send MESSAGE`);
  }
  const text = optionalString(call.params, 'MESSAGE', MAX_TEXT);
  if (!text) throw argumentError('MESSAGE is required (imbot.message.delete removes a message)');
  await editBotMessage(call.ctx, bot, await ownMessageOf(call), text);
  return { result: true };
};

/** imbot.message.delete: the message stays in the timeline as deleted, and the channel removes its copy. */
const messageDelete: MethodHandler = async (call) => {
  const { bot } = await botOf(call);
  optionalFlag(call.params, 'COMPLETE');
  await deleteBotMessage(call.ctx, bot, await ownMessageOf(call));
  return { result: true };
};

const sendTyping: MethodHandler = async (call) => {
  const { bot } = await botOf(call);
  const session = await sessionOfBot(call, await dialogOf(call, 'DIALOG_ID'), [bot.id]);
  await botTyping(call.ctx, bot, session.id);
  return { result: true };
};

// ----- imbot.command.*: slash commands a client types in a chat the bot holds -------------------

const commandNotFound = () => new BitrixError('COMMAND_ID_ERROR', 'Command not found', 400);

function commandName(value: string | undefined): string {
  const command = value?.replace(/^\//, '').toLowerCase();
  if (!command) throw new BitrixError('COMMAND_ERROR', 'COMMAND is required');
  if (!/^[\p{L}\p{N}_.-]{1,64}$/u.test(command))
    throw new BitrixError('COMMAND_ERROR', 'COMMAND may hold letters, digits, _ . - (at most 64), no spaces');
  return command;
}

/** LANG: `[{LANGUAGE_ID, TITLE, PARAMS}]`, as registered (shown nowhere yet, answered back). */
function langOf(value: unknown): BitrixCommandLang[] {
  if (value === undefined) return [];
  const list = asList(value);
  if (!list || list.length > 20)
    throw argumentError('LANG must be a list of at most 20 {LANGUAGE_ID, TITLE, PARAMS}');
  return list.map((item, index) => {
    if (!isObject(item)) throw argumentError(`LANG[${index}] must be an object`);
    const field = (name: string, max: number) => {
      const v = item[name];
      if (v === undefined || v === '') return '';
      if (typeof v !== 'string' || v.length > max)
        throw argumentError(`LANG[${index}][${name}] must be a string of at most ${max} characters`);
      return v;
    };
    const language = field('LANGUAGE_ID', 10);
    if (!language) throw argumentError(`LANG[${index}][LANGUAGE_ID] is required`);
    return { language, title: field('TITLE', 200), params: field('PARAMS', 200) };
  });
}

function commandHandler(params: Params, required: boolean): string | undefined {
  const value = optionalString(params, 'EVENT_COMMAND_ADD', 2048);
  if (value === undefined) {
    if (required)
      throw new BitrixError('EVENT_COMMAND_ADD', 'EVENT_COMMAND_ADD (the handler URL) is required');
    return undefined;
  }
  try {
    return handlerUrl(value);
  } catch (error) {
    throw new BitrixError('EVENT_COMMAND_ADD', `EVENT_COMMAND_ADD: ${(error as BitrixError).description}`);
  }
}

/** A command of one of this application's bots, by COMMAND_ID; anything else is COMMAND_ID_ERROR. */
async function commandOf(call: MethodCall): Promise<{ command: BitrixBotCommandRow; bot: BotRow }> {
  const app = appOf(call);
  const id = optionalId(call.params, 'COMMAND_ID');
  if (id === undefined) throw commandNotFound();
  const row = await call.ctx.store.db
    .selectFrom('bitrix_bot_commands')
    .innerJoin('bitrix_bots', 'bitrix_bots.id', 'bitrix_bot_commands.bitrix_bot_id')
    .selectAll('bitrix_bot_commands')
    .select('bitrix_bots.bot_id as botUuid')
    .where('bitrix_bot_commands.id', '=', id)
    .where('bitrix_bot_commands.account_id', '=', call.caller.actor.accountId)
    .where('bitrix_bots.app_id', '=', app.id)
    .executeTakeFirst();
  if (!row) throw commandNotFound();
  const bot = await call.ctx.store.db
    .selectFrom('bots')
    .selectAll()
    .where('id', '=', row.botUuid)
    .executeTakeFirstOrThrow();
  const { botUuid: _bot, ...command } = row;
  return { command, bot };
}

/** imbot.command.register: the same COMMAND of the same bot again answers the command already registered. */
const commandRegister: MethodHandler = async (call) => {
  const { bitrix } = await botOf(call);
  const command = commandName(optionalString(call.params, 'COMMAND', 100));
  const handler = commandHandler(call.params, true)!;
  const lang = langOf(pick(call.params, 'LANG'));
  const { db } = call.ctx.store;
  const inserted = await db
    .insertInto('bitrix_bot_commands')
    .values({
      account_id: bitrix.account_id,
      bitrix_bot_id: bitrix.id,
      command,
      common: optionalFlag(call.params, 'COMMON') ?? false,
      hidden: optionalFlag(call.params, 'HIDDEN') ?? false,
      handler,
      lang: JSON.stringify(lang),
      client_id: optionalString(call.params, 'CLIENT_ID', 200) ?? null,
      created_at: call.ctx.clock.now(),
    })
    .onConflict((oc) => oc.columns(['bitrix_bot_id', 'command']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { result: inserted.id };
  const existing = await db
    .selectFrom('bitrix_bot_commands')
    .select('id')
    .where('bitrix_bot_id', '=', bitrix.id)
    .where('command', '=', command)
    .executeTakeFirstOrThrow();
  return { result: existing.id };
};

const commandUnregister: MethodHandler = async (call) => {
  const { command } = await commandOf(call);
  await call.ctx.store.db.deleteFrom('bitrix_bot_commands').where('id', '=', command.id).execute();
  return { result: true };
};

const commandUpdate: MethodHandler = async (call) => {
  const { command } = await commandOf(call);
  const fields = pick(call.params, 'FIELDS');
  if (!isObject(fields)) throw argumentError('FIELDS must be an object');
  const handler = commandHandler(fields, false);
  const lang = pick(fields, 'LANG');
  const hidden = optionalFlag(fields, 'HIDDEN');
  const common = optionalFlag(fields, 'COMMON');
  const clientId = optionalString(fields, 'CLIENT_ID', 200);
  await call.ctx.store.db
    .updateTable('bitrix_bot_commands')
    .set({
      ...(handler ? { handler } : {}),
      ...(lang !== undefined ? { lang: JSON.stringify(langOf(lang)) } : {}),
      ...(hidden !== undefined ? { hidden } : {}),
      ...(common !== undefined ? { common } : {}),
      ...(clientId !== undefined ? { client_id: clientId } : {}),
    })
    .where('id', '=', command.id)
    .execute();
  return { result: true };
};

/** imbot.command.answer: the bot answers the command's message in its chat (a session it holds). */
const commandAnswer: MethodHandler = async (call) => {
  const { bot } = await commandOf(call);
  const input = messageOf(call.params, 'MESSAGE');
  const number = requiredId(call.params, 'MESSAGE_ID');
  const { db } = call.ctx.store;
  const messageId = await resolveNumericId(db, call.caller.actor.accountId, 'message', number);
  const message = messageId
    ? await db
        .selectFrom('messages')
        .select('dialog_id')
        .where('id', '=', messageId)
        .where('account_id', '=', call.caller.actor.accountId)
        .executeTakeFirst()
    : undefined;
  if (!message) throw notFoundError(`Message ${number}`);
  const session = await sessionOfBot(call, message.dialog_id, [bot.id]);
  const sent = await botSendMessage(call.ctx, bot, session.id, input);
  return { result: await numericId(db, bot.account_id, 'message', sent.id) };
};

// ----- imopenlines.bot.session.*: the app's bot that holds the chat -----------------------------

async function heldByAppBot(call: MethodCall): Promise<{ bot: BotRow; sessionId: string }> {
  const app = appOf(call);
  const dialogId = await dialogOf(call, 'CHAT_ID');
  const bots = await call.ctx.store.db
    .selectFrom('bitrix_bots')
    .select('bot_id')
    .where('app_id', '=', app.id)
    .execute();
  const session = await sessionOfBot(
    call,
    dialogId,
    bots.map((row) => row.bot_id),
  );
  const bot = await call.ctx.store.db
    .selectFrom('bots')
    .selectAll()
    .where('id', '=', session.botId)
    .executeTakeFirstOrThrow();
  return { bot, sessionId: session.id };
}

const sessionOperator: MethodHandler = async (call) => {
  const { bot, sessionId } = await heldByAppBot(call);
  await botTransfer(call.ctx, bot, sessionId, { to: 'queue' });
  return { result: true };
};

const sessionTransfer: MethodHandler = async (call) => {
  const { bot, sessionId } = await heldByAppBot(call);
  if (optionalFlag(call.params, 'LEAVE') === false)
    throw argumentError('LEAVE=N is not supported: the bot leaves the session it transfers');
  const user = optionalId(call.params, 'USER_ID');
  const queue = optionalId(call.params, 'QUEUE_ID');
  if ((user === undefined) === (queue === undefined))
    throw argumentError('Give USER_ID (an operator) or QUEUE_ID (a line), one of them');
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  if (user !== undefined) {
    const operatorId = await resolveNumericId(db, accountId, 'user', user);
    if (!operatorId) throw notFoundError(`User ${user}`);
    await botTransfer(call.ctx, bot, sessionId, { to: 'operator', operatorId });
  } else {
    const lineId = await resolveNumericId(db, accountId, 'line', queue!);
    if (!lineId) throw notFoundError(`Line ${queue}`);
    await botTransfer(call.ctx, bot, sessionId, { to: 'line', lineId });
  }
  return { result: true };
};

const sessionFinish: MethodHandler = async (call) => {
  const { bot, sessionId } = await heldByAppBot(call);
  await botClose(call.ctx, bot, sessionId);
  return { result: true };
};

const sessionMessage: MethodHandler = async (call) => {
  const name = optionalString(call.params, 'NAME', 20);
  if (name !== undefined && name !== 'WELCOME' && name !== 'DEFAULT')
    throw argumentError('NAME must be WELCOME or DEFAULT');
  const input = messageOf(call.params, 'MESSAGE');
  const { bot, sessionId } = await heldByAppBot(call);
  await botSendMessage(call.ctx, bot, sessionId, input);
  return { result: true };
};

export const IMBOT_METHODS: Record<string, MethodHandler> = {
  'imbot.register': register,
  'imbot.unregister': unregister,
  'imbot.update': update,
  'imbot.bot.list': list,
  'imbot.message.add': messageAdd,
  'imbot.message.update': messageUpdate,
  'imbot.message.delete': messageDelete,
  'imbot.chat.sendtyping': sendTyping,
  'imbot.command.register': commandRegister,
  'imbot.command.unregister': commandUnregister,
  'imbot.command.update': commandUpdate,
  'imbot.command.answer': commandAnswer,
  'imopenlines.bot.session.operator': sessionOperator,
  'imopenlines.bot.session.transfer': sessionTransfer,
  'imopenlines.bot.session.finish': sessionFinish,
  'imopenlines.bot.session.message.send': sessionMessage,
};
