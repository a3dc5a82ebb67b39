import {
  CLOSED_STATUSES,
  type EventAudience,
  hasOperator,
  isClosed,
  OPERATOR_STATUSES,
  type QueueMember,
  type SessionStatus,
} from '@openlines/contract';
import { type RawBuilder, sql } from 'kysely';
import type { Actor } from '../actor';

/**
 * Who may see a dialog (AR-1's history scope, OP-1), in every form the server asks it:
 *
 * - **reading** (the lists, the read of one dialog, every action on it): `readGrounds` decides from
 *   loaded facts; `visibleRow` and `visibleSet` are the same grounds as SQL, each ground's two forms
 *   written side by side in `READ_GROUNDS`;
 * - **its events**: `dialogAudienceUsers` names the users a dialog's events go to, from facts the
 *   event path already holds (no statement of its own); everyone else who sees every dialog gets
 *   them through the line (`dialogAudience`, then `seesEveryDialog` in the socket's filter).
 *   `eventGrounds` is the same rule decided for one viewer, so the forms can be held against each other.
 *
 * The two sides agree on the dialog's present people: who sees every dialog, its holder, those it
 * is offered to, colleagues consulting on it, its line's queue while it waits there. They differ
 * where one side has a ground the other lacks (the event path reads no history, so a dialog someone
 * may read only by history does not reach them live):
 *
 * | ground | reading | events |
 * | --- | --- | --- |
 * | `held_before`: a transition names the viewer (history scope own or department) | yes | the dialog's own events (changed, deleted), not its messages |
 * | `department`: a colleague of a department of theirs had one of its sessions (scope department) | yes | no |
 * | `handled`: the viewer handled its latest session, now closed | only through `held_before` | yes |
 * | `pinned`: the dialog's next sessions go back to the viewer (Q-10) | no | yes |
 *
 * Events also stop when the latest session's line is inactive (LN-4); the lists apply LN-4 by the
 * dialog's own line themselves, the read of one dialog does not.
 */

/** Who is looking: an Actor has it. */
export type Viewer = Pick<Actor, 'userId' | 'accountId' | 'permissions'>;

/** The history scope that needs no ground: the viewer sees every dialog of the account. */
export function seesEveryDialog(viewer: Pick<Actor, 'permissions'>): boolean {
  return viewer.permissions.dialogHistory === 'all';
}

// ----- Facts ---------------------------------------------------------------------------------------

/** One session of a dialog, as the rule needs it. */
export interface SessionFacts {
  lineId: string;
  status: SessionStatus;
  operatorId: string | null;
  offeredTo: readonly string[];
  participantIds: readonly string[];
}

/** A dialog with everything reading it may depend on, loaded. */
export interface DialogFacts {
  accountId: string;
  /** The line of its latest session (or its own without one) is active (LN-4; events only). */
  lineActive: boolean;
  pinnedOperatorId: string | null;
  /** Every session of the dialog, the latest last. */
  sessions: readonly SessionFacts[];
  /** The operators its session transitions name: everyone who held it at some point. */
  heldBy: readonly string[];
  /** The queue of a line as its settings list it. */
  queueOf(lineId: string): readonly QueueMember[];
}

/** The departments a user belongs to. */
export type DepartmentsOf = (userId: string) => readonly string[];

function inQueue(members: readonly QueueMember[], userId: string, departmentsOf: DepartmentsOf): boolean {
  const mine = departmentsOf(userId);
  return members.some((m) => (m.type === 'user' ? m.id === userId : mine.includes(m.id)));
}

// ----- Reading: the pure form and the SQL form of each ground -------------------------------------

/** The held statuses inlined as literals, as the partial indexes on sessions are written. */
export const HELD_SQL = sql.join(OPERATOR_STATUSES.map((status) => sql.lit(status)));
const CLOSED_SQL = sql.join(CLOSED_STATUSES.map((status) => sql.lit(status)));

/** One ground as SQL: rows of `from` matching `where`, each naming a `dialog`. */
interface GroundSql {
  from: RawBuilder<unknown>;
  where: RawBuilder<unknown>;
  dialog: RawBuilder<unknown>;
}

interface ReadGround {
  name: ReadGroundName;
  /** The history scopes below `all` it applies under. */
  scopes: readonly ('none' | 'own' | 'department')[];
  /** The pure form. */
  applies(viewer: Viewer, dialog: DialogFacts, departmentsOf: DepartmentsOf): boolean;
  /** The SQL form; each is found by an index on who. */
  sql(viewer: Viewer): GroundSql;
}

export type ReadGroundName =
  | 'every_dialog'
  | 'holds'
  | 'offered'
  | 'consults'
  | 'queue'
  | 'held_before'
  | 'department';

const ANY_SCOPE = ['none', 'own', 'department'] as const;

const READ_GROUNDS: readonly ReadGround[] = [
  {
    name: 'holds',
    scopes: ANY_SCOPE,
    applies: (viewer, dialog) =>
      dialog.sessions.some((s) => s.operatorId === viewer.userId && hasOperator(s.status)),
    sql: (viewer) => ({
      from: sql`sessions s`,
      where: sql`s.operator_id = ${viewer.userId} and s.status in (${HELD_SQL})`,
      dialog: sql`s.dialog_id`,
    }),
  },
  // Only open sessions carry offers.
  {
    name: 'offered',
    scopes: ANY_SCOPE,
    applies: (viewer, dialog) =>
      dialog.sessions.some((s) => !isClosed(s.status) && s.offeredTo.includes(viewer.userId)),
    sql: (viewer) => ({
      from: sql`sessions s`,
      where: sql`s.account_id = ${viewer.accountId}
        and s.status not in (${CLOSED_SQL}) and s.offered_to ? ${viewer.userId}`,
      dialog: sql`s.dialog_id`,
    }),
  },
  {
    name: 'consults',
    scopes: ANY_SCOPE,
    applies: (viewer, dialog) => dialog.sessions.some((s) => s.participantIds.includes(viewer.userId)),
    sql: (viewer) => ({
      from: sql`session_participants p join sessions s on s.id = p.session_id`,
      where: sql`p.user_id = ${viewer.userId}`,
      dialog: sql`s.dialog_id`,
    }),
  },
  // A member of the line's queue by name or by one of their departments.
  {
    name: 'queue',
    scopes: ANY_SCOPE,
    applies: (viewer, dialog, departmentsOf) =>
      dialog.sessions.some(
        (s) => s.status === 'queued' && inQueue(dialog.queueOf(s.lineId), viewer.userId, departmentsOf),
      ),
    sql: (viewer) => ({
      from: sql`sessions s join lines l on l.id = s.line_id`,
      where: sql`s.account_id = ${viewer.accountId} and s.status = 'queued' and (
        l.settings->'queue'->'members' @> ${JSON.stringify([{ type: 'user', id: viewer.userId }])}::jsonb
        or exists (select 1 from department_members dm where dm.user_id = ${viewer.userId}
          and l.settings->'queue'->'members' @> jsonb_build_array(jsonb_build_object('type', 'department', 'id', dm.department_id::text))))`,
      dialog: sql`s.dialog_id`,
    }),
  },
  // Own history: every dialog the user ever held, including those passed on since.
  {
    name: 'held_before',
    scopes: ['own', 'department'],
    applies: (viewer, dialog) => dialog.heldBy.includes(viewer.userId),
    sql: (viewer) => ({
      from: sql`session_transitions t`,
      where: sql`t.operator_id = ${viewer.userId}`,
      dialog: sql`t.dialog_id`,
    }),
  },
  // The department's history: every dialog with a session of someone who shares a department
  // with the user (the user included), in any state.
  {
    name: 'department',
    scopes: ['department'],
    applies: (viewer, dialog, departmentsOf) => {
      const mine = departmentsOf(viewer.userId);
      return dialog.sessions.some(
        (s) => s.operatorId !== null && departmentsOf(s.operatorId).some((d) => mine.includes(d)),
      );
    },
    sql: (viewer) => ({
      from: sql`sessions s`,
      where: sql`s.operator_id in (select theirs.user_id from department_members theirs
        join department_members mine on mine.department_id = theirs.department_id and mine.user_id = ${viewer.userId})`,
      dialog: sql`s.dialog_id`,
    }),
  },
];

function groundsFor(viewer: Viewer): readonly ReadGround[] {
  const scope = viewer.permissions.dialogHistory;
  return READ_GROUNDS.filter((g) => (g.scopes as readonly string[]).includes(scope));
}

/**
 * Why a viewer may read a dialog, decided from loaded facts; none: they may not. The SQL form
 * below answers the same for rows of the database.
 */
export function readGrounds(
  viewer: Viewer,
  dialog: DialogFacts,
  departmentsOf: DepartmentsOf,
): ReadGroundName[] {
  if (dialog.accountId !== viewer.accountId) return [];
  if (seesEveryDialog(viewer)) return ['every_dialog'];
  return groundsFor(viewer)
    .filter((g) => g.applies(viewer, dialog, departmentsOf))
    .map((g) => g.name);
}

/** The grounds as SQL; null: the viewer sees every dialog. The caller limits to the account. */
function groundsSql(viewer: Viewer): GroundSql[] | null {
  if (seesEveryDialog(viewer)) return null;
  return groundsFor(viewer).map((g) => g.sql(viewer));
}

/**
 * The visibility rule as a test of one `dialogs` row: for a read of one dialog and for lists that
 * start from a few rows (the queue).
 */
export function visibleRow(viewer: Viewer): RawBuilder<boolean> {
  const grounds = groundsSql(viewer);
  if (!grounds) return sql<boolean>`true`;
  return sql<boolean>`(${sql.join(
    grounds.map((g) => sql`exists (select 1 from ${g.from} where ${g.where} and ${g.dialog} = dialogs.id)`),
    sql` or `,
  )})`;
}

/**
 * The same rule as the set of dialogs a viewer may see: for a list of everything they may see, so
 * that it does not test every dialog of a large account's history one by one.
 */
export function visibleSet(viewer: Viewer): RawBuilder<boolean> {
  const grounds = groundsSql(viewer);
  if (!grounds) return sql<boolean>`true`;
  return sql<boolean>`dialogs.id in (${sql.join(
    grounds.map((g) => sql`select ${g.dialog} from ${g.from} where ${g.where}`),
    sql` union all `,
  )})`;
}

// ----- Events: who a dialog's events go to ---------------------------------------------------------

/**
 * What deciding a dialog's audience needs, all of it about its latest session: a presented Dialog
 * has it, and so do the event path's own reads.
 */
export interface AudienceFacts {
  lineId: string;
  pinnedOperatorId: string | null;
  session: SessionFacts | null;
}

/** The line a dialog's events belong to: its latest session's. */
export function audienceLine(dialog: AudienceFacts): string {
  return dialog.session?.lineId ?? dialog.lineId;
}

/**
 * Whether a dialog's events go to its line's queue: while its session waits there, and when it has
 * just left it (`leftQueue`, so their queue view drops it). The caller loads the queue only then.
 */
export function reachesQueue(dialog: AudienceFacts, leftQueue = false): boolean {
  return dialog.session?.status === 'queued' || leftQueue;
}

/**
 * The users a dialog's events go to by name: the queue's members (when `reachesQueue`), the
 * latest session's operator (its holder, or who handled it before it closed), colleagues
 * consulting on it, those it is offered to, and the pinned operator. Supervisors who see every
 * dialog get them through the line (`dialogAudience`).
 */
export function dialogAudienceUsers(dialog: AudienceFacts, queueUsers: readonly string[]): string[] {
  const users = new Set<string>(queueUsers);
  const session = dialog.session;
  if (session?.operatorId) users.add(session.operatorId);
  for (const id of [...(session?.participantIds ?? []), ...(session?.offeredTo ?? [])]) users.add(id);
  if (dialog.pinnedOperatorId) users.add(dialog.pinnedOperatorId);
  return [...users];
}

/**
 * The audience of a dialog's events: its users by name and its line, so that everyone who sees
 * every dialog receives them too. LN-4: an inactive line's dialogs are not shown to operators, so
 * its events reach no one by it (the visitor gateway follows `dialogId`, which the caller adds).
 */
export function dialogAudience(
  dialog: AudienceFacts,
  lineActive: boolean,
  users: readonly string[],
): { users: string[]; lineId?: string } & EventAudience {
  return lineActive ? { users: [...users], lineId: audienceLine(dialog) } : { users: [] };
}

export type EventGroundName =
  | 'every_dialog'
  | 'held_before'
  | 'holds'
  | 'handled'
  | 'offered'
  | 'consults'
  | 'queue'
  | 'pinned';

/**
 * Why a viewer receives a dialog's events, decided from the same facts as `readGrounds`: the
 * per-viewer form of `dialogAudience` and the socket's filter together. None: they do not.
 * `dialog` events (the dialog changed or went) also reach who held it before and reads it by their
 * own history (`historyUsers`), so their lists follow it; its messages do not.
 */
export function eventGrounds(
  viewer: Viewer,
  dialog: DialogFacts,
  departmentsOf: DepartmentsOf,
  of: 'message' | 'dialog' = 'message',
): EventGroundName[] {
  if (dialog.accountId !== viewer.accountId || !dialog.lineActive) return [];
  const me = viewer.userId;
  const latest = dialog.sessions.at(-1);
  const grounds: EventGroundName[] = [];
  if (seesEveryDialog(viewer)) grounds.push('every_dialog');
  if (latest?.operatorId === me) grounds.push(hasOperator(latest.status) ? 'holds' : 'handled');
  if (latest?.offeredTo.includes(me)) grounds.push('offered');
  if (latest?.participantIds.includes(me)) grounds.push('consults');
  if (latest?.status === 'queued' && inQueue(dialog.queueOf(latest.lineId), me, departmentsOf)) {
    grounds.push('queue');
  }
  if (dialog.pinnedOperatorId === me) grounds.push('pinned');
  if (
    of === 'dialog' &&
    viewer.permissions.dialogHistory !== 'none' &&
    !seesEveryDialog(viewer) &&
    dialog.heldBy.includes(me) &&
    grounds.length === 0
  ) {
    grounds.push('held_before');
  }
  return grounds;
}
