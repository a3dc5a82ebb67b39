import type { Dialog, DialogActivity, Message } from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import type { Database } from '../store/database';
import { presentDialogs } from './dialogs';
import {
  type AudienceFacts,
  audienceLine,
  dialogAudience,
  dialogAudienceUsers,
  reachesQueue,
} from './policies/dialog-visibility';
import type { Tx, UnitOfWork } from './transaction';

type Reader = Database | Tx;

/** How a dialog's queue is made up: its members and departments, read once per line. */
type QueueMembers = (lineId: string) => Promise<string[]>;

function queueMembersReader(tx: Reader): QueueMembers {
  const known = new Map<string, Promise<string[]>>();
  return (lineId) => {
    let members = known.get(lineId);
    if (!members) {
      members = (async () => {
        const line = await tx
          .selectFrom('lines')
          .select(['settings'])
          .where('id', '=', lineId)
          .executeTakeFirst();
        if (!line) return [];
        const users: string[] = [];
        const departmentIds: string[] = [];
        for (const member of line.settings.queue.members) {
          if (member.type === 'user') users.push(member.id);
          else departmentIds.push(member.id);
        }
        if (departmentIds.length > 0) {
          const rows = await tx
            .selectFrom('department_members')
            .select('user_id')
            .where('department_id', 'in', departmentIds)
            .execute();
          for (const row of rows) users.push(row.user_id);
        }
        return users;
      })();
      known.set(lineId, members);
    }
    return members;
  };
}

/**
 * A round that only carries message events (a delivery state changed, say) needs the dialogs'
 * audiences, not their presentation: one statement for all of them, with whether each line is active.
 */
async function loadAudienceFacts(
  tx: Reader,
  dialogIds: string[],
): Promise<Map<string, AudienceFacts & { lineActive: boolean }>> {
  const rows = await tx
    .selectFrom('dialogs as d')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('sessions')
          .select([
            'sessions.id',
            'sessions.line_id',
            'sessions.status',
            'sessions.operator_id',
            'sessions.offered_to',
          ])
          .whereRef('sessions.dialog_id', '=', 'd.id')
          .orderBy('sessions.created_at', 'desc')
          .orderBy('sessions.seq', 'desc')
          .limit(1)
          .as('s'),
      (join) => join.onTrue(),
    )
    .leftJoin('lines as l', (join) =>
      join.on((eb) => eb('l.id', '=', eb.fn.coalesce('s.line_id', 'd.line_id'))),
    )
    .select((eb) => [
      'd.id',
      'd.line_id',
      'd.pinned_operator_id',
      's.id as session_id',
      's.line_id as session_line_id',
      's.status',
      's.operator_id',
      's.offered_to',
      'l.active as line_active',
      eb
        .selectFrom('session_participants as p')
        .select(sql<string[]>`coalesce(json_agg(p.user_id order by p.joined_at), '[]')`.as('ids'))
        .whereRef('p.session_id', '=', 's.id')
        .as('participant_ids'),
    ])
    .where('d.id', 'in', dialogIds)
    .execute();
  return new Map(
    rows.map((row) => [
      row.id,
      {
        lineId: row.line_id,
        pinnedOperatorId: row.pinned_operator_id,
        lineActive: row.line_active === true,
        session:
          row.session_id && row.session_line_id && row.status
            ? {
                lineId: row.session_line_id,
                status: row.status,
                operatorId: row.operator_id,
                offeredTo: row.offered_to ?? [],
                participantIds: row.participant_ids ?? [],
              }
            : null,
      },
    ]),
  );
}

/**
 * Everyone the session transitions of these dialogs name as their operator (the `held_before`
 * ground of reading, policies/dialog-visibility.ts), in one statement.
 */
async function loadHeldBy(tx: Reader, dialogIds: string[]): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  if (dialogIds.length === 0) return held;
  // Through the sessions (indexed by dialog), then each session's transitions (indexed by session).
  const rows = await tx
    .selectFrom('sessions as s')
    .innerJoin('session_transitions as t', 't.session_id', 's.id')
    .select(['s.dialog_id', 't.operator_id'])
    .distinct()
    .where('s.dialog_id', 'in', dialogIds)
    .where('t.operator_id', 'is not', null)
    .execute();
  for (const row of rows) {
    if (!row.operator_id) continue;
    held.set(row.dialog_id, [...(held.get(row.dialog_id) ?? []), row.operator_id]);
  }
  return held;
}

/**
 * The users a dialog's events go to by name (policies/dialog-visibility.ts, `dialogAudienceUsers`),
 * with its line's queue read when the rule needs it: while the session waits there, or has just
 * left it. Supervisors who see every dialog get line events through the `lineId` audience.
 */
export async function dialogRecipients(
  tx: Reader,
  dialog: AudienceFacts,
  leftQueue = false,
  queueMembers: QueueMembers = queueMembersReader(tx),
): Promise<string[]> {
  const queue = reachesQueue(dialog, leftQueue) ? await queueMembers(audienceLine(dialog)) : [];
  return dialogAudienceUsers(dialog, queue);
}

interface PendingDialogEvents {
  accountId: string;
  changed: boolean;
  /** The session left the line's queue in this transaction (taken, routed, closed…). */
  leftQueue: boolean;
  messages: { type: 'message.created' | 'message.updated'; message: Message }[];
}

const pendingEvents = new WeakMap<UnitOfWork, Map<string, PendingDialogEvents>>();

/**
 * The dialog events of one transaction, written once just before commit: every dialog it touched
 * is read and presented a single time however many steps touched it or wrote messages in it, and
 * all of them together — a redelegation that assigns a thousand sessions presents a thousand
 * dialogs in a handful of statements, not a handful each.
 */
function pendingFor(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  dialogId: string,
): PendingDialogEvents {
  let byDialog = pendingEvents.get(uow);
  if (!byDialog) {
    const created = new Map<string, PendingDialogEvents>();
    byDialog = created;
    pendingEvents.set(uow, created);
    uow.beforeCommit('dialog-events', async () => {
      // What presenting touches while this runs is taken in the next round.
      while (created.size > 0) {
        const round = [...created.entries()];
        created.clear();
        await emitDialogEvents(ctx, uow, round);
      }
      // A later final step that touches a dialog starts a new batch (and registers it anew).
      pendingEvents.delete(uow);
    });
  }
  let pending = byDialog.get(dialogId);
  if (!pending) {
    pending = { accountId, changed: false, leftQueue: false, messages: [] };
    byDialog.set(dialogId, pending);
  }
  return pending;
}

async function emitDialogEvents(
  ctx: AppContext,
  uow: UnitOfWork,
  round: [string, PendingDialogEvents][],
): Promise<void> {
  const ids = round.map(([id]) => id);
  const queueMembers = queueMembersReader(uow.tx);
  let heldBy = new Map<string, string[]>();
  const emitFor = async (
    pending: PendingDialogEvents,
    dialogId: string,
    facts: AudienceFacts,
    lineActive: boolean,
    dialog: Dialog | null,
  ) => {
    const lineId = audienceLine(facts);
    // LN-4: an inactive line's events reach only the client's own sockets, so its queue is not read.
    const users = lineActive ? await dialogRecipients(uow.tx, facts, pending.leftQueue, queueMembers) : [];
    const audience = dialogAudience(facts, lineActive, users);
    for (const { type, message } of pending.messages) {
      uow.events.emit(pending.accountId, type, { message, lineId }, { ...audience, dialogId });
    }
    if (dialog && pending.changed) {
      // Who held it before and may still read it by their history: their lists follow it too.
      const former = lineActive ? (heldBy.get(dialogId) ?? []).filter((id) => !users.includes(id)) : [];
      uow.events.emit(
        pending.accountId,
        'dialog.updated',
        { dialog },
        former.length > 0 ? { ...audience, historyUsers: former } : audience,
      );
    }
  };

  if (!round.some(([, pending]) => pending.changed)) {
    const facts = await loadAudienceFacts(uow.tx, ids);
    for (const [dialogId, pending] of round) {
      const fact = facts.get(dialogId);
      if (fact) await emitFor(pending, dialogId, fact, fact.lineActive, null);
    }
    return;
  }

  const rows = await uow.tx.selectFrom('dialogs').selectAll().where('id', 'in', ids).execute();
  heldBy = await loadHeldBy(
    uow.tx,
    round.filter(([, pending]) => pending.changed).map(([id]) => id),
  );
  const dialogs = new Map(
    (await presentDialogs(uow.tx, rows, ctx.clock.now())).map((dialog) => [dialog.id, dialog]),
  );
  const lineIds = [...new Set([...dialogs.values()].map(audienceLine))];
  const active = new Set(
    lineIds.length === 0
      ? []
      : (
          await uow.tx
            .selectFrom('lines')
            .select('id')
            .where('id', 'in', lineIds)
            .where('active', '=', true)
            .execute()
        ).map((line) => line.id),
  );
  for (const [dialogId, pending] of round) {
    const dialog = dialogs.get(dialogId);
    if (!dialog) continue;
    await emitFor(pending, dialogId, dialog, active.has(audienceLine(dialog)), dialog);
  }
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
 * (`dialogAudienceUsers` without the queue, which a held session has left) plus supervisors of the
 * line and the client's own sockets. LN-4: a dialog of an inactive line is not shown to operators,
 * so its messages reach only the client.
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
  const facts = { lineId, pinnedOperatorId: input.pinnedOperatorId, session };
  const audience = { ...dialogAudience(facts, input.lineActive, dialogAudienceUsers(facts, [])), dialogId };
  uow.events.emit(
    input.accountId,
    'message.created',
    { message: input.message, lineId, activity: input.activity },
    audience,
  );
}

/**
 * Dialogs about to be deleted (a client erased with their dialogs): everyone whose lists may hold
 * them hears they are gone. Call it before the rows go; the event carries only the dialog's id.
 */
export async function announceDeletedDialogs(
  uow: UnitOfWork,
  accountId: string,
  dialogIds: string[],
): Promise<void> {
  if (dialogIds.length === 0) return;
  const facts = await loadAudienceFacts(uow.tx, dialogIds);
  const heldBy = await loadHeldBy(uow.tx, dialogIds);
  const queueMembers = queueMembersReader(uow.tx);
  for (const dialogId of dialogIds) {
    const fact = facts.get(dialogId);
    if (!fact?.lineActive) continue;
    const users = await dialogRecipients(uow.tx, fact, false, queueMembers);
    const former = (heldBy.get(dialogId) ?? []).filter((id) => !users.includes(id));
    uow.events.emit(
      accountId,
      'dialog.deleted',
      { dialogId },
      {
        ...dialogAudience(fact, true, users),
        ...(former.length > 0 ? { historyUsers: former } : {}),
      },
    );
  }
}
