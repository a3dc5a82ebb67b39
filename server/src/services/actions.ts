import type { Message, Permissions, SendMessageBody, TransferBody } from '@openlines/contract';
import { OPEN_STATUSES } from '@openlines/contract';
import { findConnector } from '../channels/registry';
import type { AppContext } from '../context';
import { whyIneligible } from '../core/routing';
import type { SessionAction } from '../core/session-machine';
import { AppError, forbidden, invalidField } from '../errors';
import { isUniqueViolation } from '../store/errors';
import type { DialogRow, LineRow, SessionRow } from '../store/schema';
import type { Actor } from './actor';
import { onOperatorAnswer, onSessionClosed } from './automation/hooks';
import { blockClient } from './client-blocks';
import { touchDialog } from './dialog-events';
import { loadVisibleDialog, presentDialogs } from './dialogs';
import { loadLineRow } from './line-rows';
import { lockLines } from './locks';
import { presentMessage } from './message-presenter';
import { storedSend, writeOutgoingMessage } from './messages';
import { answerAsHolder } from './operator-answer';
import { visibleRow } from './policies/dialog-visibility';
import { lineQueue, loadOperatorStates, redelegateLine, routeSession, routingSettingsOf } from './routing';
import { type ActorRef, applySessionAction, lockSession } from './sessions';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

// Operator actions (OP-3): each checks the actor's rights and the session's state on the server,
// runs in one transaction under the line's lock, and answers 409 when the state does not allow it.

export interface SessionScope {
  uow: UnitOfWork;
  dialog: DialogRow;
  session: SessionRow;
  line: LineRow;
  by: ActorRef;
}

async function currentSessionId(
  tx: Tx,
  dialogId: string,
): Promise<{ id: string; line_id: string } | undefined> {
  return tx
    .selectFrom('sessions')
    .select(['id', 'line_id'])
    .where('dialog_id', '=', dialogId)
    .where('status', 'in', OPEN_STATUSES)
    .executeTakeFirst();
}

/**
 * Runs an action on a dialog's open session: visible dialog (else 404), open session (else 409),
 * the line lock taken before the session row, and a re-check that nobody moved the session to
 * another line meanwhile.
 */
export async function withOpenSession<T>(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  work: (scope: SessionScope) => Promise<T>,
  extraLineIds: string[] = [],
  options: { queueMembersMaySee?: boolean } = {},
): Promise<T> {
  return runInTransaction(ctx, async (uow) => {
    const dialog = options.queueMembersMaySee
      ? await loadDialogForQueueMember(uow.tx, actor, dialogId)
      : await loadVisibleDialog(uow.tx, actor, dialogId);
    const open = await currentSessionId(uow.tx, dialog.id);
    if (!open)
      throw new AppError('invalid_state', 'The dialog has no open session', undefined, {
        sessionStatus: null,
      });
    await lockLines(uow.tx, [open.line_id, ...extraLineIds]);
    const session = await lockSession(uow.tx, actor.accountId, open.id);
    if (
      session.line_id !== open.line_id ||
      !OPEN_STATUSES.includes(session.status as (typeof OPEN_STATUSES)[number])
    ) {
      throw new AppError('conflict', 'The session changed meanwhile; try again');
    }
    const line = await loadLineRow(uow.tx, actor.accountId, session.line_id);
    return work({ uow, dialog, session, line, by: { kind: 'operator', id: actor.userId } });
  });
}

function assertHolderOrSupervisor(actor: Actor, session: SessionRow): void {
  if (session.operator_id === actor.userId || actor.permissions.supervise) return;
  throw forbidden('Only the operator holding the dialog or a supervisor can do this');
}

/** Whether the user may receive this session now regardless of presence (they are acting or chosen by hand). */
export async function assertCanHold(
  tx: Tx,
  line: LineRow,
  userId: string,
  now: Date,
  field: string,
): Promise<void> {
  const [state] = await loadOperatorStates(tx, line, [userId], now);
  if (!state) throw invalidField(field, 'no such user in this account');
  const reason = whyIneligible(state, { ...routingSettingsOf(line.settings), checkAvailable: false }, now);
  if (reason === 'dismissed') throw invalidField(field, 'the user is deactivated');
  if (reason === 'at_limit') {
    throw new AppError('conflict', 'The operator has reached the line’s limit of concurrent dialogs', [
      { field, message: 'is at the concurrent dialog limit' },
    ]);
  }
}

export async function presentOne(ctx: AppContext, dialogId: string) {
  const row = await ctx.store.db
    .selectFrom('dialogs')
    .selectAll()
    .where('id', '=', dialogId)
    .executeTakeFirstOrThrow();
  const [dialog] = await presentDialogs(ctx.store.db, [row], ctx.clock.now());
  return dialog!;
}

async function act(
  ctx: AppContext,
  scope: SessionScope,
  action: SessionAction,
  reason: string,
  comment: string | null = null,
) {
  return applySessionAction(ctx, scope.uow, scope.session, action, scope.by, reason, comment);
}

/**
 * Operators racing for an offered dialog: the loser no longer "sees" it once it is taken, but
 * should hear "already taken" (409), not "no such dialog". Queue members of its line may load it
 * for this; what they may do is still decided by the session's state and the take rules.
 */
async function loadDialogForQueueMember(tx: Tx, actor: Actor, dialogId: string): Promise<DialogRow> {
  try {
    return await loadVisibleDialog(tx, actor, dialogId);
  } catch (error) {
    const row = await tx
      .selectFrom('dialogs')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where('id', '=', dialogId)
      .executeTakeFirst();
    const open = row ? await currentSessionId(tx, row.id) : undefined;
    const line = open ? await loadLineRow(tx, actor.accountId, open.line_id) : undefined;
    if (row && line && (await lineQueue(tx, line)).includes(actor.userId)) return row;
    throw error;
  }
}

export async function takeDialog(ctx: AppContext, actor: Actor, dialogId: string) {
  await withOpenSession(
    ctx,
    actor,
    dialogId,
    async (scope) => {
      await takeSession(ctx, actor, scope);
    },
    [],
    { queueMembersMaySee: true },
  );
  return presentOne(ctx, dialogId);
}

async function takeSession(ctx: AppContext, actor: Actor, scope: SessionScope): Promise<SessionRow> {
  const { session, line, uow } = scope;
  if (session.status !== 'queued') {
    throw new AppError(
      'invalid_state',
      `Only a waiting dialog can be taken; this one is ${session.status}`,
      undefined,
      {
        sessionStatus: session.status,
      },
    );
  }
  const queue = await lineQueue(uow.tx, line);
  const mayTake =
    queue.includes(actor.userId) || session.offered_to.includes(actor.userId) || actor.permissions.supervise;
  if (!mayTake) throw forbidden('You are not in this line’s queue');
  await assertCanHold(uow.tx, line, actor.userId, ctx.clock.now(), 'operator');
  return act(ctx, scope, { type: 'assign', operatorId: actor.userId, mode: 'take' }, 'taken');
}

export async function skipDialog(ctx: AppContext, actor: Actor, dialogId: string) {
  await withOpenSession(ctx, actor, dialogId, async (scope) => {
    assertHolderOrSupervisor(actor, scope.session);
    const queued = await act(ctx, scope, { type: 'skip' }, 'skipped');
    await routeSession(ctx, scope.uow, queued);
    await redelegateLine(ctx, scope.uow, actor.accountId, scope.line.id);
  });
  return presentOne(ctx, dialogId);
}

/**
 * The dialog passes to a colleague chosen by hand (a transfer or a hand-over): their limit still
 * holds, and if they were consulting on it they now simply hold it.
 */
export async function passTo(
  ctx: AppContext,
  scope: SessionScope,
  userId: string,
  field: string,
  reason: string,
  comment: string | null = null,
) {
  await assertCanHold(scope.uow.tx, scope.line, userId, ctx.clock.now(), field);
  await act(ctx, scope, { type: 'transfer_operator', operatorId: userId }, reason, comment);
  await scope.uow.tx
    .deleteFrom('session_participants')
    .where('session_id', '=', scope.session.id)
    .where('user_id', '=', userId)
    .execute();
}

export async function transferDialog(ctx: AppContext, actor: Actor, dialogId: string, body: TransferBody) {
  const targetLineId = 'lineId' in body ? body.lineId : null;
  // A comment of only spaces says nothing to the colleague: it is not kept.
  const comment = body.comment?.trim() || null;
  await withOpenSession(
    ctx,
    actor,
    dialogId,
    async (scope) => {
      const { session, uow } = scope;
      assertHolderOrSupervisor(actor, session);
      if ('operatorId' in body) {
        await passTo(ctx, scope, body.operatorId, 'body.operatorId', 'transferred', comment);
      } else {
        const target = await uow.tx
          .selectFrom('lines')
          .selectAll()
          .where('account_id', '=', actor.accountId)
          .where('id', '=', body.lineId)
          .executeTakeFirst();
        if (!target) throw invalidField('body.lineId', 'no such line in this account');
        if (!target.active) throw invalidField('body.lineId', 'the line is not active');
        const moved = await act(
          ctx,
          scope,
          { type: 'transfer_line', lineId: target.id },
          'transferred_to_line',
          comment,
        );
        await routeSession(ctx, uow, moved);
      }
      await redelegateLine(ctx, uow, actor.accountId, scope.line.id);
    },
    targetLineId ? [targetLineId] : [],
  );
  return presentOne(ctx, dialogId);
}

export async function inviteToDialog(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  body: { userId: string; mode: 'consult' | 'handover' },
) {
  await withOpenSession(ctx, actor, dialogId, async (scope) => {
    const { session, uow } = scope;
    assertHolderOrSupervisor(actor, session);
    if (body.userId === session.operator_id) throw invalidField('body.userId', 'already holds the dialog');
    if (body.mode === 'handover') {
      await passTo(ctx, scope, body.userId, 'body.userId', 'handed_over');
      await redelegateLine(ctx, uow, actor.accountId, scope.line.id);
      return;
    }
    const user = await uow.tx
      .selectFrom('users')
      .select(['id', 'active'])
      .where('account_id', '=', actor.accountId)
      .where('id', '=', body.userId)
      .executeTakeFirst();
    if (!user) throw invalidField('body.userId', 'no such user in this account');
    if (!user.active) throw invalidField('body.userId', 'the user is deactivated');
    await uow.tx
      .insertInto('session_participants')
      .values({ session_id: session.id, user_id: body.userId, joined_at: ctx.clock.now() })
      .onConflict((oc) => oc.columns(['session_id', 'user_id']).doNothing())
      .execute();
    touchDialog(ctx, uow, actor.accountId, dialogId);
  });
  return presentOne(ctx, dialogId);
}

/**
 * A consulting colleague leaves the dialog: themselves, or another one removed by the operator
 * holding it or a supervisor.
 */
export async function leaveDialog(ctx: AppContext, actor: Actor, dialogId: string, userId = actor.userId) {
  await withOpenSession(ctx, actor, dialogId, async ({ uow, session }) => {
    if (userId !== actor.userId) assertHolderOrSupervisor(actor, session);
    const removed = await uow.tx
      .deleteFrom('session_participants')
      .where('session_id', '=', session.id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (removed.numDeletedRows === 0n)
      throw new AppError(
        'invalid_state',
        userId === actor.userId
          ? 'You are not consulting on this dialog'
          : 'The user is not consulting on this dialog',
      );
    touchDialog(ctx, uow, actor.accountId, dialogId);
  });
  return presentOne(ctx, dialogId);
}

async function finish(
  ctx: AppContext,
  actor: Actor,
  scope: SessionScope,
  action: SessionAction,
  reason: string,
) {
  const closed = await act(ctx, scope, action, reason);
  await scope.uow.tx.deleteFrom('session_participants').where('session_id', '=', closed.id).execute();
  const channel = await scope.uow.tx
    .selectFrom('channels')
    .selectAll()
    .where('id', '=', scope.dialog.channel_id)
    .executeTakeFirstOrThrow();
  await onSessionClosed(
    ctx,
    scope.uow,
    { line: scope.line, dialog: scope.dialog, session: closed, channel },
    action.type === 'mark_spam' ? 'spam' : 'operator',
  );
  await redelegateLine(ctx, scope.uow, actor.accountId, scope.line.id);
  return closed;
}

export async function closeDialog(ctx: AppContext, actor: Actor, dialogId: string, confirmed: boolean) {
  await withOpenSession(ctx, actor, dialogId, async (scope) => {
    assertHolderOrSupervisor(actor, scope.session);
    if (scope.line.settings.other.confirmClose && !confirmed) {
      throw new AppError(
        'confirmation_required',
        'This line asks to confirm closing a dialog; repeat with confirmed: true',
        [{ field: 'body.confirmed', message: 'must be true on this line' }],
      );
    }
    await finish(ctx, actor, scope, { type: 'close' }, 'closed_by_operator');
  });
  return presentOne(ctx, dialogId);
}

export async function markSpam(ctx: AppContext, actor: Actor, dialogId: string) {
  await withOpenSession(ctx, actor, dialogId, async (scope) => {
    // Spam waiting in the queue may be flagged by anyone who could take it.
    const inQueue =
      scope.session.status === 'queued' && (await lineQueue(scope.uow.tx, scope.line)).includes(actor.userId);
    if (!inQueue) assertHolderOrSupervisor(actor, scope.session);
    await scope.uow.tx
      .updateTable('dialogs')
      .set({ spam: true, pinned_operator_id: null })
      .where('id', '=', dialogId)
      .execute();
    // OP-3: spam blocks the client, not one dialog: a new session of theirs on any line (the
    // channel moved to another line, another identity of theirs) is stored and not routed.
    await blockClient(scope.uow.tx, scope.dialog.client_id, actor.userId, ctx.clock.now());
    await finish(ctx, actor, scope, { type: 'mark_spam' }, 'marked_spam');
  });
  return presentOne(ctx, dialogId);
}

export async function setPinned(ctx: AppContext, actor: Actor, dialogId: string, pinned: boolean) {
  await withOpenSession(ctx, actor, dialogId, async (scope) => {
    assertHolderOrSupervisor(actor, scope.session);
    await act(ctx, scope, { type: pinned ? 'pin' : 'unpin' }, pinned ? 'pinned' : 'unpinned');
    await scope.uow.tx
      .updateTable('dialogs')
      .set({ pinned_operator_id: pinned ? scope.session.operator_id : null })
      .where('id', '=', dialogId)
      .execute();
  });
  return presentOne(ctx, dialogId);
}

/**
 * Sends an operator's message. Private notes and a consulting colleague's messages stay inside;
 * anything else goes to the client through the outbox, and answering a waiting dialog takes it.
 * A repeated `clientMessageId` returns the stored message instead of sending twice.
 */
export async function sendMessage(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  body: SendMessageBody,
): Promise<Message> {
  const attachments = body.attachments ?? [];
  if (!body.text && attachments.length === 0)
    throw invalidField('body.text', 'is required when there are no attachments');
  if (body.template) await assertSendsTemplates(ctx, actor, dialogId, body);
  if (body.mentions?.length && body.private !== true) {
    throw invalidField('body.mentions', 'only a private note mentions colleagues', 'mention_private');
  }
  const answered = await answerAsHolder(ctx, actor, dialogId, body);
  if (answered) return answered;
  try {
    return await sendAsAnyone(ctx, actor, dialogId, body);
  } catch (error) {
    // The same send retried at once (clientMessageId): the first one stored it meanwhile, and its
    // message is the answer to every retry, as with the inbound dedupe.
    if (!body.clientMessageId || !isUniqueViolation(error)) throw error;
    const existing = await storedSend(ctx.store.db, actor.accountId, dialogId, body.clientMessageId);
    if (!existing) throw error;
    return presentMessage(existing);
  }
}

/** A template goes to the client only, and only on a channel that has templates (WhatsApp). */
async function assertSendsTemplates(ctx: AppContext, actor: Actor, dialogId: string, body: SendMessageBody) {
  if (body.private) throw invalidField('body.template', 'a private note cannot be a template');
  const row = await ctx.store.db
    .selectFrom('dialogs')
    .innerJoin('channels', 'channels.id', 'dialogs.channel_id')
    .select('channels.kind')
    .where('dialogs.id', '=', dialogId)
    .where('dialogs.account_id', '=', actor.accountId)
    .executeTakeFirst();
  if (row && !findConnector(row.kind)?.listTemplates) {
    throw invalidField('body.template', "this dialog's channel has no message templates");
  }
}

/** sendMessage beyond the lean path: notes, consultations, taking a queued dialog by answering it. */
function sendAsAnyone(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  body: SendMessageBody,
): Promise<Message> {
  const attachments = body.attachments ?? [];
  return runInTransaction(ctx, async (uow) => {
    const dialog = await loadVisibleDialog(uow.tx, actor, dialogId);
    if (body.clientMessageId) {
      const existing = await storedSend(uow.tx, actor.accountId, dialogId, body.clientMessageId);
      if (existing) return presentMessage(existing);
    }
    const mentions = await checkedMentions(uow.tx, actor, dialogId, body.mentions ?? []);
    const open = await currentSessionId(uow.tx, dialogId);
    let session: SessionRow | null = null;
    let line: LineRow | null = null;
    if (open) {
      await lockLines(uow.tx, [open.line_id]);
      session = await lockSession(uow.tx, actor.accountId, open.id);
      line = await loadLineRow(uow.tx, actor.accountId, session.line_id);
    }
    const participant =
      session !== null &&
      (await uow.tx
        .selectFrom('session_participants')
        .select('user_id')
        .where('session_id', '=', session.id)
        .where('user_id', '=', actor.userId)
        .executeTakeFirst()) !== undefined;
    const isPrivate = body.private === true || (participant && session?.operator_id !== actor.userId);
    const now = ctx.clock.now();
    if (!isPrivate) {
      if (!session || !line)
        throw new AppError('invalid_state', 'The dialog has no open session to answer', undefined, {
          sessionStatus: null,
        });
      const scope: SessionScope = { uow, dialog, session, line, by: { kind: 'operator', id: actor.userId } };
      if (session.status === 'queued') session = await takeSession(ctx, actor, scope);
      else if (session.operator_id !== actor.userId && !actor.permissions.supervise) {
        throw forbidden('The dialog is held by another operator; ask them to invite you');
      }
      if (session.status === 'new' || session.status === 'bot') {
        throw new AppError('invalid_state', `Cannot answer a session that is ${session.status}`, undefined, {
          sessionStatus: session.status,
        });
      }
      session = await applySessionAction(
        ctx,
        uow,
        session,
        { type: 'operator_message' },
        scope.by,
        'operator_message',
      );
      session = await uow.tx
        .updateTable('sessions')
        .set({ last_operator_message_at: now })
        .where('id', '=', session.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      session = await onOperatorAnswer(ctx, uow, line, session);
    }
    const written = await writeOutgoingMessage(ctx, uow, {
      dialog,
      session,
      line,
      authorKind: 'operator',
      authorId: actor.userId,
      text: body.text ?? null,
      attachments,
      private: isPrivate,
      clientMessageId: body.clientMessageId ?? null,
      ...(body.template && !isPrivate ? { template: body.template } : {}),
      ...(mentions.length > 0 ? { mentions } : {}),
    });
    // Who is mentioned hears of it (not the author mentioning themselves).
    const notified = mentions.filter((id) => id !== actor.userId);
    if (notified.length > 0) {
      uow.events.emit(
        actor.accountId,
        'note.mentioned',
        { dialogId, messageId: written.id, authorId: actor.userId },
        { users: notified },
      );
    }
    return written;
  });
}

/**
 * A note's mentions are active colleagues of the author's account who may see the dialog (the
 * notice leads them there); the first that is not is named.
 */
async function checkedMentions(tx: Tx, actor: Actor, dialogId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await tx
    .selectFrom('users')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .select(['users.id', 'roles.permissions'])
    .where('users.account_id', '=', actor.accountId)
    .where('users.active', '=', true)
    .where('users.id', 'in', ids)
    .execute();
  const known = new Map(found.map((row) => [row.id, row.permissions as Permissions]));
  for (const [index, id] of ids.entries()) {
    const permissions = known.get(id);
    if (!permissions)
      throw invalidField(
        `body.mentions.${index}`,
        'is not an active colleague in this account',
        'mention_unknown',
      );
    const sees = await tx
      .selectFrom('dialogs')
      .select('dialogs.id')
      .where('dialogs.id', '=', dialogId)
      .where(visibleRow({ userId: id, accountId: actor.accountId, permissions }))
      .executeTakeFirst();
    if (!sees) {
      throw invalidField(
        `body.mentions.${index}`,
        'is a colleague who may not see this dialog',
        'mention_not_visible',
      );
    }
  }
  return ids;
}

/** Typing indicator (and the text being typed, for lines that allow it); not stored. */
export async function operatorTyping(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  text: string | null,
): Promise<void> {
  const dialog = await loadVisibleDialog(ctx.store.db, actor, dialogId);
  const [presented] = await presentDialogs(ctx.store.db, [dialog], ctx.clock.now());
  const lineId = presented!.session?.lineId ?? dialog.line_id;
  await ctx.bus.publish([
    {
      accountId: actor.accountId,
      audience: {
        lineId,
        dialogId,
        users: presented!.session?.operatorId
          ? [presented!.session.operatorId, ...presented!.session.participantIds]
          : [],
      },
      transient: {
        type: 'typing',
        data: { dialogId, lineId, author: 'operator', userId: actor.userId, text },
      },
    },
  ]);
}
