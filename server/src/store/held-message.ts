import { sql, type Transaction } from 'kysely';
import type { HeldMessagePlan, TimerKind } from '../core/held-message';
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
  pinnedOperatorId: string | null;
  lineUpdatedAt: Date;
  lineActive: boolean;
}

/**
 * Locks a session (the row lock orders every writer of it) and reads, in the same statement, its
 * armed timers, participants, KPI breaches, the dialog's pin and the line's version.
 */
export async function lockHeldSession(
  tx: Tx,
  accountId: string,
  sessionId: string,
): Promise<LockedHeldSession | undefined> {
  const row = await tx
    .selectFrom('sessions')
    .innerJoin('lines', 'lines.id', 'sessions.line_id')
    .innerJoin('dialogs', 'dialogs.id', 'sessions.dialog_id')
    .selectAll('sessions')
    .select((eb) => [
      'lines.updated_at as line_updated_at',
      'lines.active as line_active',
      'dialogs.pinned_operator_id as dialog_pinned_operator_id',
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
    ])
    .where('sessions.account_id', '=', accountId)
    .where('sessions.id', '=', sessionId)
    .forUpdate('sessions')
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    line_updated_at,
    line_active,
    dialog_pinned_operator_id,
    armed_timers,
    participant_ids,
    kpi_breaches,
    ...session
  } = row;
  return {
    session,
    armedTimers: armed_timers ?? [],
    participantIds: participant_ids ?? [],
    kpiBreaches: Number(kpi_breaches ?? 0),
    pinnedOperatorId: dialog_pinned_operator_id,
    lineUpdatedAt: line_updated_at,
    lineActive: line_active,
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
  now: Date;
}

/**
 * Writes a planned client message in one statement: the message (deduplicated by the channel's
 * message id), the session, the dialog's preview, the transition and the timers. Every other part
 * is conditional on the message being new, so a redelivery changes nothing and answers null.
 */
export async function writeHeldClientMessage(
  tx: Tx,
  input: HeldClientMessageWrite,
): Promise<MessageRow | null> {
  const { plan, now, session } = input;
  const parts = [
    sql`s as (
      update sessions set status = ${plan.status}, last_client_message_at = ${plan.lastClientMessageAt}
        ${plan.waitingSince ? sql`, waiting_since = ${plan.waitingSince}` : sql``}
      where id = ${session.id} and exists (select 1 from m)
    )`,
    sql`d as (
      update dialogs set last_message_at = ${now}, last_message_preview = ${input.preview}, unreachable_at = null
      where id = ${input.dialogId} and exists (select 1 from m)
    )`,
  ];
  if (plan.transition) {
    parts.push(sql`t as (
      insert into session_transitions
        (account_id, session_id, from_status, to_status, operator_id, actor_kind, actor_id, reason, at)
      select ${input.accountId}, ${session.id}, ${plan.transition.from}, ${plan.transition.to},
        ${session.operator_id}, 'client', ${input.clientId}, 'client_message', ${now}
      where exists (select 1 from m)
    )`);
  }
  if (plan.arm.length > 0) {
    const values = sql.join(
      plan.arm.map(
        (timer) =>
          sql`(${input.accountId}::uuid, ${session.id}::uuid, ${timer.kind}::text, ${timer.dueAt}::timestamptz)`,
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
  if (plan.cancel.length > 0) {
    parts.push(sql`c as (
      delete from timers where session_id = ${session.id} and kind in (${sql.join(plan.cancel)})
        and exists (select 1 from m)
    )`);
  }
  const result = await sql<MessageRow>`
    with m as (
      insert into messages (account_id, dialog_id, session_id, channel_id, author_kind, author_id, text,
        attachments, spam, delivery_state, delivery_error, external_id, client_message_id, created_at)
      values (${input.accountId}, ${input.dialogId}, ${session.id}, ${input.channelId}, 'client',
        ${input.clientId}, ${input.text}, ${input.attachmentsJson}::jsonb, false, 'received', null,
        ${input.externalId}, null, ${now})
      on conflict (channel_id, external_id) where external_id is not null and author_kind = 'client'
      do nothing
      returning *
    ), ${sql.join(parts)}
    select * from m`.execute(tx);
  return result.rows[0] ?? null;
}
