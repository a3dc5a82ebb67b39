import {
  BUILT_IN_ROLES,
  defaultLineSettings,
  type EventAudience,
  hasOperator,
  isClosed,
  type QueueMember,
  type Scope,
  type SessionStatus,
} from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/context';
import { createAccount } from '../src/services/accounts';
import type { Actor } from '../src/services/actor';
import { emitHeldMessage, emitMessage, touchDialog } from '../src/services/dialog-events';
import { getDialog, listDialogs, loadVisibleDialog } from '../src/services/dialogs';
import { presentMessage } from '../src/services/message-presenter';
import {
  type DialogFacts,
  type EventGroundName,
  eventGrounds,
  type ReadGroundName,
  readGrounds,
} from '../src/services/policies/dialog-visibility';
import { EventRecorder, runInTransaction, type UnitOfWork } from '../src/services/transaction';
import { canReceive } from '../src/ws/audience';
import { createTestServer, type TestServer, uniqueEmail } from './harness';

/**
 * "Who may see a dialog" has three forms in the server: the SQL of the lists and of the read of one
 * dialog, the users a dialog's events are addressed to, and the socket's filter of those events.
 * Over a fixed world of users and dialogs in every state, this holds each form against the pure
 * rule of services/policies/dialog-visibility.ts for every (user, dialog) pair, the two sides of the
 * rule against each other, and all of it against a table written by hand for the pairs that matter.
 */

// ----- The world, as data: the rows below and the policy's facts are both built from it ----------

type UserKey = 'sup' | 'ann' | 'bob' | 'cat' | 'dan' | 'eve' | 'zed' | 'yan';
type AccountKey = 'main' | 'other';
type LineKey = 'support' | 'sales' | 'closedDown' | 'elsewhere';
type DepartmentKey = 'teamA' | 'teamB';

const USERS: Record<UserKey, { account: AccountKey; scope: Scope }> = {
  sup: { account: 'main', scope: 'all' }, // a supervisor
  ann: { account: 'main', scope: 'none' }, // teamA; in support's queue by name
  bob: { account: 'main', scope: 'own' }, // in support's queue by name
  cat: { account: 'main', scope: 'department' }, // teamA; in no queue
  dan: { account: 'main', scope: 'own' }, // teamB, which is in support's queue
  eve: { account: 'main', scope: 'none' }, // in nothing
  zed: { account: 'other', scope: 'all' }, // the other account's supervisor
  yan: { account: 'other', scope: 'none' },
};

const DEPARTMENTS: Record<DepartmentKey, UserKey[]> = { teamA: ['ann', 'cat'], teamB: ['dan'] };

type Member = { user: UserKey } | { department: DepartmentKey };
const LINES: Record<LineKey, { account: AccountKey; active: boolean; queue: Member[] }> = {
  support: {
    account: 'main',
    active: true,
    queue: [{ user: 'ann' }, { user: 'bob' }, { department: 'teamB' }],
  },
  sales: { account: 'main', active: true, queue: [] },
  closedDown: { account: 'main', active: false, queue: [{ user: 'ann' }] },
  elsewhere: { account: 'other', active: true, queue: [{ user: 'yan' }] },
};

interface SessionSpec {
  status: SessionStatus;
  operator?: UserKey;
  offeredTo?: UserKey[];
  participants?: UserKey[];
  /** The operators its transitions name, in order. */
  heldBy?: UserKey[];
}
interface DialogSpec {
  line: LineKey;
  pinned?: UserKey;
  /** Oldest first; the last is the latest. */
  sessions: SessionSpec[];
}

const DIALOGS = {
  queued: { line: 'support', sessions: [{ status: 'queued' }] },
  offered: { line: 'sales', sessions: [{ status: 'queued', offeredTo: ['eve'] }] },
  heldByAnn: {
    line: 'support',
    sessions: [{ status: 'assigned', operator: 'ann', participants: ['eve'], heldBy: ['ann'] }],
  },
  passedOn: { line: 'support', sessions: [{ status: 'answered', operator: 'bob', heldBy: ['dan', 'bob'] }] },
  closedByAnn: { line: 'support', sessions: [{ status: 'closed', operator: 'ann', heldBy: ['ann'] }] },
  closedByBob: { line: 'support', sessions: [{ status: 'auto_closed', operator: 'bob', heldBy: ['bob'] }] },
  reopened: {
    line: 'support',
    sessions: [{ status: 'closed', operator: 'cat', heldBy: ['cat'] }, { status: 'queued' }],
  },
  pinned: { line: 'sales', pinned: 'ann', sessions: [{ status: 'queued' }] },
  waitingElsewhere: {
    line: 'sales',
    sessions: [{ status: 'client_waiting', operator: 'cat', heldBy: ['cat'] }],
  },
  inactiveLine: { line: 'closedDown', sessions: [{ status: 'assigned', operator: 'ann', heldBy: ['ann'] }] },
  otherAccount: {
    line: 'elsewhere',
    sessions: [{ status: 'client_waiting', operator: 'yan', heldBy: ['yan'] }],
  },
} satisfies Record<string, DialogSpec>;
type DialogKey = keyof typeof DIALOGS;

/**
 * Written by hand: why each user may read the dialog and why they receive its events, for the pairs
 * that matter. Where the two differ, the policy's header says why.
 */
const EXPECTED: [UserKey, DialogKey, ReadGroundName[], EventGroundName[]][] = [
  ['sup', 'queued', ['every_dialog'], ['every_dialog']],
  ['ann', 'queued', ['queue'], ['queue']],
  ['dan', 'queued', ['queue'], ['queue']], // by teamB
  ['cat', 'queued', [], []],
  ['yan', 'queued', [], []],
  ['eve', 'offered', ['offered'], ['offered']],
  ['ann', 'offered', [], []],
  ['ann', 'heldByAnn', ['holds'], ['holds']],
  ['eve', 'heldByAnn', ['consults'], ['consults']],
  ['cat', 'heldByAnn', ['department'], []],
  ['bob', 'heldByAnn', [], []],
  ['bob', 'passedOn', ['holds', 'held_before'], ['holds']],
  ['dan', 'passedOn', ['held_before'], []],
  ['ann', 'closedByAnn', [], ['handled']],
  ['cat', 'closedByAnn', ['department'], []],
  ['bob', 'closedByBob', ['held_before'], ['handled']],
  ['cat', 'reopened', ['held_before', 'department'], []],
  ['ann', 'reopened', ['queue'], ['queue']],
  ['ann', 'pinned', [], ['pinned']],
  ['cat', 'waitingElsewhere', ['holds', 'held_before', 'department'], ['holds']],
  ['ann', 'waitingElsewhere', [], []], // teamA with cat, but scope none
  ['eve', 'waitingElsewhere', [], []],
  ['sup', 'waitingElsewhere', ['every_dialog'], ['every_dialog']],
  ['ann', 'inactiveLine', ['holds'], []], // read by id, not listed (LN-4), no events
  ['sup', 'inactiveLine', ['every_dialog'], []],
  ['sup', 'otherAccount', [], []],
  ['zed', 'otherAccount', ['every_dialog'], ['every_dialog']],
  ['yan', 'otherAccount', ['holds'], ['holds']],
];

/** The grounds both sides have; the rest are one side's only (see the policy's header). */
const SHARED = ['every_dialog', 'holds', 'offered', 'consults', 'queue'] as const;

// ----- Building it -----------------------------------------------------------------------------------

describe('dialog visibility: the policy and its three forms', () => {
  let server: TestServer;
  let ctx: AppContext;
  const accountIds = {} as Record<AccountKey, string>;
  const userIds = {} as Record<UserKey, string>;
  const lineIds = {} as Record<LineKey, string>;
  const departmentIds = {} as Record<DepartmentKey, string>;
  const dialogIds = {} as Record<DialogKey, string>;
  const actors = {} as Record<UserKey, Actor>;
  const users = Object.keys(USERS) as UserKey[];
  const dialogs = Object.keys(DIALOGS) as DialogKey[];

  const queueOf = (line: LineKey): QueueMember[] =>
    LINES[line].queue.map((m) =>
      'user' in m
        ? { type: 'user', id: userIds[m.user] }
        : { type: 'department', id: departmentIds[m.department] },
    );

  /** The policy's facts about a dialog, from the world's description (not from the database). */
  const factsOf = (key: DialogKey): DialogFacts => {
    const spec: DialogSpec = DIALOGS[key];
    const line = LINES[spec.line];
    const byLineId = new Map((Object.keys(LINES) as LineKey[]).map((l) => [lineIds[l], l]));
    return {
      accountId: accountIds[line.account],
      lineActive: line.active,
      pinnedOperatorId: spec.pinned ? userIds[spec.pinned] : null,
      sessions: spec.sessions.map((s) => ({
        lineId: lineIds[spec.line],
        status: s.status,
        operatorId: s.operator ? userIds[s.operator] : null,
        offeredTo: (s.offeredTo ?? []).map((u) => userIds[u]),
        participantIds: (s.participants ?? []).map((u) => userIds[u]),
      })),
      heldBy: spec.sessions.flatMap((s) => (s.heldBy ?? []).map((u) => userIds[u])),
      queueOf: (lineId) => queueOf(byLineId.get(lineId)!),
    };
  };
  const departmentsOf = (userId: string) =>
    (Object.keys(DEPARTMENTS) as DepartmentKey[])
      .filter((d) => DEPARTMENTS[d].some((u) => userIds[u] === userId))
      .map((d) => departmentIds[d]);

  /** What the server answers, form by form, for every pair. */
  const listed = new Map<UserKey, Set<string>>();
  const queueView = new Map<UserKey, Set<string>>();
  const readable = new Map<UserKey, Set<string>>();
  /** Per dialog, the audiences of its events: a dialog change, a message-only round, a lean-path message. */
  const audiences = new Map<DialogKey, { kind: string; audience: EventAudience }[]>();

  beforeAll(async () => {
    server = await createTestServer({ workers: false });
    ctx = server.ctx;
    const db = ctx.store.db;
    for (const account of ['main', 'other'] as const) {
      const created = await createAccount(ctx, {
        accountName: `visibility ${account}`,
        admin: { email: uniqueEmail('vis-admin'), name: 'Admin', password: 'correct horse battery' },
      });
      accountIds[account] = created.account.id;
    }
    const roleOf = new Map<string, string>();
    for (const row of await db
      .selectFrom('roles')
      .select(['id', 'account_id'])
      .where('account_id', 'in', Object.values(accountIds))
      .where('built_in', '=', 'operator')
      .execute()) {
      roleOf.set(row.account_id, row.id);
    }
    for (const key of users) {
      const accountId = accountIds[USERS[key].account];
      const roleId = roleOf.get(accountId)!;
      const row = await db
        .insertInto('users')
        .values({ account_id: accountId, email: uniqueEmail(`vis-${key}`), name: key, role_id: roleId })
        .returning('id')
        .executeTakeFirstOrThrow();
      userIds[key] = row.id;
      actors[key] = {
        userId: row.id,
        accountId,
        roleId,
        via: 'session',
        permissions: { ...BUILT_IN_ROLES.operator.permissions, dialogHistory: USERS[key].scope },
      };
    }
    for (const [key, members] of Object.entries(DEPARTMENTS) as [DepartmentKey, UserKey[]][]) {
      const row = await db
        .insertInto('departments')
        .values({ account_id: accountIds.main, name: key })
        .returning('id')
        .executeTakeFirstOrThrow();
      departmentIds[key] = row.id;
      for (const user of members) {
        await db
          .insertInto('department_members')
          .values({ account_id: accountIds.main, department_id: row.id, user_id: userIds[user] })
          .execute();
      }
    }
    const channelOf = {} as Record<LineKey, string>;
    for (const [key, line] of Object.entries(LINES) as [LineKey, (typeof LINES)[LineKey]][]) {
      const settings = defaultLineSettings('en');
      settings.queue.members = queueOf(key);
      const row = await db
        .insertInto('lines')
        .values({
          account_id: accountIds[line.account],
          name: key,
          active: line.active,
          settings: JSON.stringify(settings),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      lineIds[key] = row.id;
      const channel = await db
        .insertInto('channels')
        .values({
          account_id: accountIds[line.account],
          line_id: lineIds[key],
          kind: 'api',
          name: key,
          settings: '{}',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      channelOf[key] = channel.id;
    }
    let minute = 0;
    const at = () => new Date(Date.UTC(2026, 2, 2, 10, minute++));
    for (const key of dialogs) {
      const spec: DialogSpec = DIALOGS[key];
      const accountId = accountIds[LINES[spec.line].account];
      const client = await db
        .insertInto('clients')
        .values({ account_id: accountId, name: key })
        .returning('id')
        .executeTakeFirstOrThrow();
      const lastAt = at();
      const dialog = await db
        .insertInto('dialogs')
        .values({
          account_id: accountId,
          line_id: lineIds[spec.line],
          channel_id: channelOf[spec.line],
          client_id: client.id,
          pinned_operator_id: spec.pinned ? userIds[spec.pinned] : null,
          last_message_at: lastAt,
          last_message_preview: key,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      dialogIds[key] = dialog.id;
      let sessionId = '';
      for (const s of spec.sessions) {
        const createdAt = at();
        const session = await db
          .insertInto('sessions')
          .values({
            account_id: accountId,
            dialog_id: dialog.id,
            line_id: lineIds[spec.line],
            status: s.status,
            operator_id: s.operator ? userIds[s.operator] : null,
            passed_by: '[]',
            offered_to: JSON.stringify((s.offeredTo ?? []).map((u) => userIds[u])),
            created_at: createdAt,
            queued_at: s.status === 'queued' ? createdAt : null,
            closed_at: isClosed(s.status) ? createdAt : null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        sessionId = session.id;
        for (const user of s.participants ?? []) {
          await db
            .insertInto('session_participants')
            .values({ session_id: session.id, user_id: userIds[user], joined_at: createdAt })
            .execute();
        }
        for (const user of s.heldBy ?? []) {
          await db
            .insertInto('session_transitions')
            .values({
              account_id: accountId,
              session_id: session.id,
              dialog_id: dialog.id,
              from_status: 'queued',
              to_status: 'assigned',
              operator_id: userIds[user],
              actor_kind: 'system',
              actor_id: null,
              reason: 'routed',
              at: createdAt,
            })
            .execute();
        }
      }
      await db
        .insertInto('messages')
        .values({
          account_id: accountId,
          dialog_id: dialog.id,
          session_id: sessionId,
          channel_id: channelOf[spec.line],
          author_kind: 'client',
          text: key,
          attachments: '[]',
          delivery_state: 'received',
          created_at: lastAt,
        })
        .execute();
    }

    // The SQL form: the list of everything, the queue view, the read of one dialog.
    for (const user of users) {
      const actor = actors[user];
      const ids = async (view: 'all' | 'queue') =>
        new Set((await listDialogs(ctx, actor, { view, limit: 200 })).items.map((d) => d.id));
      listed.set(user, await ids('all'));
      queueView.set(user, await ids('queue'));
      const read = new Set<string>();
      for (const key of dialogs) {
        const found = await loadVisibleDialog(db, actor, dialogIds[key]).then(
          () => true,
          (error: { code?: string }) => {
            if (error.code !== 'not_found') throw error;
            return false;
          },
        );
        if (found) read.add(dialogIds[key]);
      }
      readable.set(user, read);
    }

    // The recipients form, through the event paths that address a dialog's events.
    for (const key of dialogs) {
      const spec: DialogSpec = DIALOGS[key];
      const accountId = accountIds[LINES[spec.line].account];
      const dialogId = dialogIds[key];
      const message = presentMessage(
        await db
          .selectFrom('messages')
          .selectAll()
          .where('dialog_id', '=', dialogId)
          .executeTakeFirstOrThrow(),
      );
      const { cursor } = await db
        .selectFrom('accounts')
        .select('event_seq as cursor')
        .where('id', '=', accountId)
        .executeTakeFirstOrThrow();
      // A change of the dialog (presented, then addressed) …
      await runInTransaction(ctx, async (uow) => touchDialog(ctx, uow, accountId, dialogId));
      // … and a round with a message change only (addressed from the audience facts alone).
      await runInTransaction(ctx, async (uow) =>
        emitMessage(ctx, uow, 'message.updated', message, accountId),
      );
      const written = await db
        .selectFrom('events')
        .select(['type', 'audience'])
        .where('account_id', '=', accountId)
        .where('cursor', '>', cursor)
        .where('dialog_id', '=', dialogId)
        .orderBy('cursor')
        .execute();
      expect(written.map((e) => e.type)).toEqual(['dialog.updated', 'message.updated']);
      const found = written.map((e) => ({ kind: e.type, audience: e.audience }));
      // The lean path's message in a held session addresses its event from the rows in memory.
      const latest = spec.sessions.at(-1)!;
      if (hasOperator(latest.status)) {
        const presented = await getDialog(ctx, { ...actors.sup, accountId }, dialogId);
        const recorder = new EventRecorder();
        emitHeldMessage({ events: recorder } as unknown as UnitOfWork, {
          accountId,
          lineActive: LINES[spec.line].active,
          message,
          activity: {
            lastMessageAt: presented.lastMessageAt,
            lastMessagePreview: presented.lastMessagePreview,
            unreachable: presented.unreachable,
            session: presented.session!,
          },
          pinnedOperatorId: presented.pinnedOperatorId,
        });
        for (const event of recorder.pending) found.push({ kind: 'held message', audience: event.audience });
      }
      audiences.set(key, found);
    }
  });
  afterAll(() => server?.stop());

  /** The socket form: an account's events reach only its own sockets, then `canReceive` filters. */
  const receives = (user: UserKey, key: DialogKey) =>
    audiences
      .get(key)!
      .map(
        ({ kind, audience }) =>
          [
            kind,
            actors[user].accountId === factsOf(key).accountId && canReceive(actors[user], audience),
          ] as const,
      );

  // ----- The checks --------------------------------------------------------------------------------

  it('every form answers as the policy decides, for every user and dialog', () => {
    const disagreements: string[] = [];
    for (const user of users) {
      for (const key of dialogs) {
        const facts = factsOf(key);
        const mayRead = readGrounds(actors[user], facts, departmentsOf).length > 0;
        const hears = eventGrounds(actors[user], facts, departmentsOf).length > 0;
        // The dialog's own events also reach who reads it by their history (held_before).
        const hearsDialog = eventGrounds(actors[user], facts, departmentsOf, 'dialog').length > 0;
        const latest = facts.sessions.at(-1)!;
        const id = dialogIds[key];
        const forms: [string, boolean, boolean][] = [
          ['read of one dialog', readable.get(user)!.has(id), mayRead],
          // LN-4: the lists leave out an inactive line's dialogs.
          ['list of all', listed.get(user)!.has(id), mayRead && LINES[DIALOGS[key].line].active],
          [
            'queue view',
            queueView.get(user)!.has(id),
            mayRead && LINES[DIALOGS[key].line].active && latest.status === 'queued',
          ],
          ...receives(user, key).map(([kind, got]): [string, boolean, boolean] => [
            `${kind} event`,
            got,
            kind === 'dialog.updated' ? hearsDialog : hears,
          ]),
        ];
        for (const [form, got, want] of forms) {
          if (got !== want) disagreements.push(`${user} × ${key}: ${form} says ${got}, the policy ${want}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('reading and events agree on the grounds both have, for every user and dialog', () => {
    const disagreements: string[] = [];
    for (const user of users) {
      for (const key of dialogs) {
        const facts = factsOf(key);
        if (!facts.lineActive) continue; // LN-4: no events at all
        const read: string[] = readGrounds(actors[user], facts, departmentsOf);
        const events: string[] = eventGrounds(actors[user], facts, departmentsOf);
        for (const ground of SHARED) {
          if (read.includes(ground) !== events.includes(ground)) {
            disagreements.push(
              `${user} × ${key}: ${ground} read ${read.includes(ground)}, events ${events.includes(ground)}`,
            );
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('matches the table written by hand', () => {
    const got = EXPECTED.map(([user, key]) => {
      const facts = factsOf(key);
      const id = dialogIds[key];
      return [
        user,
        key,
        readGrounds(actors[user], facts, departmentsOf).sort(),
        eventGrounds(actors[user], facts, departmentsOf).sort(),
        { read: readable.get(user)!.has(id), listed: listed.get(user)!.has(id), events: receives(user, key) },
      ];
    });
    const want = EXPECTED.map(([user, key, read, events]) => [
      user,
      key,
      [...read].sort(),
      [...events].sort(),
      {
        read: read.length > 0,
        listed: read.length > 0 && key !== 'inactiveLine',
        events: audiences
          .get(key)!
          .map(({ kind }) => [
            kind,
            events.length > 0 ||
              (kind === 'dialog.updated' && read.includes('held_before') && key !== 'inactiveLine'),
          ]),
      },
    ]);
    expect(got).toEqual(want);
  });
});
