import type { Dialog, DialogActivity, Message } from '@openlines/contract';
import type { AppContext } from '../context';
import type { Database } from '../store/database';
import { presentDialogs } from './dialogs';
import type { Tx, UnitOfWork } from './transaction';

type Reader = Database | Tx;

/**
 * The users a dialog's events go to by name, the same people who may read it (visibleTo): the
 * session's operator, colleagues consulting on it, those it is offered to, the pinned operator,
 * and the line's queue while the session waits in it (or has just left it, so their queue view
 * drops it). Supervisors who see every dialog get line events through the `lineId` audience.
 */
export async function dialogRecipients(tx: Reader, dialog: Dialog, leftQueue = false): Promise<string[]> {
  const lineId = dialog.session?.lineId ?? dialog.lineId;
  const recipients = new Set<string>();
  const queued = dialog.session?.status === 'queued' || leftQueue;
  const line = queued
    ? await tx.selectFrom('lines').select(['settings']).where('id', '=', lineId).executeTakeFirst()
    : undefined;
  if (line) {
    const departmentIds: string[] = [];
    for (const member of line.settings.queue.members) {
      if (member.type === 'user') recipients.add(member.id);
      else departmentIds.push(member.id);
    }
    if (departmentIds.length > 0) {
      const members = await tx
        .selectFrom('department_members')
        .select('user_id')
        .where('department_id', 'in', departmentIds)
        .execute();
      for (const member of members) recipients.add(member.user_id);
    }
  }
  const session = dialog.session;
  if (session?.operatorId) recipients.add(session.operatorId);
  for (const id of [...(session?.participantIds ?? []), ...(session?.offeredTo ?? [])]) recipients.add(id);
  if (dialog.pinnedOperatorId) recipients.add(dialog.pinnedOperatorId);
  return [...recipients];
}

interface PendingDialogEvents {
  changed: boolean;
  /** The session left the line's queue in this transaction (taken, routed, closed…). */
  leftQueue: boolean;
  messages: { type: 'message.created' | 'message.updated'; message: Message }[];
}

const pendingEvents = new WeakMap<UnitOfWork, Map<string, PendingDialogEvents>>();

/**
 * A dialog's events of one transaction, written once just before commit: the dialog is read,
 * presented and its audience computed a single time however many steps touched it or wrote
 * messages in it.
 */
function pendingFor(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  dialogId: string,
): PendingDialogEvents {
  let byDialog = pendingEvents.get(uow);
  if (!byDialog) {
    byDialog = new Map();
    pendingEvents.set(uow, byDialog);
  }
  let pending = byDialog.get(dialogId);
  if (!pending) {
    const created: PendingDialogEvents = { changed: false, leftQueue: false, messages: [] };
    pending = created;
    byDialog.set(dialogId, created);
    uow.beforeCommit(`dialog:${dialogId}`, async () => {
      byDialog.delete(dialogId);
      const row = await uow.tx
        .selectFrom('dialogs')
        .selectAll()
        .where('id', '=', dialogId)
        .executeTakeFirst();
      if (!row) return;
      const [dialog] = await presentDialogs(uow.tx, [row], ctx.clock.now());
      const lineId = dialog!.session?.lineId ?? row.line_id;
      const line = await uow.tx
        .selectFrom('lines')
        .select('active')
        .where('id', '=', lineId)
        .executeTakeFirst();
      // LN-4: an inactive line's dialogs are not shown to operators, so its events reach only the
      // client's own sockets (the visitor gateway follows dialogId).
      const shown = line?.active === true;
      const users = shown ? await dialogRecipients(uow.tx, dialog!, created.leftQueue) : [];
      const audience = shown ? { users, lineId } : { users: [] };
      for (const { type, message } of created.messages) {
        uow.events.emit(accountId, type, { message, lineId }, { ...audience, dialogId });
      }
      if (created.changed) uow.events.emit(accountId, 'dialog.updated', { dialog: dialog! }, audience);
    });
  }
  return pending;
}

/** Marks a dialog as changed in this transaction; its event is emitted once, just before commit. */
export function touchDialog(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  dialogId: string,
  options: { leftQueue?: boolean } = {},
): void {
  const pending = pendingFor(ctx, uow, accountId, dialogId);
  pending.changed = true;
  if (options.leftQueue) pending.leftQueue = true;
}

/** A message written or changed in this transaction; its event goes with the dialog's, before commit. */
export function emitMessage(
  ctx: AppContext,
  uow: UnitOfWork,
  type: 'message.created' | 'message.updated',
  message: Message,
  accountId: string,
): void {
  pendingFor(ctx, uow, accountId, message.dialogId).messages.push({ type, message });
}

/**
 * The one event of a message written by the lean path: its audience is the dialog's people
 * (dialogRecipients without the queue, which a held session has left) plus supervisors of the line
 * and the client's own sockets. LN-4: a dialog of an inactive line is not shown to operators, so
 * its messages reach only the client.
 */
export function emitHeldMessage(
  uow: UnitOfWork,
  input: {
    accountId: string;
    lineActive: boolean;
    message: Message;
    activity: DialogActivity & { session: NonNullable<DialogActivity['session']> };
    pinnedOperatorId: string | null;
  },
): void {
  const { session } = input.activity;
  const lineId = session.lineId;
  const dialogId = input.message.dialogId;
  const users = new Set<string>();
  if (session.operatorId) users.add(session.operatorId);
  for (const id of [...session.participantIds, ...session.offeredTo]) users.add(id);
  if (input.pinnedOperatorId) users.add(input.pinnedOperatorId);
  const audience = input.lineActive ? { users: [...users], lineId, dialogId } : { users: [], dialogId };
  uow.events.emit(
    input.accountId,
    'message.created',
    { message: input.message, lineId, activity: input.activity },
    audience,
  );
}
