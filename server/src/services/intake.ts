import { sql } from 'kysely';
import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { planHeldClientMessage } from '../core/held-message';
import { kpiState } from '../core/kpi';
import { hasOperator, isClosed } from '../core/session-machine';
import { AppError } from '../errors';
import { lockHeldSession, writeHeldClientMessage } from '../store/held-message';
import type { ChannelRow, DialogRow, LineRow, MessageRow, SessionRow } from '../store/schema';
import { answersBy } from './automation/answers';
import { onClientMessage, onSessionOpened } from './automation/hooks';
import { latestSession } from './automation/lookup';
import { isRatingReply, writeClientRating } from './automation/rating';
import { assertTakesMessages, forgetInboundChannel } from './channels';
import { emitHeldMessage, emitMessage, touchDialog } from './dialog-events';
import { presentSession } from './dialogs';
import { lineAsOf } from './line-cache';
import { lockLines } from './locks';
import { presentMessage } from './message-presenter';
import { routeSession } from './routing';
import { startSession } from './session-start';
import { applySessionAction, recordSessionStart, SYSTEM, snapshotOf } from './sessions';
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
    const known = await tx
      .selectFrom('clients')
      .select(['name', 'avatar_url', 'email', 'phone'])
      .where('id', '=', existing.client_id)
      .executeTakeFirstOrThrow();
    const changes = {
      ...(user.name && user.name !== known.name ? { name: user.name } : {}),
      ...(user.avatarUrl && user.avatarUrl !== known.avatar_url ? { avatar_url: user.avatarUrl } : {}),
      ...(user.email && user.email !== known.email ? { email: user.email } : {}),
      ...(user.phone && user.phone !== known.phone ? { phone: user.phone } : {}),
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
  if (open) return { session: open, opened: false };
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
  reloaded = false,
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
  let known: KnownClient | null;
  try {
    known = await readClientState(ctx, channel, lineId, message.user.id);
  } catch (error) {
    if (!(error instanceof ChannelChanged) || reloaded) throw error;
    // Moved to another line meanwhile: take the message with the channel as it is now.
    const fresh = await ctx.store.db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', channel.id)
      .executeTakeFirstOrThrow();
    return receiveInbound(ctx, fresh, message, true);
  }
  if (known && heldPathFits(known, message)) {
    const held = await receiveInHeldSession(ctx, channel, known, message);
    if (held) return held;
  }
  if (opensPlainSession(known, message)) {
    const started = await startSession(
      ctx,
      { id: channel.id, account_id: channel.account_id, kind: channel.kind, line_id: lineId },
      known,
      message,
      previewOf(message.text, message.attachments),
    );
    if (started) return started;
  }
  let locks = linesToLock(known, lineId);
  for (let attempt = 1; ; attempt++) {
    try {
      return await intake(ctx, channel, lineId, message, locks);
    } catch (error) {
      if (!(error instanceof NeedsLineLocks) || attempt >= 3) throw error;
      locks = [...new Set([...locks, ...error.lineIds])];
    }
  }
}

/**
 * Thrown when the state found under the row locks needs routing locks the transaction did not
 * take (a session closed meanwhile, so this message opens one): it is rolled back and run again
 * with them, since the line lock must come before any row lock.
 */
class NeedsLineLocks extends Error {
  constructor(readonly lineIds: string[]) {
    super('needs line locks');
  }
}

/** The stored channel is not the one the message came in with (it was cached). */
class ChannelChanged extends Error {
  constructor() {
    super('channel changed');
  }
}

/** The client, their dialog on the line and its latest session as found without locks. */
export interface KnownClient {
  clientId: string;
  name: string;
  avatarUrl: string | null;
  email: string | null;
  phone: string | null;
  dialogId: string;
  spam: boolean;
  pinnedOperatorId: string | null;
  identities: { channelId: string; externalId: string }[];
  sessionId: string | null;
  status: SessionRow['status'] | null;
  sessionLineId: string | null;
  ratingPending: boolean;
}

/** One read, without locks, of what decides the path a message takes (and the locks it needs). */
async function readClientState(
  ctx: AppContext,
  channel: ChannelRow,
  lineId: string,
  externalUserId: string,
): Promise<KnownClient | null> {
  // The channel is read with the client: a cached channel (services/channels) that was
  // disconnected, moved or given a new token meanwhile is caught here, before anything is stored.
  const row = await ctx.store.db
    .selectFrom('channels')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('client_identities')
          .innerJoin('clients', 'clients.id', 'client_identities.client_id')
          .innerJoin('dialogs', (join) =>
            join
              .onRef('dialogs.client_id', '=', 'client_identities.client_id')
              .onRef('dialogs.channel_id', '=', 'client_identities.channel_id')
              .on('dialogs.line_id', '=', lineId),
          )
          .leftJoinLateral(
            (inner) =>
              inner
                .selectFrom('sessions')
                .select(['id', 'status', 'line_id', 'rating_requested_at', 'rating'])
                .whereRef('sessions.dialog_id', '=', 'dialogs.id')
                .orderBy('created_at', 'desc')
                .orderBy('seq', 'desc')
                .limit(1)
                .as('latest'),
            (join) => join.onTrue(),
          )
          .select([
            'clients.id as client_id',
            'clients.name',
            'clients.avatar_url',
            'clients.email',
            'clients.phone',
            'dialogs.id as dialog_id',
            'dialogs.spam',
            'dialogs.pinned_operator_id',
            (inner) =>
              inner
                .selectFrom('client_identities as all_identities')
                .select(
                  sql<
                    { channelId: string; externalId: string }[]
                  >`coalesce(jsonb_agg(jsonb_build_object('channelId', all_identities.channel_id, 'externalId', all_identities.external_id)), '[]'::jsonb)`.as(
                    'list',
                  ),
                )
                .whereRef('all_identities.client_id', '=', 'clients.id')
                .as('identities'),
            'latest.id as session_id',
            'latest.status as session_status',
            'latest.line_id as session_line_id',
            'latest.rating_requested_at',
            'latest.rating',
          ])
          .where('client_identities.channel_id', '=', channel.id)
          .where('client_identities.external_id', '=', externalUserId)
          .as('known'),
      (join) => join.onTrue(),
    )
    .select([
      'channels.status as channel_status',
      'channels.line_id as channel_line_id',
      'channels.inbound_token_hash',
      'known.client_id',
      'known.name',
      'known.avatar_url',
      'known.email',
      'known.phone',
      'known.dialog_id',
      'known.spam',
      'known.pinned_operator_id',
      'known.identities',
      'known.session_id',
      'known.session_status',
      'known.session_line_id',
      'known.rating_requested_at',
      'known.rating',
    ])
    .where('channels.id', '=', channel.id)
    .executeTakeFirst();
  if (
    !row ||
    row.channel_status !== channel.status ||
    row.channel_line_id !== channel.line_id ||
    row.inbound_token_hash !== channel.inbound_token_hash
  ) {
    forgetInboundChannel(ctx, channel.id);
    if (!row || row.inbound_token_hash !== channel.inbound_token_hash)
      throw new AppError('unauthenticated', 'The channel token is not valid');
    assertTakesMessages({ status: row.channel_status, line_id: row.channel_line_id });
    throw new ChannelChanged();
  }
  if (row.client_id === null || row.dialog_id === null || row.name === null || row.spam === null) return null;
  return {
    clientId: row.client_id,
    name: row.name,
    avatarUrl: row.avatar_url,
    email: row.email,
    phone: row.phone,
    dialogId: row.dialog_id,
    spam: row.spam,
    pinnedOperatorId: row.pinned_operator_id,
    identities: row.identities ?? [],
    sessionId: row.session_id,
    status: row.session_status as SessionRow['status'] | null,
    sessionLineId: row.session_line_id,
    ratingPending: row.rating_requested_at !== null && row.rating === null,
  };
}

/** A message the lean path can take: to a held session, from a client whose profile is unchanged. */
function heldPathFits(known: KnownClient, message: InboundMessage): boolean {
  return (
    !known.spam &&
    !known.ratingPending &&
    !profileChanged(known, message) &&
    known.sessionId !== null &&
    known.status !== null &&
    hasOperator(known.status)
  );
}

/** A message that opens a session the lean way: a new client, or a known one whose last session is over. */
function opensPlainSession(known: KnownClient | null, message: InboundMessage): boolean {
  if (known === null) return true;
  return (
    !known.spam &&
    !known.ratingPending &&
    !profileChanged(known, message) &&
    (known.status === null || isClosed(known.status))
  );
}

function profileChanged(known: KnownClient, message: InboundMessage): boolean {
  const { user } = message;
  return Boolean(
    (user.name && user.name !== known.name) ||
      (user.avatarUrl && user.avatarUrl !== known.avatarUrl) ||
      (user.email && user.email !== known.email) ||
      (user.phone && user.phone !== known.phone),
  );
}

/**
 * The routing locks a message will need. Most messages go to a session an operator already holds:
 * they change no routing and take no line lock, so one busy line does not serialise all its
 * dialogs. A message that opens a session, or lands in one still waiting for an operator or
 * answering a rating request, needs its line's lock.
 */
function linesToLock(known: KnownClient | null, lineId: string): string[] {
  if (!known || !known.status || !known.sessionLineId) return [lineId];
  if (known.spam) return [];
  if (hasOperator(known.status) && !known.ratingPending) return [];
  return [lineId, known.sessionLineId];
}

/**
 * The lean write path (engine issue "one load, one plan, one write"): a client message in a session
 * an operator holds. One locked read of the session with what the plan needs, the pure plan
 * (core/held-message), one statement that writes it, and one event built from the rows in memory:
 * `message.created` carries the dialog's new activity, so no dialog is re-read or re-presented.
 * Answers null, having written nothing, when the session is not (or no longer) plainly held; the
 * general intake then takes the message.
 */
async function receiveInHeldSession(
  ctx: AppContext,
  channel: ChannelRow,
  known: KnownClient,
  message: InboundMessage,
): Promise<IntakeResult | null> {
  return runInTransaction(ctx, async (uow) => {
    const locked = await lockHeldSession(uow.tx, channel.account_id, known.sessionId!);
    if (!locked || locked.session.dialog_id !== known.dialogId) return null;
    const line = await lineAsOf(uow.tx, locked.session.line_id, locked.lineUpdatedAt);
    const now = ctx.clock.now();
    const { session } = locked;
    const plan = planHeldClientMessage(
      {
        ...snapshotOf(session),
        waitingSince: session.waiting_since,
        firstAnswerAt: session.first_answer_at,
        ratingRequestedAt: session.rating_requested_at,
        rated: session.rating !== null,
        consentRequestedAt: session.consent_requested_at,
        consentGivenAt: session.consent_given_at,
        armedTimers: locked.armedTimers,
      },
      {
        noAnswerSeconds: line.settings.queue.noAnswerTimeSeconds,
        furtherAnswerTargetSeconds: line.settings.kpi.furtherAnswer.targetSeconds,
        answersByReply: answersBy(channel) === 'reply',
      },
      now,
    );
    if (!plan) return null;
    const preview = previewOf(message.text, message.attachments);
    const row = await writeHeldClientMessage(uow.tx, {
      accountId: channel.account_id,
      dialogId: known.dialogId,
      session,
      channelId: channel.id,
      clientId: known.clientId,
      text: message.text ?? null,
      attachmentsJson: JSON.stringify(message.attachments ?? []),
      externalId: message.externalId,
      preview,
      plan,
      now,
    });
    if (!row) return findDuplicate(uow.tx, channel.id, message.externalId);
    const updated: SessionRow = {
      ...session,
      status: plan.status,
      last_client_message_at: plan.lastClientMessageAt,
      waiting_since: plan.waitingSince ?? session.waiting_since,
    };
    emitHeldMessage(uow, {
      accountId: channel.account_id,
      lineActive: locked.lineActive,
      message: presentMessage(row),
      activity: {
        lastMessageAt: now.toISOString(),
        lastMessagePreview: preview,
        unreachable: false,
        session: presentSession(
          updated,
          locked.participantIds,
          kpiState(
            {
              firstAnswerSeconds: line.settings.kpi.firstAnswer.targetSeconds,
              furtherAnswerSeconds: line.settings.kpi.furtherAnswer.targetSeconds,
            },
            {
              open: true,
              createdAt: updated.created_at,
              firstAnswerAt: updated.first_answer_at,
              waitingSince: updated.waiting_since,
              breaches: locked.kpiBreaches,
            },
            now,
          ),
        ),
      },
      pinnedOperatorId: locked.pinnedOperatorId,
    });
    return { messageId: row.id, dialogId: known.dialogId, sessionId: session.id, duplicate: false };
  });
}

async function intake(
  ctx: AppContext,
  channel: ChannelRow,
  lineId: string,
  message: InboundMessage,
  locks: string[],
): Promise<IntakeResult> {
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const duplicate = await findDuplicate(tx, channel.id, message.externalId);
    if (duplicate) return duplicate;
    await lockLines(tx, locks);
    const needLock = (id: string) => {
      if (!locks.includes(id)) throw new NeedsLineLocks([lineId, id]);
    };
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
        emitMessage(ctx, uow, 'message.created', presentMessage(row), channel.account_id);
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
      needLock(latest.line_id);
      const row = await insertMessage(latest.id);
      await writeClientRating(ctx, uow, { dialog, line: latestLine, session: latest, channel }, rating, null);
      return finish(row, latest);
    }

    const { session: current, opened } = await openSessionOf(uow, dialog, now);
    if (opened || ['new', 'bot', 'queued'].includes(current.status)) needLock(current.line_id);
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
