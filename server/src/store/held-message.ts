import { OPERATOR_STATUSES } from '@openlines/contract';
import { sql, type Transaction } from 'kysely';
import type { HeldMessagePlan, OperatorAnswerPlan, TimerKind, TimerToArm } from '../core/held-message';
import type { OperatorProfile } from '../core/operator-shown';
import type { DB, MessageRow, SessionRow } from './schema';

type Tx = Transaction<DB>;

/**
 * The statements of the lean write path (services/held-message): a held session locked with what
 * its plan needs in one read, and the plan written in one data-modifying statement.
 */

export interface LockedHeldSession {
  session: SessionRow;
  armedTimers: TimerKind[];
  participantIds: string[];
  kpiBreaches: number;
  unansweredBreaches: number;
  pinnedOperatorId: string | null;
  dialogUnreachable: boolean;
  lineUpdatedAt: Date;
  lineActive: boolean;
}

/** The session with its armed timers, participants, KPI breaches, the dialog's pin and the line's version. */
function heldSessionQuery(tx: Tx) {
  return tx
    .selectFrom('sessions')
    .innerJoin('lines', 'lines.id', 'sessions.line_id')
    .innerJoin('dialogs', 'dialogs.id', 'sessions.dialog_id')
    .selectAll('sessions')
    .select((eb) => [
      'lines.updated_at as line_updated_at',
      'lines.active as line_active',
      'dialogs.pinned_operator_id as dialog_pinned_operator_id',
      'dialogs.unreachable_at as dialog_unreachable_at',
      eb
        .selectFrom('timers')
        .select(sql<TimerKind[]>`coalesce(jsonb_agg(timers.kind), '[]'::jsonb)`.as('kinds'))
        .whereRef('timers.session_id', '=', 'sessions.id')
        .as('armed_timers'),
      eb
        .selectFrom('session_participants')
        .select(
          sql<
            string[]
          >`coalesce(jsonb_agg(session_participants.user_id order by session_participants.joined_at), '[]'::jsonb)`.as(
            'ids',
          ),
        )
        .whereRef('session_participants.session_id', '=', 'sessions.id')
        .as('participant_ids'),
      eb
        .selectFrom('kpi_breaches')
        .select((inner) => inner.fn.countAll<number>().as('count'))
        .whereRef('kpi_breaches.session_id', '=', 'sessions.id')
        .as('kpi_breaches'),
      eb
        .selectFrom('kpi_breaches')
        .select((inner) => inner.fn.countAll<number>().as('count'))
        .whereRef('kpi_breaches.session_id', '=', 'sessions.id')
        .where('kpi_breaches.answered_at', 'is', null)
        .as('kpi_unanswered'),
    ]);
}

type HeldSessionRow = SessionRow & {
  line_updated_at: Date;
  line_active: boolean;
  dialog_pinned_operator_id: string | null;
  dialog_unreachable_at: Date | null;
  armed_timers: TimerKind[] | null;
  participant_ids: string[] | null;
  kpi_breaches: number | string | null;
  kpi_unanswered: number | string | null;
};

function lockedOf(row: HeldSessionRow): LockedHeldSession {
  const {
    line_updated_at,
    line_active,
    dialog_pinned_operator_id,
    dialog_unreachable_at,
    armed_timers,
    participant_ids,
    kpi_breaches,
    kpi_unanswered,
    ...session
  } = row;
  return {
    session,
    armedTimers: armed_timers ?? [],
    participantIds: participant_ids ?? [],
    kpiBreaches: Number(kpi_breaches ?? 0),
    unansweredBreaches: Number(kpi_unanswered ?? 0),
    pinnedOperatorId: dialog_pinned_operator_id,
    dialogUnreachable: dialog_unreachable_at !== null,
    lineUpdatedAt: line_updated_at,
    lineActive: line_active,
  };
}

/**
 * Locks sessions (the row lock orders every writer of one) and reads what their plans need with
 * them, in one statement. Rows are locked in id order, so two batches never wait on each other in
 * a circle; a session of another account is not found.
 */
export async function lockHeldSessions(
  tx: Tx,
  sessions: { accountId: string; sessionId: string }[],
): Promise<Map<string, LockedHeldSession>> {
  const found = new Map<string, LockedHeldSession>();
  if (sessions.length === 0) return found;
  const rows = await heldSessionQuery(tx)
    .where(
      'sessions.id',
      'in',
      sessions.map((s) => s.sessionId),
    )
    .orderBy('sessions.id')
    .forUpdate('sessions')
    .execute();
  const accountOf = new Map(sessions.map((s) => [s.sessionId, s.accountId]));
  for (const row of rows) {
    if (accountOf.get(row.id) === row.account_id) found.set(row.id, lockedOf(row as HeldSessionRow));
  }
  return found;
}

export interface LockedAnswer extends LockedHeldSession {
  clientId: string;
  channelId: string;
  channelKind: string;
  recipientId: string | null;
  author: OperatorProfile | undefined;
}

/**
 * The open session of a dialog an operator answers in, locked, with whom the answer goes to (the
 * client's id on the channel, the channel's kind) and how the author is shown.
 */
export async function lockSessionForAnswer(
  tx: Tx,
  accountId: string,
  dialogId: string,
  authorId: string,
): Promise<LockedAnswer | undefined> {
  const row = await heldSessionQuery(tx)
    .innerJoin('channels', 'channels.id', 'dialogs.channel_id')
    .leftJoin('client_identities', (join) =>
      join
        .onRef('client_identities.client_id', '=', 'dialogs.client_id')
        .onRef('client_identities.channel_id', '=', 'dialogs.channel_id'),
    )
    .leftJoin('users', (join) => join.on('users.id', '=', authorId))
    .select([
      'dialogs.client_id as answer_client_id',
      'dialogs.channel_id as answer_channel_id',
      'channels.kind as answer_channel_kind',
      'client_identities.external_id as answer_recipient_id',
      'users.name as answer_author_name',
      'users.avatar_url as answer_author_avatar_url',
      'users.client_name as answer_author_client_name',
      'users.client_avatar_url as answer_author_client_avatar_url',
    ])
    .where('sessions.account_id', '=', accountId)
    .where('sessions.dialog_id', '=', dialogId)
    .where('sessions.status', 'in', OPERATOR_STATUSES)
    .forUpdate('sessions')
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    answer_client_id,
    answer_channel_id,
    answer_channel_kind,
    answer_recipient_id,
    answer_author_name,
    answer_author_avatar_url,
    answer_author_client_name,
    answer_author_client_avatar_url,
    ...held
  } = row;
  return {
    ...lockedOf(held as HeldSessionRow),
    clientId: answer_client_id,
    channelId: answer_channel_id,
    channelKind: answer_channel_kind,
    recipientId: answer_recipient_id,
    author:
      answer_author_name === null
        ? undefined
        : {
            name: answer_author_name,
            avatar_url: answer_author_avatar_url,
            client_name: answer_author_client_name,
            client_avatar_url: answer_author_client_avatar_url,
          },
  };
}

export interface HeldClientMessageWrite {
  accountId: string;
  dialogId: string;
  session: SessionRow;
  channelId: string;
  clientId: string;
  text: string | null;
  attachmentsJson: string;
  externalId: string;
  preview: string | null;
  plan: HeldMessagePlan;
}

/** Where a written client message is found among a batch's rows. */
export function clientMessageKey(channelId: string, externalId: string): string {
  return `${channelId} ${externalId}`;
}

/**
 * Writes planned client messages, each in a session of its own, in one statement: the messages
 * (deduplicated by the channel's message id), their sessions, the dialogs' previews, the
 * transitions and the timers. Every other part of a message's write is joined to its inserted row,
 * so a redelivery changes nothing and is missing from the answer (keyed by `clientMessageKey`).
 */
export async function writeHeldClientMessages(
  tx: Tx,
  inputs: HeldClientMessageWrite[],
  now: Date,
): Promise<Map<string, MessageRow>> {
  const written = new Map<string, MessageRow>();
  if (inputs.length === 0) return written;
  const messages = inputs.map((input) => ({
    account_id: input.accountId,
    dialog_id: input.dialogId,
    session_id: input.session.id,
    channel_id: input.channelId,
    client_id: input.clientId,
    text: input.text,
    attachments: JSON.parse(input.attachmentsJson) as unknown,
    external_id: input.externalId,
    preview: input.preview,
    status: input.plan.status,
    last_client_message_at: input.plan.lastClientMessageAt,
    waiting_since: input.plan.waitingSince,
    transition_from: input.plan.transition?.from ?? null,
    transition_to: input.plan.transition?.to ?? null,
    operator_id: input.session.operator_id,
  }));
  const arm = inputs.flatMap((input) =>
    input.plan.arm.map((timer) => ({ session_id: input.session.id, kind: timer.kind, due_at: timer.dueAt })),
  );
  const cancel = inputs.flatMap((input) =>
    input.plan.cancel.map((kind) => ({ session_id: input.session.id, kind })),
  );
  const parts = [];
  if (arm.length > 0) {
    parts.push(sql`a as (
      insert into timers (account_id, session_id, kind, due_at, payload)
      select done.account_id, v.session_id, v.kind, v.due_at, '{}'::jsonb
      from jsonb_to_recordset(${JSON.stringify(arm)}::jsonb) as v(session_id uuid, kind text, due_at timestamptz)
      join done on done.session_id = v.session_id
      on conflict (session_id, kind) do update set due_at = excluded.due_at, payload = excluded.payload
    )`);
  }
  if (cancel.length > 0) {
    parts.push(sql`c as (
      delete from timers using jsonb_to_recordset(${JSON.stringify(cancel)}::jsonb) as v(session_id uuid, kind text), done
      where timers.session_id = v.session_id and timers.kind = v.kind and done.session_id = v.session_id
    )`);
  }
  const result = await sql<MessageRow>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(messages)}::jsonb) as i(
        account_id uuid, dialog_id uuid, session_id uuid, channel_id uuid, client_id uuid, text text,
        attachments jsonb, external_id text, preview text, status text, last_client_message_at timestamptz,
        waiting_since timestamptz, transition_from text, transition_to text, operator_id uuid)
    ), m as (
      insert into messages (account_id, dialog_id, session_id, channel_id, author_kind, author_id, text,
        attachments, spam, delivery_state, delivery_error, external_id, client_message_id, created_at)
      select account_id, dialog_id, session_id, channel_id, 'client', client_id, text, attachments, false,
        'received', null, external_id, null, ${now}::timestamptz
      from input
      on conflict (channel_id, external_id) where external_id is not null and author_kind = 'client'
      do nothing
      returning *
    ), done as (
      select input.* from input join m on m.session_id = input.session_id
    ), s as (
      update sessions set status = done.status, last_client_message_at = done.last_client_message_at,
        waiting_since = coalesce(done.waiting_since, sessions.waiting_since)
      from done where sessions.id = done.session_id
    ), d as (
      update dialogs set last_message_at = ${now}::timestamptz, last_message_preview = done.preview,
        unreachable_at = null
      from done where dialogs.id = done.dialog_id
    ), t as (
      insert into session_transitions
        (account_id, session_id, dialog_id, from_status, to_status, operator_id, actor_kind, actor_id, reason, at)
      select account_id, session_id, dialog_id, transition_from, transition_to, operator_id, 'client', client_id::text,
        'client_message', ${now}::timestamptz
      from done where transition_to is not null
    )${parts.length > 0 ? sql`, ${sql.join(parts)}` : sql``}
    select * from m`.execute(tx);
  for (const row of result.rows) {
    written.set(clientMessageKey(row.channel_id!, row.external_id!), row);
  }
  return written;
}

export interface OperatorAnswerWrite {
  messageId: string;
  accountId: string;
  dialogId: string;
  session: SessionRow;
  channelId: string;
  authorId: string;
  text: string | null;
  attachmentsJson: string;
  clientMessageId: string | null;
  deliveryState: 'pending' | 'sent';
  /** The outbox row's payload (JSON), or null when the message goes to nobody outside. */
  outboxPayloadJson: string | null;
  outboxState: 'pending' | 'sent';
  /** The queuing span's traceparent (tracing on): the delivery's span links to it. */
  traceParent: string | null;
  preview: string | null;
  plan: OperatorAnswerPlan;
  now: Date;
}

/**
 * Writes a planned operator answer in one statement: the message (deduplicated by the sender's
 * client message id), its outbox row, the session, the dialog's preview, the transition, the
 * timers and the KPI breaches it answers. A retried send changes nothing and answers null.
 */
export async function writeOperatorAnswer(tx: Tx, input: OperatorAnswerWrite): Promise<MessageRow | null> {
  const { plan, now, session } = input;
  const parts = [
    sql`s as (
      update sessions set status = ${plan.status}, last_operator_message_at = ${plan.lastOperatorMessageAt},
        waiting_since = null, unanswered = false
        ${plan.firstAnswerAt ? sql`, first_answer_at = ${plan.firstAnswerAt}` : sql``}
      where id = ${session.id} and exists (select 1 from m)
    )`,
    sql`d as (
      update dialogs set last_message_at = ${now}, last_message_preview = ${input.preview}
      where id = ${input.dialogId} and exists (select 1 from m)
    )`,
  ];
  if (input.outboxPayloadJson !== null) {
    parts.push(sql`o as (
      insert into outbox (account_id, channel_id, message_id, payload, next_attempt_at, state, trace_parent)
      select ${input.accountId}, ${input.channelId}, m.id, ${input.outboxPayloadJson}::jsonb, ${now},
        ${input.outboxState}, ${input.traceParent}
      from m
    )`);
  }
  if (plan.transition) {
    parts.push(sql`t as (
      insert into session_transitions
        (account_id, session_id, dialog_id, from_status, to_status, operator_id, actor_kind, actor_id, reason, at)
      select ${input.accountId}, ${session.id}, ${input.dialogId}, ${plan.transition.from}, ${plan.transition.to},
        ${session.operator_id}, 'operator', ${input.authorId}, 'operator_message', ${now}
      where exists (select 1 from m)
    )`);
  }
  if (plan.answerBreaches) {
    parts.push(sql`b as (
      update kpi_breaches set answered_at = ${now}
      where session_id = ${session.id} and answered_at is null and exists (select 1 from m)
    )`);
  }
  parts.push(...timerParts(input.accountId, session.id, plan.arm, plan.cancel));
  const result = await sql<MessageRow>`
    with m as (
      insert into messages (id, account_id, dialog_id, session_id, channel_id, author_kind, author_id, text,
        attachments, private, spam, delivery_state, delivery_error, external_id, client_message_id,
        system_kind, created_at)
      values (${input.messageId}, ${input.accountId}, ${input.dialogId}, ${session.id}, ${input.channelId},
        'operator', ${input.authorId}, ${input.text}, ${input.attachmentsJson}::jsonb, false, false,
        ${input.deliveryState}, null, null, ${input.clientMessageId}, null, ${now})
      on conflict (dialog_id, client_message_id) where client_message_id is not null do nothing
      returning *
    ), ${sql.join(parts)}
    select * from m`.execute(tx);
  return result.rows[0] ?? null;
}

/** Timers armed (re-armed) and cancelled with a planned write, only when the message is new. */
function timerParts(accountId: string, sessionId: string, arm: TimerToArm[], cancel: TimerKind[]) {
  const parts = [];
  if (arm.length > 0) {
    const values = sql.join(
      arm.map(
        (timer) =>
          sql`(${accountId}::uuid, ${sessionId}::uuid, ${timer.kind}::text, ${timer.dueAt}::timestamptz)`,
      ),
    );
    parts.push(sql`a as (
      insert into timers (account_id, session_id, kind, due_at, payload)
      select v.account_id, v.session_id, v.kind, v.due_at, '{}'::jsonb
      from (values ${values}) as v(account_id, session_id, kind, due_at)
      where exists (select 1 from m)
      on conflict (session_id, kind) do update set due_at = excluded.due_at, payload = excluded.payload
    )`);
  }
  if (cancel.length > 0) {
    parts.push(sql`c as (
      delete from timers where session_id = ${sessionId} and kind in (${sql.join(cancel)})
        and exists (select 1 from m)
    )`);
  }
  return parts;
}
