import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { ChannelRow, DialogRow, LineRow, MessageRow, SessionRow } from '../store/schema';
import { answersBy } from './automation/answers';
import { onClientMessage, onSessionOpened } from './automation/hooks';
import { latestSession } from './automation/lookup';
import { isRatingReply, writeClientRating } from './automation/rating';
import { emitMessage, presentDialogs, touchDialog } from './dialogs';
import { lockLines } from './locks';
import { presentMessage } from './message-presenter';
import { routeSession } from './routing';
import { applySessionAction, recordSessionStart, SYSTEM } from './sessions';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

export interface IntakeResult {
  messageId: string;
  dialogId: string;
  sessionId: string | null;
  duplicate: boolean;
}

const PREVIEW_LENGTH = 200;

export function previewOf(
  text: string | null | undefined,
  attachments: { name: string }[] = [],
): string | null {
  if (text) return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text;
  if (attachments.length > 0)
    return `📎 ${attachments.map((a) => a.name).join(', ')}`.slice(0, PREVIEW_LENGTH);
  return null;
}

async function findOrCreateClient(
  tx: Tx,
  channel: ChannelRow,
  user: InboundMessage['user'],
): Promise<string> {
  const existing = await tx
    .selectFrom('client_identities')
    .select('client_id')
    .where('channel_id', '=', channel.id)
    .where('external_id', '=', user.id)
    .executeTakeFirst();
  if (existing) {
    // The channel knows the client's name and picture better than we do: keep them current.
    const changes = {
      ...(user.name ? { name: user.name } : {}),
      ...(user.avatarUrl ? { avatar_url: user.avatarUrl } : {}),
      ...(user.email ? { email: user.email } : {}),
      ...(user.phone ? { phone: user.phone } : {}),
    };
    if (Object.keys(changes).length > 0) {
      await tx.updateTable('clients').set(changes).where('id', '=', existing.client_id).execute();
    }
    return existing.client_id;
  }
  const client = await tx
    .insertInto('clients')
    .values({
      account_id: channel.account_id,
      name: user.name || `Client ${user.id.slice(0, 12)}`,
      avatar_url: user.avatarUrl ?? null,
      email: user.email ?? null,
      phone: user.phone ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('client_identities')
    .values({
      account_id: channel.account_id,
      client_id: client.id,
      channel_id: channel.id,
      external_id: user.id,
    })
    .execute();
  return client.id;
}

async function findOrCreateDialog(
  tx: Tx,
  channel: ChannelRow,
  lineId: string,
  clientId: string,
): Promise<DialogRow> {
  await tx
    .insertInto('dialogs')
    .values({ account_id: channel.account_id, line_id: lineId, channel_id: channel.id, client_id: clientId })
    .onConflict((oc) => oc.columns(['line_id', 'channel_id', 'client_id']).doNothing())
    .execute();
  // The row lock serialises messages of one dialog, so it never gets two open sessions.
  return tx
    .selectFrom('dialogs')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('channel_id', '=', channel.id)
    .where('client_id', '=', clientId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** The dialog's open session, or a new one in state `new`; `opened` says which. */
async function openSessionOf(
  uow: UnitOfWork,
  dialog: DialogRow,
  now: Date,
): Promise<{ session: SessionRow; opened: boolean }> {
  const open = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('dialog_id', '=', dialog.id)
    .where('status', 'in', ['new', 'bot', 'queued', 'assigned', 'answered', 'client_waiting'])
    .forUpdate()
    .executeTakeFirst();
  if (open) {
    // A session transferred to another line is routed under that line's lock too. Taking it after
    // this line's lock breaks the id order, so a rare deadlock is possible; PostgreSQL detects it and
    // the transaction is retried (services/transaction).
    if (open.line_id !== dialog.line_id) await lockLines(uow.tx, [open.line_id]);
    return { session: open, opened: false };
  }
  const session = await uow.tx
    .insertInto('sessions')
    .values({
      account_id: dialog.account_id,
      dialog_id: dialog.id,
      line_id: dialog.line_id,
      status: 'new',
      passed_by: JSON.stringify([]),
      offered_to: JSON.stringify([]),
      // a pinned dialog's next session starts pinned to its operator.
      pinned: dialog.pinned_operator_id !== null,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordSessionStart(uow, session, { kind: 'client', id: dialog.client_id }, now);
  return { session, opened: true };
}

/**
 * A client's message from any channel: stored, and committed, before the channel is answered
 * (ARCHITECTURE property 1). A redelivery with the same external id returns the stored message.
 * Opens a session when the dialog has none open and routes it; a spam-marked client's messages are
 * kept but go nowhere.
 */
export async function receiveInbound(
  ctx: AppContext,
  channel: ChannelRow,
  message: InboundMessage,
): Promise<IntakeResult> {
  if (channel.status !== 'connected' || !channel.line_id) {
    throw new AppError('not_found', 'The channel is disconnected');
  }
  if (!message.text && (message.attachments ?? []).length === 0) {
    throw new AppError('validation_failed', 'A message needs text or attachments', [
      { field: 'body.text', message: 'is required when there are no attachments' },
    ]);
  }
  const lineId = channel.line_id;
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const duplicate = await findDuplicate(tx, channel.id, message.externalId);
    if (duplicate) return duplicate;
    await lockLines(tx, [lineId]);
    const now = ctx.clock.now();
    const clientId = await findOrCreateClient(tx, channel, message.user);
    const dialog = await findOrCreateDialog(tx, channel, lineId, clientId);
    // Checked again under the dialog lock: a concurrent delivery of the same message may have won.
    const raced = await findDuplicate(tx, channel.id, message.externalId);
    if (raced) return raced;
    const client = { kind: 'client' as const, id: clientId };
    const insertMessage = (sessionId: string | null) =>
      tx
        .insertInto('messages')
        .values({
          account_id: channel.account_id,
          dialog_id: dialog.id,
          session_id: sessionId,
          channel_id: channel.id,
          author_kind: 'client',
          author_id: clientId,
          text: message.text ?? null,
          attachments: JSON.stringify(message.attachments ?? []),
          spam: dialog.spam,
          delivery_state: 'received',
          delivery_error: null,
          external_id: message.externalId,
          client_message_id: null,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    const finish = async (row: MessageRow, session: SessionRow | null) => {
      await tx
        .updateTable('dialogs')
        // A client who writes is reachable again (they unblocked the bot, came back…).
        .set({
          last_message_at: now,
          last_message_preview: previewOf(message.text, message.attachments),
          unreachable_at: null,
        })
        .where('id', '=', dialog.id)
        .execute();
      if (!dialog.spam) {
        touchDialog(ctx, uow, channel.account_id, dialog.id);
        const [presented] = await presentDialogs(tx, [dialog], now);
        await emitMessage(uow, channel.account_id, 'message.created', presentMessage(row), presented!);
      }
      return { messageId: row.id, dialogId: dialog.id, sessionId: session?.id ?? null, duplicate: false };
    };
    // A spam-marked client's messages are kept but go nowhere.
    if (dialog.spam) return finish(await insertMessage(null), null);

    // QR-1 in messengers: "1"/"0" answers the latest session's rating request, opening nothing new.
    const line = await tx.selectFrom('lines').selectAll().where('id', '=', lineId).executeTakeFirstOrThrow();
    const latest = await latestSession(tx, dialog.id);
    const latestLine = latest && latest.line_id !== line.id ? await loadLineOf(tx, latest) : line;
    const rating =
      answersBy(channel) === 'reply' ? isRatingReply(latestLine, latest, message.text, now) : null;
    if (latest && rating) {
      const row = await insertMessage(latest.id);
      await writeClientRating(ctx, uow, { dialog, line: latestLine, session: latest, channel }, rating, null);
      return finish(row, latest);
    }

    const { session: current, opened } = await openSessionOf(uow, dialog, now);
    const row = await insertMessage(current.id);
    const conversation = {
      line: current.line_id === line.id ? line : await loadLineOf(tx, current),
      dialog,
      channel,
    };
    let session = current;
    if (opened) session = await onSessionOpened(ctx, uow, { ...conversation, session });
    session = await onClientMessage(ctx, uow, { ...conversation, session }, { opensSession: opened });
    if (session.status === 'new') {
      // LN-4: an inactive line stores the session but does not route it until it is switched on.
      if (conversation.line.active) {
        session = await applySessionAction(ctx, uow, session, { type: 'enqueue' }, SYSTEM, 'new_session');
      }
    } else if (session.status !== 'queued') {
      session = await applySessionAction(
        ctx,
        uow,
        session,
        { type: 'client_message' },
        client,
        'client_message',
      );
    }
    session = await tx
      .updateTable('sessions')
      .set({ last_client_message_at: now })
      .where('id', '=', session.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (session.status === 'queued') session = await routeSession(ctx, uow, session);
    return finish(row, session);
  });
}

async function findDuplicate(tx: Tx, channelId: string, externalId: string): Promise<IntakeResult | null> {
  const row = await tx
    .selectFrom('messages')
    .select(['id', 'dialog_id', 'session_id'])
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .where('author_kind', '=', 'client')
    .executeTakeFirst();
  return row
    ? { messageId: row.id, dialogId: row.dialog_id, sessionId: row.session_id, duplicate: true }
    : null;
}

async function loadLineOf(tx: Tx, session: SessionRow): Promise<LineRow> {
  return tx.selectFrom('lines').selectAll().where('id', '=', session.line_id).executeTakeFirstOrThrow();
}
