import { hasOperator, isClosed, OPEN_STATUSES } from '@openlines/contract';
import { type Kysely, sql } from 'kysely';
import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { ChannelRow, DB, DialogRow, LineRow, MessageRow, SessionRow } from '../store/schema';
import { traced } from '../tracing';
import { answersBy } from './automation/answers';
import { hasConsent, writeConsent } from './automation/consent';
import { onClientMessage, onSessionOpened } from './automation/hooks';
import { latestSession } from './automation/lookup';
import { isRatingReply, writeClientRating } from './automation/rating';
import { onBotClientMessage, startBot, welcomeBotOfNewSession } from './bot-sessions';
import { assertTakesMessages, forgetInboundChannel } from './channels';
import { attachCrmToSession } from './crm/intake';
import { emitMessage, touchDialog } from './dialog-events';
import { queueDialogStart } from './dialog-lifecycle';
import { type GroupCommit, groupCommitOf, type Settled } from './group-commit';
import { receiveInHeldSession } from './held-intake';
import { lockLines } from './locks';
import { presentMessage, previewOf } from './message-presenter';
import { routeSession } from './routing';
import { startSession } from './session-start';
import { applySessionAction, recordSessionStart, SYSTEM } from './sessions';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

export interface IntakeResult {
  messageId: string;
  dialogId: string;
  sessionId: string | null;
  duplicate: boolean;
}

async function findOrCreateClient(
  tx: Tx,
  channel: ChannelRow,
  user: InboundMessage['user'],
): Promise<{ id: string; blocked: boolean }> {
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
      .select(['name', 'avatar_url', 'email', 'phone', 'blocked_at'])
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
    return { id: existing.client_id, blocked: known.blocked_at !== null };
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
  return { id: client.id, blocked: false };
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
  channel: Pick<ChannelRow, 'id' | 'kind'>,
  now: Date,
): Promise<{ session: SessionRow; opened: boolean }> {
  const open = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('dialog_id', '=', dialog.id)
    .where('status', 'in', OPEN_STATUSES)
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
  await queueDialogStart(uow.tx, channel, session, now);
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
  return traced(
    ctx,
    'openlines.inbound.store',
    { 'openlines.channel.kind': channel.kind, 'openlines.channel.id': channel.id },
    async (span) => {
      const result = await intakeMessage(ctx, channel, message);
      if (!result.duplicate) ctx.telemetry?.inboundMessage(channel.kind);
      span?.setAttributes({
        'openlines.dialog.id': result.dialogId,
        'openlines.message.id': result.messageId,
        'openlines.duplicate': result.duplicate,
      });
      return result;
    },
  );
}

async function intakeMessage(
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
    known = await readClientState(ctx, { channel, lineId, externalUserId: message.user.id });
  } catch (error) {
    if (!(error instanceof ChannelChanged) || reloaded) throw error;
    // Moved to another line meanwhile: take the message with the channel as it is now.
    const fresh = await ctx.store.db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', channel.id)
      .executeTakeFirstOrThrow();
    return intakeMessage(ctx, fresh, message, true);
  }
  // A consent decision (API channel) is recorded by the general intake only, so the lean paths
  // below and their statement budgets stay as they are for every other message.
  if (known?.sessionId && !message.consent && heldPathFits(known, message)) {
    const held = await receiveInHeldSession(ctx, {
      channel,
      known: { ...known, sessionId: known.sessionId },
      message,
      preview: previewOf(message.text, message.attachments),
    });
    if (held.kind === 'stored') return held.result;
    if (held.kind === 'duplicate') {
      const stored = await findDuplicate(ctx.store.db, channel.id, message.externalId);
      if (stored) return stored;
    }
  }
  if (!message.consent && opensPlainSession(known, message)) {
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
  /** OP-3: the client was marked as spam (on any line): a new session of theirs is not routed. */
  blocked: boolean;
  pinnedOperatorId: string | null;
  /** The dialog's labels, so a new session's dialog event keeps them. */
  tags: string[];
  identities: { channelId: string; externalId: string }[];
  sessionId: string | null;
  status: SessionRow['status'] | null;
  sessionLineId: string | null;
  ratingPending: boolean;
}

interface ClientStateQuery {
  channel: ChannelRow;
  lineId: string;
  externalUserId: string;
}

const clientStateReads = new WeakMap<AppContext, GroupCommit<ClientStateQuery, KnownClient | null>>();

/**
 * One read, without locks, of what decides the path a message takes (and the locks it needs).
 * Concurrent messages share the statement (services/group-commit), which on PGlite's one
 * connection is what lets the held messages behind them share a transaction too.
 */
function readClientState(ctx: AppContext, query: ClientStateQuery): Promise<KnownClient | null> {
  return groupCommitOf(clientStateReads, ctx, () => ({
    run: (queries) => readClientStates(ctx, queries),
    maxBatch: 64,
  })).submit(query);
}

async function readClientStates(
  ctx: AppContext,
  queries: ClientStateQuery[],
): Promise<Settled<KnownClient | null>[]> {
  const input = sql<{ idx: number; channel_id: string; line_id: string; user_id: string }>`(
    select * from jsonb_to_recordset(${JSON.stringify(
      queries.map((query, idx) => ({
        idx,
        channel_id: query.channel.id,
        line_id: query.lineId,
        user_id: query.externalUserId,
      })),
    )}::jsonb) as i(idx int, channel_id uuid, line_id uuid, user_id text)
  )`.as('input');
  // The channel is read with the client: a cached channel (services/channels) that was
  // disconnected, moved or given a new token meanwhile is caught here, before anything is stored.
  const rows = await ctx.store.db
    .selectFrom(input)
    .leftJoin('channels', 'channels.id', 'input.channel_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('client_identities')
          .innerJoin('clients', 'clients.id', 'client_identities.client_id')
          .innerJoin('dialogs', (join) =>
            join
              .onRef('dialogs.client_id', '=', 'client_identities.client_id')
              .onRef('dialogs.channel_id', '=', 'client_identities.channel_id')
              .onRef('dialogs.line_id', '=', 'input.line_id'),
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
            'clients.blocked_at',
            'dialogs.id as dialog_id',
            'dialogs.spam',
            'dialogs.pinned_operator_id',
            'dialogs.tags',
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
          .whereRef('client_identities.channel_id', '=', 'input.channel_id')
          .whereRef('client_identities.external_id', '=', 'input.user_id')
          .as('known'),
      (join) => join.onTrue(),
    )
    .select([
      'input.idx',
      'channels.id as found_channel_id',
      'channels.status as channel_status',
      'channels.line_id as channel_line_id',
      'channels.inbound_token_hash',
      'channels.account_suspended',
      'known.client_id',
      'known.name',
      'known.avatar_url',
      'known.email',
      'known.phone',
      'known.blocked_at',
      'known.dialog_id',
      'known.spam',
      'known.pinned_operator_id',
      'known.tags',
      'known.identities',
      'known.session_id',
      'known.session_status',
      'known.session_line_id',
      'known.rating_requested_at',
      'known.rating',
    ])
    .execute();
  const byIndex = new Map(rows.map((row) => [Number(row.idx), row]));
  return queries.map((query, idx): Settled<KnownClient | null> => {
    const row = byIndex.get(idx);
    const { channel } = query;
    if (
      !row?.found_channel_id ||
      row.channel_status !== channel.status ||
      row.channel_line_id !== channel.line_id ||
      row.inbound_token_hash !== channel.inbound_token_hash ||
      row.account_suspended
    ) {
      forgetInboundChannel(ctx, channel.id);
      try {
        if (!row?.found_channel_id || row.inbound_token_hash !== channel.inbound_token_hash)
          throw new AppError('unauthenticated', 'The channel token is not valid');
        assertTakesMessages({
          status: row.channel_status!,
          line_id: row.channel_line_id ?? null,
          account_suspended: row.account_suspended,
        });
        throw new ChannelChanged();
      } catch (error) {
        return { ok: false, error };
      }
    }
    if (row.client_id === null || row.dialog_id === null || row.name === null || row.spam === null)
      return { ok: true, value: null };
    return {
      ok: true,
      value: {
        clientId: row.client_id,
        name: row.name,
        avatarUrl: row.avatar_url,
        email: row.email,
        phone: row.phone,
        dialogId: row.dialog_id,
        spam: row.spam,
        blocked: row.blocked_at !== null,
        pinnedOperatorId: row.pinned_operator_id,
        tags: row.tags ?? [],
        identities: row.identities ?? [],
        sessionId: row.session_id,
        status: row.session_status as SessionRow['status'] | null,
        sessionLineId: row.session_line_id,
        ratingPending: row.rating_requested_at !== null && row.rating === null,
      },
    };
  });
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
    !known.blocked &&
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
  if (!known?.status || !known.sessionLineId) return [lineId];
  if (known.spam) return [];
  if (hasOperator(known.status) && !known.ratingPending) return [];
  return [lineId, known.sessionLineId];
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
    const { id: clientId, blocked } = await findOrCreateClient(tx, channel, message.user);
    const dialog = await findOrCreateDialog(tx, channel, lineId, clientId);
    // Checked again under the dialog lock: a concurrent delivery of the same message may have won.
    const raced = await findDuplicate(tx, channel.id, message.externalId);
    if (raced) return raced;
    const client = { kind: 'client' as const, id: clientId };
    const insertMessage = (sessionId: string | null, spam = dialog.spam) =>
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
          spam,
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
      if (!row.spam) {
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

    // OP-3: a blocked client (marked as spam on any line) opens no session: kept, routed nowhere.
    // The dialog is marked too, so it stays out of the lists like the one marked by hand.
    if (blocked && (!latest || isClosed(latest.status))) {
      if (!dialog.spam)
        await tx.updateTable('dialogs').set({ spam: true }).where('id', '=', dialog.id).execute();
      return finish(await insertMessage(null, true), null);
    }

    const { session: current, opened } = await openSessionOf(uow, dialog, channel, now);
    if (opened || ['new', 'bot', 'queued'].includes(current.status)) needLock(current.line_id);
    const row = await insertMessage(current.id);
    const conversation = {
      line: current.line_id === line.id ? line : await loadLineOf(tx, current),
      dialog,
      channel,
    };
    let session = current;
    if (message.consent) {
      // Before the session's automation: a consent given on the sender's side means the line
      // does not send its agreement text (hooks.onSessionOpened checks for a consent).
      await writeConsent(ctx, uow, {
        line: conversation.line,
        clientId,
        channelId: channel.id,
        sessionId: session.id,
        dialogId: dialog.id,
        how: message.consentTaken?.how ?? 'api',
        decision: message.consent,
        ...(message.consentTaken ? { at: message.consentTaken.at } : {}),
      });
    }
    // BOT-1: the line's welcome bot takes a new session (a line without one reads nothing more).
    const bot =
      opened && conversation.line.active
        ? await welcomeBotOfNewSession(tx, conversation.line, dialog.id, session.id)
        : null;
    if (opened) {
      session = await onSessionOpened(ctx, uow, { ...conversation, session }, { botAnswers: bot !== null });
      // CRM-2, once per new session: the same lookup and writes as the lean start's.
      const crmLine = conversation.line;
      if (crmLine.settings.crm.enabled) {
        const client = await tx
          .selectFrom('clients')
          .select(['name', 'email', 'phone'])
          .where('id', '=', clientId)
          .executeTakeFirstOrThrow();
        const consentMissing =
          crmLine.settings.agreement.required && !(await hasConsent(tx, crmLine, clientId, now));
        session = await attachCrmToSession(ctx, uow, {
          line: crmLine,
          accountId: channel.account_id,
          channel: { id: channel.id, kind: channel.kind },
          client: {
            id: clientId,
            name: client.name,
            externalId: message.user.id,
            phone: client.phone,
            email: client.email,
          },
          consentMissing,
          known: null,
          session,
        });
      }
    }
    if (bot)
      session = await startBot(ctx, uow, { ...conversation, session }, bot, 'welcome', botMessageOf(row));
    session = await onClientMessage(
      ctx,
      uow,
      { ...conversation, session },
      { opensSession: opened, consentDecided: message.consent !== undefined },
    );
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
      if (session.status === 'bot' && !opened) {
        session = await onBotClientMessage(ctx, uow, { ...conversation, session }, botMessageOf(row));
      }
    }
    session = await tx
      .updateTable('sessions')
      .set({ last_client_message_at: now })
      .where('id', '=', session.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (session.status === 'queued') session = await routeSession(ctx, uow, session, { newSession: opened });
    return finish(row, session);
  });
}

/** The client's message as a bot hears it. */
function botMessageOf(row: MessageRow) {
  return { id: row.id, text: row.text, attachments: row.attachments };
}

async function findDuplicate(
  tx: Kysely<DB>,
  channelId: string,
  externalId: string,
): Promise<IntakeResult | null> {
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
