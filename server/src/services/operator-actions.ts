import { OPERATOR_STATUSES } from '@openlines/contract';
import { findConnector } from '../channels/registry';
import type { AppContext } from '../context';
import { AppError, forbidden } from '../errors';
import { assertCanHold, passTo, presentOne, type SessionScope, withOpenSession } from './actions';
import type { Actor } from './actor';
import { touchDialog } from './dialog-events';
import { queueDialogStart } from './dialog-lifecycle';
import { loadVisibleDialog } from './dialogs';
import { loadLineRow } from './line-rows';
import { lockLines } from './locks';
import { lineQueue, redelegateLine } from './routing';
import { applySessionAction } from './sessions';
import { runInTransaction } from './transaction';

// Operator actions beyond answering (issue 19): writing first to a known client, answering a
// closed dialog, a supervisor's take-over and joining as a consultant, and labels on dialogs.

const HOUR_MS = 3_600_000;

/**
 * An operator writes to a client whose dialog has no open session (a follow-up, or answering a
 * closed dialog): a new session in the same dialog, held by the operator at once, so their next
 * message goes out on the lean answer path. The channel must still reach the client: connected,
 * on the dialog's line, and within the messenger's reply window (WhatsApp: 24 h after the client
 * last wrote) unless it can send an approved template. Queue members of the line and supervisors
 * may do this; the operator's concurrent-dialog limit holds.
 */
export async function followUpDialog(ctx: AppContext, actor: Actor, dialogId: string) {
  await runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const visible = await loadVisibleDialog(tx, actor, dialogId);
    await lockLines(tx, [visible.line_id]);
    // The dialog's row lock serialises this with the client's messages (services/intake).
    const dialog = await tx
      .selectFrom('dialogs')
      .selectAll()
      .where('id', '=', dialogId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (dialog.spam) throw new AppError('invalid_state', 'The client is marked as spam');
    const open = await tx
      .selectFrom('sessions')
      .select(['id', 'status'])
      .where('dialog_id', '=', dialogId)
      .where('status', 'in', ['new', 'bot', 'queued', ...OPERATOR_STATUSES])
      .executeTakeFirst();
    if (open) {
      throw new AppError('invalid_state', 'The dialog has an open session already; answer it', undefined, {
        sessionStatus: open.status,
      });
    }
    const line = await loadLineRow(tx, actor.accountId, dialog.line_id);
    if (!line.active) throw new AppError('invalid_state', 'The dialog’s line is not active');
    const queue = await lineQueue(tx, line);
    if (!queue.includes(actor.userId) && !actor.permissions.supervise) {
      throw forbidden('Only the line’s operators or a supervisor can write to its clients');
    }
    const channel = await tx
      .selectFrom('channels')
      .select(['kind', 'status', 'line_id'])
      .where('id', '=', dialog.channel_id)
      .executeTakeFirstOrThrow();
    if (channel.status !== 'connected' || channel.line_id !== dialog.line_id) {
      throw new AppError(
        'invalid_state',
        'The dialog’s channel is disconnected or on another line now',
        undefined,
        {
          reasonCode: 'channel_unavailable',
        },
      );
    }
    if (dialog.unreachable_at) {
      throw new AppError('invalid_state', 'The channel says the client cannot be reached', undefined, {
        reasonCode: 'client_unreachable',
      });
    }
    const connector = findConnector(channel.kind);
    const now = ctx.clock.now();
    if (connector?.replyWindowHours && !connector.listTemplates) {
      const last = await tx
        .selectFrom('messages')
        .select((eb) => eb.fn.max('created_at').as('at'))
        .where('dialog_id', '=', dialogId)
        .where('author_kind', '=', 'client')
        .executeTakeFirst();
      const at = last?.at ? new Date(last.at as Date | string) : null;
      if (!at || now.getTime() - at.getTime() > connector.replyWindowHours * HOUR_MS) {
        throw new AppError(
          'invalid_state',
          `This channel accepts messages only within ${connector.replyWindowHours} hours after the client last wrote`,
          undefined,
          { reasonCode: 'reply_window_closed', replyWindowHours: connector.replyWindowHours },
        );
      }
    }
    await assertCanHold(tx, line, actor.userId, now, 'operator');
    const by = { kind: 'operator' as const, id: actor.userId };
    let session = await tx
      .insertInto('sessions')
      .values({
        account_id: dialog.account_id,
        dialog_id: dialog.id,
        line_id: dialog.line_id,
        status: 'new',
        passed_by: JSON.stringify([]),
        offered_to: JSON.stringify([]),
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('session_transitions')
      .values({
        account_id: session.account_id,
        session_id: session.id,
        dialog_id: session.dialog_id,
        from_status: null,
        to_status: 'new',
        operator_id: null,
        actor_kind: 'operator',
        actor_id: actor.userId,
        reason: 'started_by_operator',
        at: now,
      })
      .execute();
    await queueDialogStart(tx, { id: dialog.channel_id, kind: channel.kind }, session, now);
    // Through the queue like every session (core/session-machine), taken by the operator at once.
    session = await applySessionAction(ctx, uow, session, { type: 'enqueue' }, by, 'operator_start');
    await applySessionAction(
      ctx,
      uow,
      session,
      { type: 'assign', operatorId: actor.userId, mode: 'take' },
      by,
      'taken',
    );
  });
  return presentOne(ctx, dialogId);
}

function assertSupervisor(actor: Actor): void {
  if (!actor.permissions.supervise) throw forbidden('Only a supervisor can do this');
}

/**
 * A supervisor takes a dialog over from the operator holding it (or from the queue): it passes to
 * them like a transfer, recorded as an interception, and the operator it was taken from is told
 * by the dialog's event (they no longer hold it).
 */
export async function interceptDialog(ctx: AppContext, actor: Actor, dialogId: string) {
  await withOpenSession(ctx, actor, dialogId, async (scope: SessionScope) => {
    assertSupervisor(actor);
    const { session } = scope;
    if (session.operator_id === actor.userId && OPERATOR_STATUSES.includes(session.status as never)) {
      throw new AppError('invalid_state', 'You hold this dialog already');
    }
    if (session.status === 'queued' || session.status === 'bot') {
      await assertCanHold(scope.uow.tx, scope.line, actor.userId, ctx.clock.now(), 'operator');
      await applySessionAction(
        ctx,
        scope.uow,
        session,
        { type: 'assign', operatorId: actor.userId, mode: 'take' },
        scope.by,
        'intercepted',
      );
    } else {
      await passTo(ctx, scope, actor.userId, 'operator', 'intercepted');
    }
    await redelegateLine(ctx, scope.uow, actor.accountId, scope.line.id);
  });
  return presentOne(ctx, dialogId);
}

/**
 * A supervisor joins a dialog as a consultant without being invited: their messages stay private
 * (as an invited colleague's), and the history records that they joined.
 */
export async function joinDialog(ctx: AppContext, actor: Actor, dialogId: string) {
  await withOpenSession(ctx, actor, dialogId, async ({ uow, session }) => {
    assertSupervisor(actor);
    if (session.operator_id === actor.userId && OPERATOR_STATUSES.includes(session.status as never)) {
      throw new AppError('invalid_state', 'You hold this dialog already');
    }
    const now = ctx.clock.now();
    const added = await uow.tx
      .insertInto('session_participants')
      .values({ session_id: session.id, user_id: actor.userId, joined_at: now })
      .onConflict((oc) => oc.columns(['session_id', 'user_id']).doNothing())
      .returning('user_id')
      .executeTakeFirst();
    if (!added) {
      throw new AppError('invalid_state', 'You are consulting on this dialog already');
    }
    // A history line only: the status and the holder stay as they are.
    await uow.tx
      .insertInto('session_transitions')
      .values({
        account_id: session.account_id,
        session_id: session.id,
        dialog_id: session.dialog_id,
        from_status: session.status,
        to_status: session.status,
        operator_id: session.operator_id,
        actor_kind: 'operator',
        actor_id: actor.userId,
        reason: 'joined',
        at: now,
      })
      .execute();
    touchDialog(ctx, uow, actor.accountId, dialogId);
  });
  return presentOne(ctx, dialogId);
}

/**
 * Replaces a dialog's labels (issue 19): anyone who may see the dialog may label it. Labels are
 * trimmed, deduplicated and kept in name order; the dialog's event carries them to every list.
 */
export async function setDialogTags(ctx: AppContext, actor: Actor, dialogId: string, tags: string[]) {
  const clean = [...new Set(tags.map((tag) => tag.trim()).filter((tag) => tag.length > 0))].sort((a, b) =>
    a.localeCompare(b),
  );
  await runInTransaction(ctx, async (uow) => {
    await loadVisibleDialog(uow.tx, actor, dialogId);
    await uow.tx
      .updateTable('dialogs')
      .set({ tags: JSON.stringify(clean) })
      .where('id', '=', dialogId)
      .execute();
    touchDialog(ctx, uow, actor.accountId, dialogId);
  });
  return presentOne(ctx, dialogId);
}
