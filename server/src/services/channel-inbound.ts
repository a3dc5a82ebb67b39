import { type Attachment, isUuid } from '@openlines/contract';
import {
  type ChannelConnector,
  type ChannelRuntime,
  ConnectorError,
  type FetchedFile,
  type InboundIo,
  type InboundItem,
  type InboundReply,
  type InboundRequest,
  toConnectorError,
} from '../channels/connector';
import { findConnector } from '../channels/registry';
import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { statesBefore } from '../core/delivery';
import { AppError } from '../errors';
import type { ChannelRow, MessageRow } from '../store/schema';
import { enqueueClientMessageChange } from './bot-deliveries';
import { assertTakesMessages, channelRuntime, findChannelOfKind, type InboundChannel } from './channels';
import { emitMessage, touchDialog } from './dialog-events';
import { storeFile } from './files';
import { receiveInbound } from './intake';
import { presentMessage } from './message-presenter';
import { runInTransaction } from './transaction';

/**
 * The one inbound path of webhook-style channels (issue 11), for every kind, through the registry:
 *
 *   1. find      the channel by the id in the URL, and its connector; unknown, or a kind without
 *                `verifyInbound` + `parseInbound` (the API channel, the widget) → 401
 *   2. verify    `connector.verifyInbound` (a secret header, a signature over the raw body) → 401
 *   3. connected a disconnected channel → 404 `channel_disconnected` (LN-5)
 *   4. handshake `connector.answerHandshake` (VK's confirmation, Meta's hub.challenge): answered as is
 *   5. parse     `connector.parseInbound` (pure) → items; a verified payload it cannot read is
 *                acknowledged and logged, nothing stored (readableItems); then for each item:
 *        dedupe    already stored (channel + external id) → nothing fetched again
 *        fetch     its files (`fetchFile`) and, for a new client, the avatar (`fetchAvatar`):
 *                  platform I/O only; the bytes are stored here (services/files). A file that can
 *                  never be received leaves the connector's note (`unreceivedNote`) in the text
 *        intake    `receiveInbound` commits it
 *        ack       `connector.acknowledge` (Telegram's answerCallbackQuery), best effort
 *
 * Only when this returns may the delivery be acknowledged (webhook 2xx, a poller's next offset): a
 * ConnectorError (a file that cannot be fetched now) fails the delivery, and the platform delivers
 * it again — the webhook answers 503. Pollers (Telegram's getUpdates) call `receiveDelivery`, steps
 * 5 on, with each update they fetched.
 */

export interface InboundItemResult {
  /** edited: the client's edit changed a stored message (InboundItem.edit). */
  outcome: 'stored' | 'duplicate' | 'ignored' | 'edited';
  messageId?: string;
  dialogId?: string;
}

/** A channel whose request passed steps 1–3. */
export interface WebhookChannel {
  row: InboundChannel;
  runtime: ChannelRuntime;
  connector: ChannelConnector;
}

/** Downloads of a delivery's files give up after this long (each). */
const FILE_TIMEOUT_MS = 60_000;

/**
 * Steps 1–3: the channel a webhook request names, if the request is really from its platform.
 * `kind` restricts it to one kind (an alias URL such as /telegram/webhook/:channelId).
 */
export async function authenticateWebhook(
  ctx: AppContext,
  channelId: string | undefined,
  request: InboundRequest,
  kind?: string,
): Promise<WebhookChannel> {
  const refused = new AppError('unauthenticated', 'The request is not signed for this channel');
  if (!channelId || !isUuid(channelId)) throw refused;
  const row = kind
    ? await findChannelOfKind(ctx, channelId, kind)
    : await ctx.store.db.selectFrom('channels').selectAll().where('id', '=', channelId).executeTakeFirst();
  if (!row) throw refused;
  const connector = findConnector(row.kind);
  if (!connector?.verifyInbound || !connector.parseInbound) throw refused;
  let runtime: ChannelRuntime;
  try {
    runtime = channelRuntime(ctx, row);
  } catch {
    throw refused;
  }
  if (!connector.verifyInbound(request, runtime)) throw refused;
  assertTakesMessages(row);
  return { row, runtime, connector };
}

/**
 * Steps 4–5 for an authenticated request: the handshake's answer, the connector's own answer to a
 * stored delivery, or null for the default (200 `{"ok":true}`).
 */
export async function receiveWebhook(
  ctx: AppContext,
  channel: WebhookChannel,
  request: InboundRequest,
): Promise<InboundReply | null> {
  const handshake = channel.connector.answerHandshake?.(request, channel.runtime);
  if (handshake) return handshake;
  const items = readableItems(ctx, channel, request.body);
  try {
    await receiveItems(ctx, channel.row, items);
  } catch (error) {
    // The platform delivers it again later: say so without a 500 in the logs.
    if (error instanceof ConnectorError) {
      ctx.log.warn(
        { channelId: channel.row.id, kind: channel.row.kind, code: error.code },
        'inbound delivery not stored yet',
      );
      throw new AppError('unavailable', 'The delivery cannot be stored now; deliver it again');
    }
    throw error;
  }
  return channel.connector.acceptedReply ?? null;
}

/**
 * Step 5: one delivery's payload (a webhook body, or one update a poller fetched) into the line,
 * item by item, in order. Throws a ConnectorError when a file cannot be fetched now (nothing of
 * that item is stored; the items before it are), an AppError when the payload is invalid or the
 * channel disconnected meanwhile.
 */
export async function receiveDelivery(
  ctx: AppContext,
  channel: ChannelRow,
  payload: unknown,
): Promise<InboundItemResult[]> {
  const connector = findConnector(channel.kind);
  if (!connector?.parseInbound) throw new Error(`channel kind ${channel.kind} has no inbound parser`);
  return receiveItems(ctx, channel, connector.parseInbound(payload, channelRuntime(ctx, channel)));
}

async function receiveItems(
  ctx: AppContext,
  channel: ChannelRow,
  items: InboundItem[],
): Promise<InboundItemResult[]> {
  const connector = findConnector(channel.kind);
  if (!connector) throw new Error(`channel kind ${channel.kind} has no connector`);
  const runtime = channelRuntime(ctx, channel);
  const io: InboundIo = { clock: ctx.clock, timeoutMs: FILE_TIMEOUT_MS, maxBytes: ctx.config.maxUploadBytes };
  const results: InboundItemResult[] = [];
  for (const item of items) {
    results.push(await receiveItem(ctx, { channel, runtime, connector, io }, item));
  }
  return results;
}

/** The longest part of an unreadable payload kept in the log. */
const LOGGED_PAYLOAD_CHARS = 2000;

/**
 * Step 5's parse for a verified webhook delivery (issue 20). The request is the platform's (its
 * secret or signature checked), so a payload its connector cannot read will never become readable:
 * answering 4xx/5xx would only make the platform deliver it again and again (and Meta and VK pause
 * a webhook that keeps failing). It is acknowledged like a stored delivery, with no items, and
 * logged for an admin with the reason and the start of the payload, the way Telegram's unreadable
 * updates are. Callers that answer their own client (Bitrix24's REST) use receiveDelivery, which
 * throws instead.
 */
function readableItems(ctx: AppContext, channel: WebhookChannel, payload: unknown): InboundItem[] {
  try {
    return channel.connector.parseInbound?.(payload, channel.runtime) ?? [];
  } catch (error) {
    logUnreadable(ctx, channel, error, JSON.stringify(payload) ?? String(payload));
    return [];
  }
}

/**
 * A verified delivery that cannot be read (its connector refused it, or the body is not JSON the
 * API takes): logged for an admin with the reason and the start of the payload; the caller
 * acknowledges it like a stored one (`acknowledgeUnreadable` for a body that did not parse).
 */
function logUnreadable(ctx: AppContext, channel: WebhookChannel, error: unknown, payload: string): void {
  const reason =
    error instanceof AppError && error.fields?.length
      ? error.fields.map((f) => `${f.field}: ${f.message}`).join('; ')
      : String(error instanceof AppError ? error.message : error);
  const fields = {
    channelId: channel.row.id,
    kind: channel.row.kind,
    reason,
    payload: payload.slice(0, LOGGED_PAYLOAD_CHARS),
  };
  // A parser that throws something other than its own refusal has a bug worth an error.
  if (error instanceof AppError)
    ctx.log.warn(fields, 'inbound delivery unreadable: acknowledged, nothing stored');
  else
    ctx.log.error({ ...fields, err: error }, 'inbound parser failed: delivery acknowledged, nothing stored');
}

/** A verified delivery whose body did not parse: logged, and the platform's "stored" answer. */
export function acknowledgeUnreadable(
  ctx: AppContext,
  channel: WebhookChannel,
  error: Error,
  rawBody: string,
): InboundReply | null {
  logUnreadable(ctx, channel, error, rawBody);
  return channel.connector.acceptedReply ?? null;
}

interface ItemScope {
  channel: ChannelRow;
  runtime: ChannelRuntime;
  connector: ChannelConnector;
  io: InboundIo;
}

async function receiveItem(ctx: AppContext, scope: ItemScope, item: InboundItem): Promise<InboundItemResult> {
  const { channel, connector } = scope;
  const message = item.message;
  if (item.unreadable && item.unreadable.length > 0) {
    ctx.log.warn(
      { channelId: channel.id, kind: channel.kind, unreadable: item.unreadable },
      'inbound payload not fully readable',
    );
  }
  if (item.unreachable !== undefined) await markUnreachable(ctx, channel, item.unreachable);
  if (item.delivery || item.readUpTo) {
    if (item.delivery) await recordDelivery(ctx, channel, item.delivery);
    if (item.readUpTo) await recordReadUpTo(ctx, channel, item.readUpTo);
    await acknowledge(ctx, scope, item);
    return { outcome: 'ignored' };
  }
  if (!message) {
    ctx.log.debug(
      { channelId: channel.id, kind: channel.kind, reason: item.ignored },
      'inbound item ignored',
    );
    await acknowledge(ctx, scope, item);
    return { outcome: 'ignored' };
  }
  if (item.edit) {
    const edited = await applyClientEdit(ctx, channel, item.edit);
    if (edited) {
      await acknowledge(ctx, scope, item);
      return { outcome: 'edited', ...edited };
    }
  }
  const stored = await findStored(ctx, channel.id, message.externalId);
  if (stored) {
    await acknowledge(ctx, scope, item);
    return { outcome: 'duplicate', ...stored };
  }

  const attachments: Attachment[] = [...(message.attachments ?? [])];
  const notes: string[] = [];
  for (const file of item.files ?? []) {
    try {
      if (!connector.fetchFile) throw new ConnectorError('invalid_payload', 'The channel cannot fetch files');
      const fetched = await connector.fetchFile(scope.runtime, file, scope.io);
      attachments.push(await storeFetched(ctx, channel, fetched));
    } catch (error) {
      const neutral = toConnectorError(error);
      const note = connector.unreceivedNote?.(file, neutral) ?? null;
      if (!note) throw neutral;
      ctx.log.info(
        { channelId: channel.id, kind: channel.kind, err: neutral.message },
        'inbound file not received',
      );
      notes.push(note);
    }
  }
  const user: InboundMessage['user'] = { ...message.user };
  if (item.avatar && connector.fetchAvatar && (await isNewClient(ctx, channel.id, user.id))) {
    const ref = item.avatar;
    const fetchAvatar = connector.fetchAvatar;
    const avatar = await (async () => {
      const fetched = await fetchAvatar(scope.runtime, ref, scope.io);
      return fetched ? storeFetched(ctx, channel, fetched) : null;
    })().catch((error: unknown) => {
      ctx.log.debug(
        { err: toConnectorError(error).message, channelId: channel.id, kind: channel.kind },
        'inbound: no avatar',
      );
      return null;
    });
    if (avatar) user.avatarUrl = avatar.url;
  }
  const text = [message.text, ...notes].filter(Boolean).join('\n');
  const inbound: InboundMessage = {
    externalId: message.externalId,
    user,
    ...(text ? { text } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  };
  const result = await receiveInbound(ctx, channel, inbound);
  await acknowledge(ctx, scope, item);
  return {
    outcome: result.duplicate ? 'duplicate' : 'stored',
    messageId: result.messageId,
    dialogId: result.dialogId,
  };
}

/**
 * Stores fetched bytes like any attachment. A refusal by the storage (an empty file, too large)
 * can never pass: it becomes invalid_payload, caused by the AppError, for `unreceivedNote`.
 */
async function storeFetched(ctx: AppContext, channel: ChannelRow, fetched: FetchedFile) {
  try {
    const stored = await storeFile(
      ctx,
      {
        accountId: channel.account_id,
        name: fetched.name,
        mimeType: fetched.mimeType,
        data: fetched.data,
        uploadedBy: { kind: 'channel', id: channel.id },
      },
      ctx.publicUrl.value,
    );
    return stored.attachment;
  } catch (error) {
    if (error instanceof AppError) {
      throw new ConnectorError('invalid_payload', error.message, { cause: error });
    }
    throw error;
  }
}

async function acknowledge(ctx: AppContext, scope: ItemScope, item: InboundItem): Promise<void> {
  if (item.ack === undefined || !scope.connector.acknowledge) return;
  await scope.connector
    .acknowledge(scope.runtime, item.ack, scope.io)
    .catch((error: unknown) =>
      ctx.log.debug(
        { err: toConnectorError(error).message, channelId: scope.channel.id, kind: scope.channel.kind },
        'inbound: acknowledgement failed',
      ),
    );
}

/**
 * A platform's report on an outgoing message (InboundItem.delivery): moves it forward only
 * (core/delivery.ts), in one statement, with a 'message.updated' event in the same transaction.
 */
async function recordDelivery(
  ctx: AppContext,
  channel: ChannelRow,
  delivery: NonNullable<InboundItem['delivery']>,
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const row = await uow.tx
      .updateTable('messages')
      .set({
        delivery_state: delivery.state,
        delivery_error:
          delivery.state === 'failed' ? (delivery.error ?? 'The channel could not deliver it') : null,
      })
      .where('channel_id', '=', channel.id)
      .where('external_id', '=', delivery.externalId)
      .where('author_kind', '!=', 'client')
      .where('delivery_state', 'in', statesBefore(delivery.state) as MessageRow['delivery_state'][])
      .returningAll()
      .executeTakeFirst();
    if (row) emitMessage(ctx, uow, 'message.updated', presentMessage(row), channel.account_id);
  });
}

/** A watermark read receipt: the client's outgoing messages up to then are read (forward only). */
async function recordReadUpTo(
  ctx: AppContext,
  channel: ChannelRow,
  read: NonNullable<InboundItem['readUpTo']>,
): Promise<void> {
  const at = new Date(read.at);
  if (Number.isNaN(at.getTime())) return;
  await runInTransaction(ctx, async (uow) => {
    const rows = await uow.tx
      .updateTable('messages')
      .set({ delivery_state: 'read', delivery_error: null })
      .where('channel_id', '=', channel.id)
      .where('dialog_id', 'in', (eb) =>
        eb
          .selectFrom('dialogs')
          .innerJoin('client_identities', 'client_identities.client_id', 'dialogs.client_id')
          .select('dialogs.id')
          .where('client_identities.channel_id', '=', channel.id)
          .where('client_identities.external_id', '=', read.recipientId)
          .where('dialogs.channel_id', '=', channel.id),
      )
      .where('author_kind', '!=', 'client')
      .where('created_at', '<=', at)
      .where('delivery_state', 'in', statesBefore('read') as MessageRow['delivery_state'][])
      .where('external_id', 'is not', null)
      .returningAll()
      .execute();
    for (const row of rows) emitMessage(ctx, uow, 'message.updated', presentMessage(row), channel.account_id);
  });
}

/**
 * A client's edit of a message they sent (InboundItem.edit): the stored message takes the new text
 * and is marked edited, with a 'message.updated' event, in one statement. An edit older than the
 * one stored (a redelivery) changes nothing but still counts as handled. Null: no such message.
 */
async function applyClientEdit(
  ctx: AppContext,
  channel: ChannelRow,
  edit: NonNullable<InboundItem['edit']>,
): Promise<{ messageId: string; dialogId: string } | null> {
  const at = new Date(edit.at);
  const stored = await findStored(ctx, channel.id, edit.externalId);
  if (!stored || Number.isNaN(at.getTime())) return stored;
  await runInTransaction(ctx, async (uow) => {
    const row = await uow.tx
      .updateTable('messages')
      .set({ text: edit.text, edited_at: at })
      .where('id', '=', stored.messageId)
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([eb('edited_at', 'is', null), eb('edited_at', '<', at)]))
      .returningAll()
      .executeTakeFirst();
    if (!row) return;
    await enqueueClientMessageChange(uow.tx, {
      sessionId: row.session_id,
      kind: 'edited',
      message: row,
      now: at,
    });
    emitMessage(ctx, uow, 'message.updated', presentMessage(row), channel.account_id);
  });
  return stored;
}

async function findStored(
  ctx: AppContext,
  channelId: string,
  externalId: string,
): Promise<{ messageId: string; dialogId: string } | null> {
  const row = await ctx.store.db
    .selectFrom('messages')
    .select(['id', 'dialog_id'])
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .where('author_kind', '=', 'client')
    .executeTakeFirst();
  return row ? { messageId: row.id, dialogId: row.dialog_id } : null;
}

async function isNewClient(ctx: AppContext, channelId: string, externalId: string): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('client_identities')
    .select('client_id')
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return !row;
}

/** The platform says this client can no longer be written to: their dialogs on the channel show it. */
async function markUnreachable(ctx: AppContext, channel: ChannelRow, externalId: string): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const identity = await uow.tx
      .selectFrom('client_identities')
      .select('client_id')
      .where('channel_id', '=', channel.id)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    if (!identity) return;
    const marked = await uow.tx
      .updateTable('dialogs')
      .set({ unreachable_at: ctx.clock.now() })
      .where('channel_id', '=', channel.id)
      .where('client_id', '=', identity.client_id)
      .where('unreachable_at', 'is', null)
      .returning('id')
      .execute();
    for (const dialog of marked) touchDialog(ctx, uow, channel.account_id, dialog.id);
  });
}
