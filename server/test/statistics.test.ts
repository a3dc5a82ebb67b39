import type { Dialog, StatisticsSummary } from '@openlines/contract';
import type { StatisticsApi } from '@openlines/sdk';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACTS_VERSION } from '../src/core/analytics';
import { computeFacts } from '../src/services/statistics';
import { SESSION_COLUMNS, SUMMARY_COLUMNS } from '../src/services/statistics-csv';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { createSignedInUser, problemOf, type SignedInUser } from './harness';

// Statistics routes on seeded sessions (PGlite by default, PostgreSQL with DATABASE_URL): every
// figure of the summary, the series, the tables, the CSV exports, the scopes and bad input.

const T0 = '2026-03-02T10:00:00Z';
const PERIOD = { from: '2026-03-02', to: '2026-03-03' };

describe('statistics reports', () => {
  let world: EngineWorld;
  let stats: StatisticsApi;
  let alice: Dialog;
  let holderA: Operator;
  let holderB: Operator;
  let department: SignedInUser;

  const holder = async (dialogId: string) => {
    const dialog = await world.admin.dialogs.get(dialogId);
    const operator = world.operators.find((o) => o.id === dialog.session?.operatorId);
    if (!operator) throw new Error('the session was not assigned');
    return { dialog, operator };
  };

  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 2,
      settings: { kpi: { firstAnswer: { targetSeconds: 60 }, furtherAnswer: { targetSeconds: 120 } } },
    });
    world.clock.set(T0);
    stats = world.admin.client.statistics;
    await world.online(...world.operators);

    // A: answered after 30 s, then a further answer after 200 s (a breach of 120 s), closed at 300 s.
    const a = await world.clientSays('alice', 'hello');
    ({ dialog: alice, operator: holderA } = await holder(a.dialogId));
    world.clock.advance(30_000);
    await holderA.ws.dialogs.send(a.dialogId, { text: 'hi' });
    world.clock.advance(10_000);
    await world.clientSays('alice', 'more');
    world.clock.advance(200_000);
    await holderA.ws.dialogs.send(a.dialogId, { text: 'done' });
    world.clock.advance(60_000);
    await holderA.ws.dialogs.close(a.dialogId, { confirmed: true });
    await world.admin.dialogs.rateAsSupervisor(alice.session!.id, { rating: 4 });
    await sql`update sessions set rating = 'like' where id = ${alice.session!.id}`.execute(
      world.server.ctx.store.db,
    );

    // B: nobody answers; closed after 100 s: unanswered and missed.
    world.clock.set('2026-03-02T11:00:00Z');
    const b = await world.clientSays('bob', 'anyone?');
    ({ operator: holderB } = await holder(b.dialogId));
    world.clock.advance(100_000);
    await holderB.ws.dialogs.close(b.dialogId, { confirmed: true });

    // C, the next day: spam.
    world.clock.set('2026-03-03T09:00:00Z');
    const c = await world.clientSays('carol', 'buy now');
    const { operator: holderC } = await holder(c.dialogId);
    world.clock.advance(5_000);
    await holderC.ws.dialogs.markSpam(c.dialogId);

    // D: Alice comes back (a returning session), still open.
    world.clock.set('2026-03-03T12:00:00Z');
    await world.clientSays('alice', 'me again');
    world.clock.advance(20_000);

    department = await createSignedInUser(world.server, world.admin.client, 'operator');
    const role = await world.admin.client.roles.create({
      name: 'Team lead',
      permissions: { ...(await department.client.auth.me()).permissions, statistics: 'department' },
    });
    await world.admin.client.users.update(department.user.id, { roleId: role.id });
    await world.admin.client.departments.create({
      name: 'Team A',
      memberIds: [department.user.id, holderA.id],
    });
  });
  afterAll(() => world?.stop());

  const expectAll = (s: StatisticsSummary) => {
    expect(s).toMatchObject({
      sessions: 4,
      newSessions: 3,
      returningSessions: 1,
      messagesIn: 5,
      messagesOut: 2,
      botMessages: 0,
      botSeconds: 0,
      unanswered: 1,
      missed: 1,
      kpiBreaches: 1,
      likes: 1,
      dislikes: 0,
      likeShare: 1,
      supervisorRatingAverage: 4,
      insideHours: 4,
      outsideHours: 0,
      spam: 1,
    });
    expect(s.firstAnswer).toEqual({ count: 1, average: 30, median: 30, p90: 30, max: 30 });
    expect(s.everyAnswer).toEqual({ count: 2, average: 115, median: 115, p90: 200, max: 200 });
    expect(s.timeToClose).toEqual({ count: 3, average: 135, median: 100, p90: 300, max: 300 });
  };

  it('computes every figure of the period and of the period before it', async () => {
    const report = await stats.summary(PERIOD);
    expect(report.timeZone).toBe('UTC');
    expect(report.scope).toBe('all');
    expect(report.previousPeriod).toEqual({ from: '2026-02-28', to: '2026-03-01' });
    expectAll(report.current);
    expect(report.previous.sessions).toBe(0);
  });

  it('stores the closed sessions’ facts once, and they agree with a recomputation', async () => {
    const { db } = world.server.ctx.store;
    const stored = await db.selectFrom('session_facts').selectAll().execute();
    expect(stored).toHaveLength(3);
    expect(stored.every((row) => row.version === FACTS_VERSION)).toBe(true);
    const sessions = await db
      .selectFrom('sessions')
      .select(['id', 'dialog_id', 'line_id', 'seq', 'opened_off_hours', 'rating', 'supervisor_rating'])
      .where(
        'id',
        'in',
        stored.map((row) => row.session_id),
      )
      .execute();
    const kpi = { firstAnswer: { targetSeconds: 60 }, furtherAnswer: { targetSeconds: 120 } } as never;
    const fresh = await computeFacts(db, sessions, () => kpi, world.clock.now());
    for (const row of stored) {
      const f = fresh.get(row.session_id)!;
      expect({
        messagesIn: row.messages_in,
        messagesOut: row.messages_out,
        firstAnswer: row.first_answer_seconds,
        answers: row.answers,
        close: row.close_seconds,
        unanswered: row.unanswered,
        missed: row.missed,
        kpi: row.kpi_breaches,
        spam: row.spam,
        operator: row.operator_id,
        returning: row.is_returning,
      }).toEqual({
        messagesIn: f.messagesIn,
        messagesOut: f.messagesOut,
        firstAnswer: f.firstAnswerSeconds,
        answers: f.answers,
        close: f.closeSeconds,
        unanswered: f.unanswered,
        missed: f.missed,
        kpi: f.kpiBreaches,
        spam: f.spam,
        operator: f.operatorId,
        returning: f.returning,
      });
    }
    // A second report reads the stored facts and answers the same.
    expectAll((await stats.summary(PERIOD)).current);
    expect(await db.selectFrom('session_facts').select('session_id').execute()).toHaveLength(3);
  });

  it('reads stored facts while they are fresh, and recomputes them once the session closed again', async () => {
    const { db } = world.server.ctx.store;
    const id = alice.session!.id;
    const messagesIn = async () => (await stats.summary(PERIOD)).current.messagesIn;
    // Closed again (a reopen), at an instant with microseconds as PostgreSQL keeps them: stale.
    await sql`update sessions set closed_at = closed_at + interval '1.234 milliseconds' where id = ${id}`.execute(
      db,
    );
    expect(await messagesIn()).toBe(5);
    // The stored row is what the next report reads: a mark put in it shows up.
    await sql`update session_facts set messages_in = 99 where session_id = ${id}`.execute(db);
    expect(await messagesIn()).toBe(99 + 3);
    // A stored row of other definitions is recomputed.
    await sql`update session_facts set version = ${FACTS_VERSION - 1} where session_id = ${id}`.execute(db);
    expect(await messagesIn()).toBe(5);
  });

  it('buckets by day and week in the account time zone', async () => {
    const days = await stats.series({ ...PERIOD, bucket: 'day' });
    expect(days.points.map((p) => [p.bucket, p.summary.sessions])).toEqual([
      ['2026-03-02', 2],
      ['2026-03-03', 2],
    ]);
    const weeks = await stats.series({ from: '2026-02-23', to: '2026-03-08', bucket: 'week' });
    expect(weeks.points.map((p) => [p.bucket, p.summary.sessions])).toEqual([
      ['2026-02-23', 0],
      ['2026-03-02', 4],
    ]);
    // In Vladivostok (UTC+10) B (11:00 UTC = 21:00 local) stays on the 2nd, C (09:00 UTC = 19:00) and
    // D (12:00 UTC = 22:00) on the 3rd, and A (10:00 UTC = 20:00) on the 2nd.
    await stats.updateSettings({ timeZone: 'Asia/Vladivostok' });
    const local = await stats.series({ from: '2026-03-02', to: '2026-03-04', bucket: 'day' });
    expect(local.timeZone).toBe('Asia/Vladivostok');
    expect(local.points.map((p) => [p.bucket, p.summary.sessions])).toEqual([
      ['2026-03-02', 2],
      ['2026-03-03', 2],
      ['2026-03-04', 0],
    ]);
    // In Honolulu (UTC−10) A and B fall on the 2nd, C at 23:00 on the 2nd, D on the 3rd at 02:00.
    await stats.updateSettings({ timeZone: 'Pacific/Honolulu' });
    const west = await stats.series({ from: '2026-03-01', to: '2026-03-03', bucket: 'day' });
    expect(west.points.map((p) => [p.bucket, p.summary.sessions])).toEqual([
      ['2026-03-01', 0],
      ['2026-03-02', 3],
      ['2026-03-03', 1],
    ]);
    await stats.updateSettings({ timeZone: 'UTC' });
  });

  it('tables per operator, line, channel and channel kind', async () => {
    const byOperator = await stats.table('operator', PERIOD);
    const rowA = byOperator.rows.find((r) => r.key === holderA.id)!;
    expect(rowA.name).toBe(holderA.user.name);
    expect(rowA.summary.everyAnswer).toMatchObject({ count: 2, max: 200 });
    expect(rowA.summary.botSeconds).toBe(0);
    const byLine = await stats.table('line', PERIOD);
    expect(byLine.rows).toHaveLength(1);
    expect(byLine.rows[0]).toMatchObject({ key: world.line.id, name: 'Support' });
    expectAll(byLine.rows[0]!.summary);
    const byChannel = await stats.table('channel', PERIOD);
    expect(byChannel.rows.map((r) => [r.key, r.summary.sessions])).toEqual([[world.channelId, 4]]);
    const byKind = await stats.table('channel-kind', { ...PERIOD, channelKind: 'api' });
    expect(byKind.rows.map((r) => [r.key, r.summary.sessions])).toEqual([['api', 4]]);
    const otherKind = await stats.summary({ ...PERIOD, channelKind: 'telegram' });
    expect(otherKind.current.sessions).toBe(0);
    const oneLine = await stats.summary({ ...PERIOD, lineId: world.line.id, channelId: world.channelId });
    expectAll(oneLine.current);
  });

  it('exports every report as CSV with the rows of the JSON', async () => {
    const csv = await stats.csv('by/operator', PERIOD);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(['operator', 'name', ...SUMMARY_COLUMNS].join(','));
    const json = await stats.table('operator', PERIOD);
    expect(lines).toHaveLength(json.rows.length + 1);
    const cells = lines.find((l) => l.startsWith(holderA.id))!.split(',');
    const column = (name: string) => cells[['operator', 'name', ...SUMMARY_COLUMNS].indexOf(name)];
    expect(column('everyAnswerMax')).toBe('200');
    expect(column('supervisorRatingAverage')).toBe(
      String(json.rows.find((r) => r.key === holderA.id)!.summary.supervisorRatingAverage ?? ''),
    );
    const summary = (await stats.csv('summary', PERIOD)).trimEnd().split('\r\n');
    expect(summary[0]).toBe(['period', 'from', 'to', ...SUMMARY_COLUMNS].join(','));
    expect(summary[1]!.split(',').slice(0, 4)).toEqual(['current', '2026-03-02', '2026-03-03', '4']);
    expect(summary[2]!.split(',').slice(0, 4)).toEqual(['previous', '2026-02-28', '2026-03-01', '0']);
    const series = (await stats.csv('series', { ...PERIOD, bucket: 'day' })).trimEnd().split('\r\n');
    expect(series.map((l) => l.split(',').slice(0, 2))).toEqual([
      ['bucket', 'sessions'],
      ['2026-03-02', '2'],
      ['2026-03-03', '2'],
    ]);
    const response = await fetch(stats.csvUrl('by/line', PERIOD), {
      headers: { cookie: `ol_session=${world.admin.client.sessionCookie}` },
    });
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="by-line.csv"');
  });

  it('lists the sessions behind a figure, page by page, and exports one row per session', async () => {
    const all = await stats.sessions({ ...PERIOD });
    expect(all.items.map((s) => s.dialogId).slice(0, 1)).toEqual([alice.id]);
    expect(all.items).toHaveLength(4);
    expect(all.nextCursor).toBeNull();
    const a = all.items[0]!;
    expect(a).toMatchObject({
      operatorId: holderA.id,
      firstAnswerSeconds: 30,
      answers: 2,
      longestAnswerSeconds: 200,
      closeSeconds: 300,
      kpiBreaches: 1,
      rating: 'like',
      supervisorRating: 4,
      returning: false,
    });
    const walked: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await stats.sessions({ ...PERIOD, limit: 1, ...(cursor ? { cursor } : {}) });
      walked.push(...page.items.map((s) => s.sessionId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(walked).toEqual(all.items.map((s) => s.sessionId));
    expect((await stats.sessions({ ...PERIOD, only: 'missed' })).items.map((s) => s.missed)).toEqual([true]);
    expect((await stats.sessions({ ...PERIOD, only: 'spam' })).items).toHaveLength(1);
    expect((await stats.sessions({ ...PERIOD, only: 'returning' })).items.map((s) => s.dialogId)).toEqual([
      alice.id,
    ]);
    const mine = await holderA.client.statistics.sessions({ ...PERIOD });
    expect(mine.items.every((s) => s.operatorId === holderA.id)).toBe(true);

    const csv = (await stats.csv('sessions', PERIOD)).trimEnd().split('\r\n');
    expect(csv[0]).toBe(SESSION_COLUMNS.join(','));
    expect(csv).toHaveLength(5);
    const cells = csv[1]!.split(',');
    expect(Object.fromEntries(SESSION_COLUMNS.map((c, i) => [c, cells[i]]))).toMatchObject({
      sessionId: a.sessionId,
      createdAt: a.createdAt,
      firstAnswerSeconds: '30',
      closeSeconds: '300',
      unanswered: 'false',
      rating: 'like',
    });
    const bad = await problemOf(stats.sessions({ ...PERIOD, cursor: 'not-a-cursor' }));
    expect([bad.status, bad.problem.errors?.[0]?.field]).toEqual([400, 'query.cursor']);
    const csvBad = await problemOf(
      stats.csv('sessions', { ...PERIOD, lineId: '00000000-0000-4000-8000-000000000000' }),
    );
    expect([csvBad.status, csvBad.problem.errors?.[0]?.field]).toEqual([400, 'query.lineId']);
  });

  it('an operator with scope own sees only their own figures', async () => {
    const own = holderA.client.statistics;
    const report = await own.summary(PERIOD);
    expect(report.scope).toBe('own');
    expect(report.current.everyAnswer.count).toBe(2);
    expect(report.current.botSeconds).toBe(0);
    const byOperator = await own.table('operator', PERIOD);
    expect(byOperator.rows.map((r) => r.key)).toEqual([holderA.id]);
    const other = world.operators.find((o) => o.id !== holderA.id)!;
    const refused = await problemOf(own.summary({ ...PERIOD, operatorId: other.id }));
    expect([refused.status, refused.code]).toEqual([403, 'forbidden']);
    const board = await own.live();
    expect(board.operators.map((o) => o.userId)).toEqual([holderA.id]);
  });

  it('scope department covers the members of the caller’s departments', async () => {
    const report = await department.client.statistics.table('operator', PERIOD);
    expect(report.scope).toBe('department');
    expect(report.rows.map((r) => r.key)).toEqual([holderA.id]);
    const other = world.operators.find((o) => o.id !== holderA.id)!;
    expect(
      (await problemOf(department.client.statistics.summary({ ...PERIOD, operatorId: other.id }))).status,
    ).toBe(403);
  });

  it('scope none is refused on every route', async () => {
    const nobody = await createSignedInUser(world.server, world.admin.client, 'operator');
    const role = await world.admin.client.roles.create({
      name: 'No statistics',
      permissions: { ...(await nobody.client.auth.me()).permissions, statistics: 'none' },
    });
    await world.admin.client.users.update(nobody.user.id, { roleId: role.id });
    const api = nobody.client.statistics;
    for (const call of [
      () => api.summary(PERIOD),
      () => api.series(PERIOD),
      () => api.table('line', PERIOD),
      () => api.csv('summary', PERIOD),
      () => api.live(),
      () => api.settings(),
    ]) {
      expect((await problemOf(call())).status).toBe(403);
    }
    // Only an administrator of the account changes its time zone.
    expect((await problemOf(holderA.client.statistics.updateSettings({ timeZone: 'UTC' }))).status).toBe(403);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an inverted period', { from: '2026-03-03', to: '2026-03-02' }, 'query.to'],
    ['a period over 366 days', { from: '2025-01-01', to: '2026-03-02' }, 'query.to'],
    ['a date that does not exist', { from: '2026-02-30', to: '2026-03-02' }, 'query.from'],
    ['a malformed date', { from: '2.3.2026', to: '2026-03-02' }, 'query.from'],
    ['a foreign line', { ...PERIOD, lineId: '00000000-0000-4000-8000-000000000000' }, 'query.lineId'],
    [
      'a foreign channel',
      { ...PERIOD, channelId: '00000000-0000-4000-8000-000000000000' },
      'query.channelId',
    ],
    [
      'a foreign operator',
      { ...PERIOD, operatorId: '00000000-0000-4000-8000-000000000000' },
      'query.operatorId',
    ],
    ['an unknown channel kind', { ...PERIOD, channelKind: 'pigeon' }, 'query.channelKind'],
    ['an unknown filter', { ...PERIOD, colour: 'red' }, 'query.colour'],
    ['a missing period', { from: '2026-03-02' }, 'query.to'],
  ])('refuses %s naming the field', async (_name, query, field) => {
    const error = await problemOf(
      world.admin.client.request('GET', '/statistics/summary', { query: query as never }),
    );
    expect(error.status).toBe(400);
    expect(error.problem.errors?.map((e) => e.field)).toContain(field);
  });

  it('refuses an unknown time zone and an unknown bucket or dimension', async () => {
    const zone = await problemOf(stats.updateSettings({ timeZone: 'Mars/Olympus' }));
    expect([zone.status, zone.problem.errors?.[0]?.field]).toEqual([400, 'body.timeZone']);
    const bucket = await problemOf(stats.series({ ...PERIOD, bucket: 'hour' as never }));
    expect(bucket.problem.errors?.[0]?.field).toBe('query.bucket');
    const dimension = await problemOf(stats.table('client' as never, PERIOD));
    expect(dimension.problem.errors?.[0]?.field).toBe('params.dimension');
  });

  it('the live board shows the queue, the operators and their load', async () => {
    const board = await stats.live();
    expect(board.scope).toBe('all');
    const line = board.lines.find((l) => l.lineId === world.line.id)!;
    expect(line).toMatchObject({
      queued: 0,
      inProgress: 1,
      longestWaitSeconds: null,
      longestWaitDialogId: null,
      firstAnswerTargetSeconds: 60,
    });
    const loads = Object.fromEntries(board.operators.map((o) => [o.userId, o.load]));
    expect(Object.values(loads).reduce((a, b) => a + b, 0)).toBe(1);
    expect(board.operators.find((o) => o.userId === holderA.id)?.presence).toBe('online');
    expect(board.inProgress).toBe(1);
  });
});
