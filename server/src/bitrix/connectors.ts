import { randomUUID } from 'node:crypto';
import type { Bitrix24InboundPayload } from '../channels/bitrix24/connector';
import { CONNECTOR_EVENTS } from '../channels/bitrix24/events';
import { clientKey } from '../channels/bitrix24/identity';
import type { Bitrix24ChannelSettings } from '../channels/bitrix24/settings';
import { connectorKinds, findConnector } from '../channels/registry';
import type { InboundMessage } from '../channels/types';
import { statesBefore } from '../core/delivery';
import { authorize } from '../services/actor';
import { receiveDelivery } from '../services/channel-inbound';
import { emitMessage, touchDialog } from '../services/dialog-events';
import { deleteClientMessage } from '../services/message-edits';
import { presentMessage } from '../services/message-presenter';
import { numericId, numericIds, resolveNumericId } from '../services/numeric-ids';
import { sealJson } from '../services/secret-box';
import { runInTransaction, type Tx } from '../services/transaction';
import type { BitrixConnectorRow } from '../store/bitrix-schema';
import type { ChannelRow, MessageRow } from '../store/schema';
import { argumentError, BitrixError, notFoundError, toBitrixError } from './errors';
import { appOf, type MethodCall, type MethodHandler } from './method';
import {
  asList,
  isObject,
  optionalFlag,
  optionalString,
  type Params,
  pick,
  requiredId,
  requiredString,
} from './params';

/**
 * imconnector.*: an application registers a connector, activates it on lines (each activation is a
 * channel of kind `bitrix24`, channels/bitrix24), sends its clients' messages in through the one
 * inbound path, and confirms delivery of the operators' messages it got as events.
 */

/** The largest MESSAGES of one call (Bitrix24 documents none; this keeps one call bounded). */
const MAX_MESSAGES = 50;

const channelKey = (connectorId: number, lineId: string) => `c${connectorId}:${lineId}`;

function connectorCode(value: string): string {
  const code = value.toLowerCase();
  if (!/^[a-z0-9_-]{1,64}$/.test(code)) {
    throw argumentError('ID may hold only letters, digits, _ and - (at most 64; "." is not allowed)');
  }
  return code;
}

async function findConnectorRow(call: MethodCall, code: string): Promise<BitrixConnectorRow> {
  const app = appOf(call);
  const row = await call.ctx.store.db
    .selectFrom('bitrix_connectors')
    .selectAll()
    .where('account_id', '=', call.caller.actor.accountId)
    .where('app_id', '=', app.id)
    .where('code', '=', connectorCode(code))
    .executeTakeFirst();
  if (!row)
    throw new BitrixError('CONNECTOR_NOT_FOUND', `Connector ${code} is not registered by this application`);
  return row;
}

async function lineIdOf(call: MethodCall, numeric: number): Promise<string> {
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  const lineId = await resolveNumericId(db, accountId, 'line', numeric);
  const line = lineId
    ? await db
        .selectFrom('lines')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', lineId)
        .executeTakeFirst()
    : undefined;
  if (!line) throw notFoundError(`Line ${numeric}`);
  return line.id;
}

async function channelOf(
  call: MethodCall,
  connector: BitrixConnectorRow,
  lineId: string,
): Promise<ChannelRow | undefined> {
  return call.ctx.store.db
    .selectFrom('channels')
    .selectAll()
    .where('kind', '=', 'bitrix24')
    .where('external_key', '=', channelKey(connector.id, lineId))
    .where('account_id', '=', call.caller.actor.accountId)
    .executeTakeFirst();
}

/** The app's bound handlers as a connector channel keeps them: ONIMCONNECTORMESSAGEADD's, and the others' by event. */
async function boundHandlers(
  tx: Tx,
  appId: number,
): Promise<Pick<Bitrix24ChannelSettings, 'handlers' | 'eventHandlers'>> {
  const rows = await tx
    .selectFrom('bitrix_event_handlers')
    .select(['event', 'handler'])
    .where('app_id', '=', appId)
    .where('event', 'in', Object.values(CONNECTOR_EVENTS))
    .orderBy('id')
    .execute();
  const handlers: string[] = [];
  const eventHandlers: Record<string, string[]> = {};
  for (const row of rows) {
    if (row.event === CONNECTOR_EVENTS.messageAdd) handlers.push(row.handler);
    else eventHandlers[row.event] = [...(eventHandlers[row.event] ?? []), row.handler];
  }
  return { handlers, eventHandlers };
}

/** After event.bind/unbind: the app's connector channels deliver to the handlers bound now. */
export async function syncChannelHandlers(tx: Tx, accountId: string, appId: number): Promise<void> {
  const handlers = await boundHandlers(tx, appId);
  const channels = await tx
    .selectFrom('channels')
    .select(['id', 'settings'])
    .where('account_id', '=', accountId)
    .where('kind', '=', 'bitrix24')
    .execute();
  for (const channel of channels) {
    const settings = channel.settings as Bitrix24ChannelSettings;
    if (settings.appId !== appId) continue;
    await tx
      .updateTable('channels')
      .set({ settings: JSON.stringify({ ...settings, ...handlers }) })
      .where('id', '=', channel.id)
      .execute();
  }
}

const register: MethodHandler = async (call) => {
  const app = appOf(call);
  authorize(call.caller.actor, 'manageLines');
  const rawId = optionalString(call.params, 'ID', 200);
  if (!rawId) return { result: { result: false, error: 'CONNECTOR_ID_REQUIRED' } };
  const name = optionalString(call.params, 'NAME', 200);
  if (!name) return { result: { result: false, error: 'NAME_REQUIRED' } };
  if (pick(call.params, 'ICON') === undefined) return { result: { result: false, error: 'ICON_REQUIRED' } };
  const code = connectorCode(rawId);
  const placement = optionalString(call.params, 'PLACEMENT_HANDLER', 2048) ?? null;
  const chatGroup = optionalFlag(call.params, 'CHAT_GROUP') ?? false;
  const { accountId } = call.caller.actor;
  await runInTransaction(call.ctx, async ({ tx }) => {
    const existing = await tx
      .selectFrom('bitrix_connectors')
      .select(['id', 'app_id'])
      .where('account_id', '=', accountId)
      .where('code', '=', code)
      .forUpdate()
      .executeTakeFirst();
    if (existing && existing.app_id !== app.id) {
      throw argumentError(`Connector ${code} is registered by another application`);
    }
    if (existing) {
      await tx
        .updateTable('bitrix_connectors')
        .set({ name, placement_handler: placement, chat_group: chatGroup })
        .where('id', '=', existing.id)
        .execute();
    } else {
      await tx
        .insertInto('bitrix_connectors')
        .values({
          account_id: accountId,
          app_id: app.id,
          code,
          name,
          chat_group: chatGroup,
          placement_handler: placement,
          created_at: call.ctx.clock.now(),
        })
        .execute();
    }
  });
  return { result: { result: true } };
};

const unregister: MethodHandler = async (call) => {
  authorize(call.caller.actor, 'manageLines');
  const connector = await findConnectorRow(call, requiredString(call.params, 'ID', 200));
  await runInTransaction(call.ctx, async ({ tx, events }) => {
    const channels = await tx
      .updateTable('channels')
      .set({ status: 'disconnected' })
      .where('account_id', '=', connector.account_id)
      .where('kind', '=', 'bitrix24')
      .where('external_key', 'like', `c${connector.id}:%`)
      .returning('id')
      .execute();
    await tx.deleteFrom('bitrix_connectors').where('id', '=', connector.id).execute();
    for (const channel of channels) {
      events.emit(
        connector.account_id,
        'channel.changed',
        { channelId: channel.id, deleted: false },
        { permission: 'manageLines' },
      );
    }
  });
  return { result: true };
};

const activate: MethodHandler = async (call) => {
  const app = appOf(call);
  authorize(call.caller.actor, 'manageLines');
  const connector = await findConnectorRow(call, requiredString(call.params, 'CONNECTOR', 200));
  const line = requiredId(call.params, 'LINE');
  const active = optionalFlag(call.params, 'ACTIVE');
  if (active === undefined) throw argumentError('ACTIVE is required (1 or 0)');
  const lineId = await lineIdOf(call, line);
  const { ctx } = call;
  const { accountId } = call.caller.actor;
  await runInTransaction(ctx, async ({ tx, events }) => {
    const key = channelKey(connector.id, lineId);
    const existing = await tx
      .selectFrom('channels')
      .selectAll()
      .where('kind', '=', 'bitrix24')
      .where('external_key', '=', key)
      .forUpdate()
      .executeTakeFirst();
    const handlers = await boundHandlers(tx, app.id);
    let channelId: string;
    if (existing) {
      channelId = existing.id;
      const settings = {
        ...(existing.settings as Bitrix24ChannelSettings),
        ...handlers,
        clientEndpoint: clientEndpoint(call),
      };
      await tx
        .updateTable('channels')
        .set({
          status: active ? 'connected' : 'disconnected',
          line_id: lineId,
          settings: JSON.stringify(settings),
          secrets: sealJson(ctx.encryptionKey, { applicationToken: app.applicationToken }, existing.id),
        })
        .where('id', '=', existing.id)
        .execute();
    } else if (active) {
      channelId = randomUUID();
      const settings: Bitrix24ChannelSettings = {
        appId: app.id,
        connector: connector.code,
        line,
        clientEndpoint: clientEndpoint(call),
        ...handlers,
      };
      await tx
        .insertInto('channels')
        .values({
          id: channelId,
          account_id: accountId,
          line_id: lineId,
          kind: 'bitrix24',
          name: connector.name,
          status: 'connected',
          settings: JSON.stringify(settings),
          secrets: sealJson(ctx.encryptionKey, { applicationToken: app.applicationToken }, channelId),
          inbound_token_hash: null,
          external_key: key,
          created_at: ctx.clock.now(),
        })
        .execute();
    } else {
      return;
    }
    events.emit(accountId, 'channel.changed', { channelId, deleted: false }, { permission: 'manageLines' });
  });
  return { result: true };
};

function clientEndpoint(call: MethodCall): string {
  return `${call.ctx.publicUrl.value.replace(/\/$/, '')}/rest/`;
}

const status: MethodHandler = async (call) => {
  const connector = await findConnectorRow(call, requiredString(call.params, 'CONNECTOR', 200));
  const line = requiredId(call.params, 'LINE');
  const channel = await channelOf(call, connector, await lineIdOf(call, line));
  return {
    result: {
      LINE: line,
      CONNECTOR: connector.code,
      ERROR: Boolean(channel?.failure),
      CONFIGURED: Boolean(channel),
      STATUS: channel?.status === 'connected',
    },
  };
};

const list: MethodHandler = async (call) => {
  appOf(call);
  const rows = await call.ctx.store.db
    .selectFrom('bitrix_connectors')
    .select(['code', 'name'])
    .where('account_id', '=', call.caller.actor.accountId)
    .orderBy('id')
    .execute();
  const result: Record<string, string> = {};
  for (const kind of connectorKinds()) if (kind !== 'bitrix24') result[kind] = findConnector(kind)!.title;
  for (const row of rows) result[row.code] = row.name;
  return { result };
};

async function activeChannel(
  call: MethodCall,
): Promise<{ channel: ChannelRow; connector: BitrixConnectorRow; line: number }> {
  const connector = await findConnectorRow(
    call,
    requiredString(call.params, 'CONNECTOR', 200, 'ERROR_ARGUMENT'),
  );
  const line = requiredId(call.params, 'LINE');
  const lineId = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'line', line);
  const channel = lineId ? await channelOf(call, connector, lineId) : undefined;
  if (channel?.status !== 'connected' || channel.line_id !== lineId) {
    throw new BitrixError('NOT_ACTIVE_LINE', `The connector is not active on line ${line}`);
  }
  return { channel, connector, line };
}

const dataSet: MethodHandler = async (call) => {
  authorize(call.caller.actor, 'manageLines');
  const { channel } = await activeChannel(call);
  const data = pick(call.params, 'DATA');
  if (!isObject(data)) throw argumentError('DATA must be an object');
  const stored: Record<string, string> = {};
  for (const key of ['id', 'url', 'url_im', 'name'] as const) {
    const value = data[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > 2048)
      throw argumentError(`DATA[${key}] must be a string of at most 2048 characters`);
    stored[key] = value;
  }
  const unknown = Object.keys(data).filter((key) => !['id', 'url', 'url_im', 'name'].includes(key));
  if (unknown.length > 0)
    throw argumentError(`DATA[${unknown[0]}] is not a connector data field (id, url, url_im, name)`);
  await call.ctx.store.db
    .updateTable('channels')
    .set({ settings: JSON.stringify({ ...(channel.settings as Bitrix24ChannelSettings), data: stored }) })
    .where('id', '=', channel.id)
    .execute();
  return { result: true };
};

// ----- Messages ---------------------------------------------------------------------------------

function messagesOf(params: Params): unknown[] {
  const messages = asList(pick(params, 'MESSAGES'));
  if (!messages || messages.length === 0) throw argumentError('MESSAGES must be a non-empty list');
  if (messages.length > MAX_MESSAGES)
    throw argumentError(`MESSAGES may hold at most ${MAX_MESSAGES} elements`);
  return messages;
}

function text(value: unknown, what: string, maxLength: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw argumentError(`${what} must be a string`);
  if (value.length > maxLength) throw argumentError(`${what} must be at most ${maxLength} characters`);
  return value;
}

/** One MESSAGES element → our inbound message; a wrong shape is this element's ERROR_ARGUMENT. */
export function inboundOf(element: unknown, index: number): { message: InboundMessage; chatId: string } {
  const at = `MESSAGES[${index}]`;
  if (!isObject(element)) throw argumentError(`${at} must be an object`);
  const { user, message, chat } = element;
  if (!isObject(user)) throw argumentError(`${at}[user] is required`);
  if (!isObject(message)) throw argumentError(`${at}[message] is required`);
  if (!isObject(chat)) throw argumentError(`${at}[chat] is required`);
  const userId = text(user.id, `${at}[user][id]`, 200);
  if (!userId) throw argumentError(`${at}[user][id] is required`);
  const chatId = text(chat.id, `${at}[chat][id]`, 200);
  if (!chatId) throw argumentError(`${at}[chat][id] is required`);
  const body = text(message.text, `${at}[message][text]`, 20_000);
  if (message.files !== undefined) {
    throw argumentError(`${at}[message][files]: files are not supported by this server yet; send text`);
  }
  if (!body) throw argumentError(`${at}[message][text] is required`);
  const name = [
    text(user.name, `${at}[user][name]`, 100),
    text(user.last_name, `${at}[user][last_name]`, 100),
  ]
    .filter(Boolean)
    .join(' ');
  const externalId = text(message.id, `${at}[message][id]`, 200) ?? `generated:${randomUUID()}`;
  const inbound: InboundMessage = { externalId, user: { id: clientKey(chatId, userId) }, text: body };
  if (name) inbound.user.name = name;
  const email = text(user.email, `${at}[user][email]`, 254);
  if (email) inbound.user.email = email;
  const phone = text(user.phone, `${at}[user][phone]`, 50);
  if (phone) inbound.user.phone = phone;
  const picture = isObject(user.picture)
    ? text(user.picture.url, `${at}[user][picture][url]`, 2048)
    : undefined;
  if (picture && /^https?:\/\//.test(picture)) inbound.user.avatarUrl = picture;
  return { message: inbound, chatId };
}

function elementError(error: unknown): { code: string; message: string } {
  const bitrix = toBitrixError(error);
  if (!bitrix) throw error;
  return { code: bitrix.code, message: bitrix.description };
}

const sendMessages: MethodHandler = async (call) => {
  const { channel } = await activeChannel(call);
  const { ctx } = call;
  const results: unknown[] = [];
  for (const [index, element] of messagesOf(call.params).entries()) {
    try {
      const { message, chatId } = inboundOf(element, index);
      const payload: Bitrix24InboundPayload = { kind: 'message', message };
      const [stored] = await receiveDelivery(ctx, channel, payload);
      if (!stored?.messageId || !stored.dialogId) throw new Error('the intake stored nothing');
      const row = await ctx.store.db
        .selectFrom('messages')
        .innerJoin('dialogs', 'dialogs.id', 'messages.dialog_id')
        .select(['messages.session_id', 'messages.created_at', 'dialogs.client_id'])
        .where('messages.id', '=', stored.messageId)
        .executeTakeFirstOrThrow();
      const [client, dialog, session] = await numericIds(ctx.store.db, channel.account_id, [
        { kind: 'client', id: row.client_id },
        { kind: 'dialog', id: stored.dialogId },
        ...(row.session_id ? [{ kind: 'session' as const, id: row.session_id }] : []),
      ]);
      results.push({
        user: String(client),
        message: {
          id: message.externalId,
          date: Math.floor(row.created_at.getTime() / 1000),
          text: message.text,
        },
        chat: { id: chatId },
        SUCCESS: true,
        DUPLICATE: stored.outcome === 'duplicate',
        session: { ID: session === undefined ? null : String(session), CHAT_ID: String(dialog) },
      });
    } catch (error) {
      const { code, message } = elementError(error);
      results.push({ SUCCESS: false, ERRORS: [{ code, message }] });
    }
  }
  return {
    result: { SUCCESS: results.every((r) => (r as { SUCCESS: boolean }).SUCCESS), DATA: { RESULT: results } },
  };
};

/**
 * imconnector.update.messages: the client changed messages they sent, known by `message.id`; each
 * takes the new text and shows as edited (the generic inbound edit, services/channel-inbound). A
 * message we do not have is that element's NOT_FOUND, never stored as a new one.
 */
const updateMessages: MethodHandler = async (call) => {
  const { channel } = await activeChannel(call);
  const { ctx } = call;
  const results: unknown[] = [];
  for (const [index, element] of messagesOf(call.params).entries()) {
    try {
      const raw = isObject(element) && isObject(element.message) ? element.message : {};
      if (text(raw.id, `MESSAGES[${index}][message][id]`, 200) === undefined)
        throw argumentError(`MESSAGES[${index}][message][id] is required: the message to change`);
      const { message, chatId } = inboundOf(element, index);
      const date = raw.date === undefined || raw.date === '' ? undefined : Number(raw.date);
      if (date !== undefined && (!Number.isSafeInteger(date) || date <= 0))
        throw argumentError(`MESSAGES[${index}][message][date] must be unix seconds`);
      const stored = await ctx.store.db
        .selectFrom('messages')
        .select('id')
        .where('channel_id', '=', channel.id)
        .where('external_id', '=', message.externalId)
        .where('author_kind', '=', 'client')
        .executeTakeFirst();
      if (!stored) throw notFoundError(`Message ${message.externalId}`);
      const at = new Date(date === undefined ? ctx.clock.now().getTime() : date * 1000).toISOString();
      const payload: Bitrix24InboundPayload = { kind: 'edit', message, at };
      const [result] = await receiveDelivery(ctx, channel, payload);
      results.push({
        SUCCESS: result?.outcome === 'edited',
        message: { id: message.externalId, text: message.text },
        chat: { id: chatId },
      });
    } catch (error) {
      const { code, message } = elementError(error);
      results.push({ SUCCESS: false, ERRORS: [{ code, message }] });
    }
  }
  return {
    result: { SUCCESS: results.every((r) => (r as { SUCCESS: boolean }).SUCCESS), DATA: { RESULT: results } },
  };
};

/**
 * imconnector.delete.messages: the client withdrew messages they sent, each known by `message.id`
 * and the client (`user.id`, `chat.id`). The message stays in the timeline as deleted and its
 * content is erased (services/message-edits). One already deleted succeeds again; one we do not
 * have, or another client's, is that element's NOT_FOUND.
 */
const deleteMessages: MethodHandler = async (call) => {
  const { channel } = await activeChannel(call);
  const { ctx } = call;
  const results: unknown[] = [];
  for (const [index, element] of messagesOf(call.params).entries()) {
    try {
      const at = `MESSAGES[${index}]`;
      if (!isObject(element)) throw argumentError(`${at} must be an object`);
      const field = (part: string) => {
        const holder = element[part];
        const value = isObject(holder) ? text(holder.id, `${at}[${part}][id]`, 200) : undefined;
        if (!value) throw argumentError(`${at}[${part}][id] is required`);
        return value;
      };
      const messageId = field('message');
      const userId = field('user');
      const chatId = field('chat');
      const stored = await ctx.store.db
        .selectFrom('messages')
        .innerJoin('dialogs', 'dialogs.id', 'messages.dialog_id')
        .innerJoin('client_identities', (join) =>
          join
            .onRef('client_identities.client_id', '=', 'dialogs.client_id')
            .onRef('client_identities.channel_id', '=', 'messages.channel_id'),
        )
        .select(['messages.id', 'messages.deleted_at'])
        .where('messages.channel_id', '=', channel.id)
        .where('messages.external_id', '=', messageId)
        .where('messages.author_kind', '=', 'client')
        .where('client_identities.external_id', '=', clientKey(chatId, userId))
        .executeTakeFirst();
      if (!stored) throw notFoundError(`Message ${messageId}`);
      if (!stored.deleted_at) await deleteClientMessage(ctx, channel, stored.id);
      results.push({ SUCCESS: true, message: { id: messageId }, chat: { id: chatId } });
    } catch (error) {
      const { code, message } = elementError(error);
      results.push({ SUCCESS: false, ERRORS: [{ code, message }] });
    }
  }
  return {
    result: { SUCCESS: results.every((r) => (r as { SUCCESS: boolean }).SUCCESS), DATA: { RESULT: results } },
  };
};

/**
 * The connector confirms an operator's message it got as an event. By our message id, not the
 * external id the outbox records after the send (a connector may confirm before that is written):
 * forward only (core/delivery), with a 'message.updated' event in the same transaction. A report
 * for a message still `pending` moves it on: the connector has it.
 */
async function recordDelivered(
  call: MethodCall,
  channel: ChannelRow,
  messageId: string,
  state: 'delivered' | 'read',
): Promise<void> {
  await runInTransaction(call.ctx, async (uow) => {
    const row = await uow.tx
      .updateTable('messages')
      .set({ delivery_state: state, delivery_error: null })
      .where('id', '=', messageId)
      .where('channel_id', '=', channel.id)
      .where('author_kind', '!=', 'client')
      .where('delivery_state', 'in', statesBefore(state) as MessageRow['delivery_state'][])
      .returningAll()
      .executeTakeFirst();
    if (row) emitMessage(call.ctx, uow, 'message.updated', presentMessage(row), channel.account_id);
  });
}

function statusHandler(state: 'delivered' | 'read'): MethodHandler {
  return async (call) => {
    const { channel } = await activeChannel(call);
    const results: unknown[] = [];
    for (const [index, element] of messagesOf(call.params).entries()) {
      try {
        const im = isObject(element) ? element.im : undefined;
        if (!isObject(im)) throw argumentError(`MESSAGES[${index}][im] is required`);
        const messageId = Number(im.message_id);
        const chatId = Number(im.chat_id);
        if (!Number.isSafeInteger(messageId) || messageId <= 0) {
          throw argumentError(
            `MESSAGES[${index}][im][message_id] must be the id from OnImConnectorMessageAdd`,
          );
        }
        const ours = await resolveNumericId(call.ctx.store.db, channel.account_id, 'message', messageId);
        const message = ours
          ? await call.ctx.store.db
              .selectFrom('messages')
              .select(['id', 'dialog_id'])
              .where('id', '=', ours)
              .where('channel_id', '=', channel.id)
              .executeTakeFirst()
          : undefined;
        if (!message) throw notFoundError(`Message ${messageId}`);
        const dialog = await numericId(call.ctx.store.db, channel.account_id, 'dialog', message.dialog_id);
        if (Number.isSafeInteger(chatId) && chatId !== dialog) {
          throw argumentError(`MESSAGES[${index}][im][chat_id] is not the chat of message ${messageId}`);
        }
        await recordDelivered(call, channel, message.id, state);
        results.push({ SUCCESS: true, im: { chat_id: dialog, message_id: messageId } });
      } catch (error) {
        const { code, message } = elementError(error);
        results.push({ SUCCESS: false, ERRORS: [{ code, message }] });
      }
    }
    return {
      result: {
        SUCCESS: results.every((r) => (r as { SUCCESS: boolean }).SUCCESS),
        DATA: { RESULT: results },
      },
    };
  };
}

/**
 * imconnector.chat.name.set: the connector names its chat. A chat here is its client (the pair
 * chat.id, user.id), and its name is the client's name: CHAT_ID with USER_ID renames that client,
 * CHAT_ID alone every client of the chat on this line. A later imconnector.send.messages with
 * another user.name renames the client again, as for any channel that knows its users' names.
 */
const chatNameSet: MethodHandler = async (call) => {
  const { channel } = await activeChannel(call);
  const chatId = text(pick(call.params, 'CHAT_ID'), 'CHAT_ID', 200);
  if (!chatId) throw argumentError('CHAT_ID is required: the chat id in your system');
  const userId = text(pick(call.params, 'USER_ID'), 'USER_ID', 200);
  const name = text(pick(call.params, 'NAME'), 'NAME', 100)?.trim();
  if (!name) throw argumentError('NAME is required');
  await runInTransaction(call.ctx, async (uow) => {
    let identities = uow.tx
      .selectFrom('client_identities')
      .innerJoin('dialogs', (join) =>
        join
          .onRef('dialogs.client_id', '=', 'client_identities.client_id')
          .onRef('dialogs.channel_id', '=', 'client_identities.channel_id'),
      )
      .select(['client_identities.client_id', 'dialogs.id as dialog_id'])
      .where('client_identities.channel_id', '=', channel.id);
    identities = userId
      ? identities.where('client_identities.external_id', '=', clientKey(chatId, userId))
      : identities.where('client_identities.external_id', 'like', `${likeEscaped(clientKey(chatId, ''))}%`);
    const rows = await identities.execute();
    if (rows.length === 0) throw notFoundError(`Chat ${chatId}`);
    await uow.tx
      .updateTable('clients')
      .set({ name })
      .where('account_id', '=', channel.account_id)
      .where(
        'id',
        'in',
        rows.map((row) => row.client_id),
      )
      .execute();
    for (const row of rows) touchDialog(call.ctx, uow, channel.account_id, row.dialog_id);
  });
  return { result: true };
};

/** A LIKE pattern that matches `value` literally (`%`, `_` and `\` escaped). */
function likeEscaped(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const IMCONNECTOR_METHODS: Record<string, MethodHandler> = {
  'imconnector.register': register,
  'imconnector.unregister': unregister,
  'imconnector.activate': activate,
  'imconnector.status': status,
  'imconnector.list': list,
  'imconnector.connector.data.set': dataSet,
  'imconnector.send.messages': sendMessages,
  'imconnector.update.messages': updateMessages,
  'imconnector.delete.messages': deleteMessages,
  'imconnector.send.status.delivery': statusHandler('delivered'),
  'imconnector.send.status.reading': statusHandler('read'),
  'imconnector.chat.name.set': chatNameSet,
};
