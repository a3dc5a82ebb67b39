import type { AppContext } from '../context';
import { type SessionAction, type SessionSnapshot, transition } from '../core/session-machine';
import { AppError } from '../errors';
import type { SessionRow } from '../store/schema';
import { onBotLeft } from './bot-left';
import { crmOnHolderChange } from './crm/intake';
import { touchDialog } from './dialog-events';
import { queueDialogFinish } from './dialog-lifecycle';
import { cancelTimers } from './timers';
import type { Tx, UnitOfWork } from './transaction';

export interface ActorRef {
  kind: 'client' | 'operator' | 'system' | 'bot';
  id: string | null;
}

export const SYSTEM: ActorRef = { kind: 'system', id: null };

export function snapshotOf(row: SessionRow): SessionSnapshot {
  return {
    status: row.status,
    lineId: row.line_id,
    operatorId: row.operator_id,
    passedBy: row.passed_by,
    offeredTo: row.offered_to,
    pinned: row.pinned,
  };
}

const CLOSED_REASONS: Record<string, string> = {
  closed: 'closed',
  spam: 'spam',
  closed_silently: 'closed_silently',
  auto_closed: 'auto_closed',
};

/**
 * Loads a session for a state change: the caller holds its line's lock already (services/locks),
 * and the row lock taken here keeps two writers of one session in order.
 */
export async function lockSession(tx: Tx, accountId: string, sessionId: string): Promise<SessionRow> {
  const row = await tx
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', sessionId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'The session does not exist');
  return row;
}

/**
 * Applies one action of the session state machine and records it: the row, the transition with
 * its time, actor and reason (SPEC §15), timers that no longer apply, and the dialog event, all
 * in the caller's transaction. A refused action becomes 409 invalid_state.
 */
export async function applySessionAction(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  action: SessionAction,
  actor: ActorRef,
  reason: string,
  /** A note for the transition (a transfer's comment for the colleague who receives it). */
  comment: string | null = null,
): Promise<SessionRow> {
  const result = transition(snapshotOf(session), action);
  if (!result.ok) {
    throw new AppError(
      'invalid_state',
      `Cannot ${action.type.replace(/_/g, ' ')} a session that is ${session.status.replace(/_/g, ' ')}` +
        (result.code === 'invalid_state' ? '' : ` (${result.code.replace(/_/g, ' ')})`),
      undefined,
      { sessionStatus: session.status, reasonCode: result.code },
    );
  }
  const now = ctx.clock.now();
  const { patch, status } = result;
  const becomesAssigned = status === 'assigned' && (result.statusChanged || patch.operatorId !== undefined);
  const closes = result.statusChanged && status in CLOSED_REASONS;
  // BOT-4: the bot's time ends with any transition out of `bot`; an open session's wait for an
  // operator starts there.
  const leavesBot = session.status === 'bot' && status !== 'bot';
  const updated = await uow.tx
    .updateTable('sessions')
    .set({
      status,
      ...(patch.operatorId !== undefined ? { operator_id: patch.operatorId } : {}),
      ...(patch.lineId !== undefined ? { line_id: patch.lineId } : {}),
      ...(patch.passedBy !== undefined ? { passed_by: JSON.stringify(patch.passedBy) } : {}),
      ...(patch.offeredTo !== undefined ? { offered_to: JSON.stringify(patch.offeredTo) } : {}),
      ...(patch.pinned !== undefined ? { pinned: patch.pinned } : {}),
      ...(status === 'queued' && result.statusChanged ? { queued_at: now } : {}),
      ...(becomesAssigned ? { assigned_at: now } : {}),
      ...(status === 'answered' && session.first_answer_at === null ? { first_answer_at: now } : {}),
      ...(closes ? { closed_at: now, close_reason: reason } : {}),
      ...(leavesBot ? { bot_ended_at: now, ...(closes ? {} : { waiting_since: now }) } : {}),
    })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (result.statusChanged || patch.operatorId !== undefined || patch.lineId !== undefined) {
    await uow.tx
      .insertInto('session_transitions')
      .values({
        account_id: session.account_id,
        session_id: session.id,
        dialog_id: session.dialog_id,
        from_status: result.from,
        to_status: status,
        operator_id: updated.operator_id,
        actor_kind: actor.kind,
        actor_id: actor.id,
        reason,
        at: now,
        ...(comment ? { comment } : {}),
      })
      .execute();
  }
  // a pin is the holder's; when a skip or transfer takes the session from them, the dialog's
  // next sessions no longer go back to them either.
  if (session.pinned && patch.pinned === false && action.type !== 'unpin' && session.operator_id) {
    await uow.tx
      .updateTable('dialogs')
      .set({ pinned_operator_id: null })
      .where('id', '=', session.dialog_id)
      .where('pinned_operator_id', '=', session.operator_id)
      .execute();
  }
  // The queue timeout belongs to one assignment: any change of holder or state ends it.
  if (session.status === 'assigned' && (status !== 'assigned' || patch.operatorId !== undefined)) {
    await cancelTimers(uow.tx, session.id, ['queue_timeout']);
  }
  if (closes) {
    await cancelTimers(uow.tx, session.id);
    await queueDialogFinish(uow.tx, updated, now);
  }
  if (leavesBot) await onBotLeft(uow, session, updated, reason, now);
  touchDialog(ctx, uow, session.account_id, session.dialog_id, { leftQueue: result.from === 'queued' });
  // CRM: a record nobody owns goes to the new holder; a transfer may change its responsible.
  if (patch.operatorId) await crmOnHolderChange(ctx, uow, updated, action.type === 'transfer_operator');
  return updated;
}

/** Records the start of a session (no previous status). */
export async function recordSessionStart(uow: UnitOfWork, session: SessionRow, actor: ActorRef, at: Date) {
  await uow.tx
    .insertInto('session_transitions')
    .values({
      account_id: session.account_id,
      session_id: session.id,
      dialog_id: session.dialog_id,
      from_status: null,
      to_status: session.status,
      operator_id: null,
      actor_kind: actor.kind,
      actor_id: actor.id,
      reason: 'client_message',
      at,
    })
    .execute();
}
