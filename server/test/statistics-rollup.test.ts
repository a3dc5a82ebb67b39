import { randomUUID } from 'node:crypto';
import type {
  SessionStatus,
  StatisticsBucket,
  StatisticsDimension,
  StatisticsSummary,
} from '@openlines/contract';
import type { StatisticsApi } from '@openlines/sdk';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, periodOf, type SessionFacts, summarize } from '../src/core/analytics';
import { FakeClock } from '../src/core/clock';
import { backfillStatistics, computeFacts } from '../src/services/statistics';
import { coveredDays } from '../src/services/statistics-rollup';
import type { Database } from '../src/store/database';
import { createEngineWorld, type EngineWorld } from './engine-fixture';

// The roll-up against a recomputation from scratch (issue 13): random sessions, transitions and
// messages written into the tables around a DST change, then every report compared with
// `summarize` over facts computed anew from the transitions and messages — after the first
// reports (everything read session by session, facts stored), once the roll-up covers the days,
// after ratings, a line change, a reopen and a close (the triggers), after a change of time
// zone, and after the backfill. PGlite by default, PostgreSQL with DATABASE_URL.

/** A small seeded generator (mulberry32): the same data set on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PERIOD = { from: '2026-03-25', to: '2026-04-02' };
const START = Date.parse('2026-03-24T20:00:00Z');
const SPAN = 9 * 86_400_000;
const NOW = '2026-04-03T12:00:00Z';

interface Seeded {
  sessionIds: string[];
  lineIds: string[];
  channelIds: string[];
  operatorIds: string[];
}

let accountId = '';

async function seed(
  db: Database,
  world: EngineWorld,
  lineIds: string[],
  channelIds: string[],
): Promise<Seeded> {
  const next = random(13);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const operatorIds = world.operators.map((o) => o.id);
  const sessionIds: string[] = [];
  for (let d = 0; d < 40; d++) {
    const channel = d % 2;
    const clientId = randomUUID();
    const dialogId = randomUUID();
    await sql`insert into clients (id, account_id, name) values (${clientId}, ${accountId}, ${`Client ${d}`})`.execute(
      db,
    );
    await sql`insert into dialogs (id, account_id, line_id, channel_id, client_id)
      values (${dialogId}, ${accountId}, ${lineIds[channel]}, ${channelIds[channel]}, ${clientId})`.execute(
      db,
    );
    const sessions = 1 + Math.floor(next() * 4);
    for (let k = 0; k < sessions; k++) {
      const id = randomUUID();
      sessionIds.push(id);
      const t0 = START + Math.floor(next() * SPAN);
      const operator = next() < 0.85 ? pick(operatorIds) : null;
      const viaBot = next() < 0.2;
      // A dialog has at most one open session (sessions_one_open): only its last may be open.
      const open = next() < 0.12 && k === sessions - 1;
      const ending: SessionStatus = pick([
        'closed',
        'closed',
        'closed',
        'spam',
        'auto_closed',
        'closed_silently',
      ]);
      const transitions: { from: SessionStatus | null; to: SessionStatus; op: string | null; at: number }[] =
        [];
      let at = t0;
      const step = () => {
        at += 1 + Math.floor(next() * 900_000);
        return at;
      };
      transitions.push({ from: null, to: viaBot ? 'bot' : 'queued', op: null, at });
      if (viaBot) transitions.push({ from: 'bot', to: 'queued', op: null, at: step() });
      if (operator) {
        transitions.push({ from: 'queued', to: 'assigned', op: operator, at: step() });
        if (next() < 0.3) {
          const other = pick(operatorIds);
          transitions.push({ from: 'assigned', to: 'assigned', op: other, at: step() });
        }
      }
      const messages: { author: 'client' | 'operator' | 'bot' | 'system'; by: string | null; at: number }[] =
        [];
      const count = Math.floor(next() * 8);
      let mAt = t0;
      for (let m = 0; m < count; m++) {
        mAt += Math.floor(next() * 600_000);
        const author = pick(['client', 'client', 'operator', 'operator', 'bot', 'system'] as const);
        messages.push({ author, by: author === 'operator' ? pick(operatorIds) : null, at: mAt });
      }
      const last = transitions[transitions.length - 1]!;
      let closedAt: number | null = null;
      let status: SessionStatus = last.to;
      if (!open) {
        closedAt = Math.max(step(), mAt + 1);
        status = ending;
        transitions.push({ from: last.to, to: ending, op: null, at: closedAt });
      }
      const rating = closedAt && next() < 0.4 ? pick(['like', 'dislike'] as const) : null;
      const supervisor = closedAt && next() < 0.3 ? 1 + Math.floor(next() * 5) : null;
      await sql`insert into sessions (id, account_id, dialog_id, line_id, status, operator_id, created_at, closed_at,
          opened_off_hours, rating, supervisor_rating)
        values (${id}, ${accountId}, ${dialogId}, ${lineIds[channel]}, ${status}, ${operator}, ${new Date(t0)},
          ${closedAt ? new Date(closedAt) : null}, ${next() < 0.25}, ${rating}, ${supervisor})`.execute(db);
      for (const t of transitions) {
        await sql`insert into session_transitions (account_id, session_id, dialog_id, from_status, to_status,
            operator_id, actor_kind, actor_id, reason, at)
          values (${accountId}, ${id}, ${dialogId}, ${t.from}, ${t.to}, ${t.op}, 'system', null, 'seed', ${new Date(t.at)})`.execute(
          db,
        );
      }
      for (const m of messages) {
        await sql`insert into messages (account_id, dialog_id, session_id, channel_id, author_kind, author_id, text,
            delivery_state, created_at, private, spam)
          values (${accountId}, ${dialogId}, ${id}, ${channelIds[channel]}, ${m.author}, ${m.by}, 'text',
            ${m.author === 'client' ? 'received' : 'sent'}, ${new Date(m.at)},
            ${m.author === 'operator' && next() < 0.1}, ${m.author === 'client' && next() < 0.1})`.execute(
          db,
        );
      }
    }
  }
  return { sessionIds, lineIds, channelIds, operatorIds };
}

type Filter = { from: string; to: string; lineId?: string; channelKind?: string; operatorId?: string };

/** The reports as the code before the roll-up computed them: every session's facts, from scratch. */
async function recompute(world: EngineWorld, filter: Filter, timeZone: string) {
  const db = world.server.ctx.store.db;
  const period = periodOf(filter.from, filter.to, timeZone);
  let query = db
    .selectFrom('sessions as s')
    .innerJoin('dialogs as d', 'd.id', 's.dialog_id')
    .innerJoin('channels as c', 'c.id', 'd.channel_id')
    .select([
      's.id',
      's.dialog_id',
      's.line_id',
      's.seq',
      's.created_at',
      's.opened_off_hours',
      's.rating',
      's.supervisor_rating',
      'd.channel_id',
      'c.kind',
    ])
    .where('s.account_id', '=', accountId)
    .where('s.created_at', '>=', period.start)
    .where('s.created_at', '<', period.end);
  if (filter.lineId) query = query.where('s.line_id', '=', filter.lineId);
  if (filter.channelKind) query = query.where('c.kind', '=', filter.channelKind);
  const rows = await query.execute();
  const kpi = (await db.selectFrom('lines').select(['id', 'settings']).execute()).map((l) => [
    l.id,
    l.settings.kpi,
  ]);
  const kpiOf = new Map(kpi as [string, never][]);
  const facts = await computeFacts(db, rows, (id) => kpiOf.get(id), world.clock.now());
  const sessions = rows.map((r) => ({ ...r, facts: facts.get(r.id) as SessionFacts }));
  const ops = filter.operatorId ? new Set([filter.operatorId]) : undefined;
  const all = sessions.map((s) => s.facts);
  const grouped = (key: (s: (typeof sessions)[number]) => string) => {
    const groups = new Map<string, SessionFacts[]>();
    for (const s of sessions) groups.set(key(s), [...(groups.get(key(s)) ?? []), s.facts]);
    const out: Record<string, StatisticsSummary> = {};
    for (const [k, list] of groups) {
      const summary = summarize(list, ops);
      if (summary.sessions > 0 || summary.everyAnswer.count > 0) out[k] = summary;
    }
    return out;
  };
  const operatorIds = new Set<string>();
  for (const f of all) {
    if (f.operatorId) operatorIds.add(f.operatorId);
    for (const a of f.answers) if (a.operatorId) operatorIds.add(a.operatorId);
  }
  const byOperator: Record<string, StatisticsSummary> = {};
  for (const id of operatorIds) if (!ops || ops.has(id)) byOperator[id] = summarize(all, id);
  const series = (bucket: StatisticsBucket) => {
    const out: Record<string, StatisticsSummary> = {};
    for (const [k, v] of Object.entries(grouped((s) => bucketOf(s.created_at, timeZone, bucket)))) out[k] = v;
    return out;
  };
  return {
    summary: summarize(all, ops),
    day: series('day'),
    week: series('week'),
    line: grouped((s) => s.line_id),
    channel: grouped((s) => s.channel_id),
    'channel-kind': grouped((s) => s.kind),
    operator: byOperator,
  };
}

async function reports(stats: StatisticsApi, filter: Filter) {
  const series = async (bucket: StatisticsBucket) => {
    const out: Record<string, StatisticsSummary> = {};
    for (const p of (await stats.series({ ...filter, bucket })).points) {
      if (p.summary.sessions > 0 || p.summary.everyAnswer.count > 0) out[p.bucket] = p.summary;
    }
    return out;
  };
  const table = async (dimension: StatisticsDimension) =>
    Object.fromEntries((await stats.table(dimension, filter)).rows.map((r) => [r.key, r.summary]));
  return {
    summary: (await stats.summary(filter)).current,
    day: await series('day'),
    week: await series('week'),
    line: await table('line'),
    channel: await table('channel'),
    'channel-kind': await table('channel-kind'),
    operator: await table('operator'),
  };
}

describe('statistics roll-up', () => {
  let world: EngineWorld;
  let stats: StatisticsApi;
  let seeded: Seeded;
  let db: Database;

  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 3,
      // The clock starts at NOW: moving it a month on would expire the signed-in sessions.
      clock: new FakeClock(NOW),
      settings: { kpi: { firstAnswer: { targetSeconds: 120 }, furtherAnswer: { targetSeconds: 300 } } },
    });
    db = world.server.ctx.store.db;
    accountId = (await world.admin.client.auth.me()).account.id;
    stats = world.admin.client.statistics;
    const second = await world.admin.lines.create({ name: 'Sales', settings: {} });
    const { channel } = await world.admin.channels.create({
      kind: 'api',
      name: 'Second backend',
      lineId: second.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
    });
    seeded = await seed(db, world, [world.line.id, second.id], [world.channelId, channel.id]);
    await stats.updateSettings({ timeZone: 'Europe/Berlin' });
  }, 120_000);
  afterAll(() => world?.stop());

  const filters = (): Filter[] => [
    PERIOD,
    { from: '2026-03-28', to: '2026-03-30' },
    { ...PERIOD, lineId: seeded.lineIds[1] as string },
    { ...PERIOD, channelKind: 'api' },
    { ...PERIOD, operatorId: seeded.operatorIds[0] as string },
  ];

  const compareAll = async (timeZone: string) => {
    for (const filter of filters()) {
      const expected = await recompute(world, filter, timeZone);
      const actual = await reports(stats, filter);
      expect(actual, JSON.stringify(filter)).toEqual(expected);
    }
  };

  const covered = async (timeZone: string) => {
    const days = await coveredDays(db, accountId, timeZone, periodOf(PERIOD.from, PERIOD.to, timeZone));
    return days.filter((d) => d.covered).length;
  };

  /** The roll-up table against sums of the facts rows, computed here in SQL from scratch. */
  const rollupMatchesFacts = async () => {
    const { rows } = await sql<{ diff: number }>`select count(*)::int as diff from (
        select account_id, time_zone, version, day, line_id, channel_id,
          coalesce(operator_id, '00000000-0000-0000-0000-000000000000'::uuid) as operator_id,
          count(*)::int as sessions, sum(messages_in)::bigint as messages_in,
          sum(round(bot_seconds * 1000))::bigint as bot_ms,
          count(*) filter (where rating = 'like')::int as likes
        from session_facts where day is not null group by 1, 2, 3, 4, 5, 6, 7
      ) f full join (select * from statistics_daily where sessions <> 0) r using (account_id, time_zone, version, day,
        line_id, channel_id, operator_id)
      where f.sessions is distinct from r.sessions or f.messages_in is distinct from r.messages_in
        or f.bot_ms is distinct from r.bot_ms or f.likes is distinct from r.likes`.execute(db);
    expect(rows[0]?.diff).toBe(0);
  };

  it('agrees with a recomputation when every day is read session by session', async () => {
    expect(await covered('Europe/Berlin')).toBe(0);
    await compareAll('Europe/Berlin');
  });

  it('agrees once the roll-up covers the days without open sessions', async () => {
    const days = await covered('Europe/Berlin');
    // Some days are covered (read from the roll-up), some hold an open session (read as before).
    expect(days).toBeGreaterThan(0);
    expect(days).toBeLessThan(9);
    await rollupMatchesFacts();
    await compareAll('Europe/Berlin');
  });

  it('follows ratings, a line change, a reopen and a close (the triggers)', async () => {
    const closed = await db
      .selectFrom('sessions')
      .select(['id', 'line_id', 'dialog_id', 'account_id'])
      .where('status', '=', 'closed')
      .orderBy('created_at')
      .execute();
    const [rated, moved, reopened] = closed;
    await sql`update sessions set rating = 'dislike', supervisor_rating = 2 where id = ${rated!.id}`.execute(
      db,
    );
    await sql`update sessions set line_id = ${seeded.lineIds[1]} where id = ${moved!.id}`.execute(db);
    world.clock.set('2026-04-03T12:30:00Z');
    await sql`update sessions set status = 'answered', closed_at = null where id = ${reopened!.id}`.execute(
      db,
    );
    await sql`insert into session_transitions (account_id, session_id, dialog_id, from_status, to_status,
        actor_kind, reason, at)
      values (${reopened!.account_id}, ${reopened!.id}, ${reopened!.dialog_id}, 'closed', 'answered', 'system', 'test',
        ${world.clock.now()})`.execute(db);
    const open = await db
      .selectFrom('sessions')
      .select(['id', 'dialog_id', 'account_id', 'status'])
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (open) {
      await sql`update sessions set status = 'closed', closed_at = ${world.clock.now()} where id = ${open.id}`.execute(
        db,
      );
      await sql`insert into session_transitions (account_id, session_id, dialog_id, from_status, to_status,
          actor_kind, reason, at)
        values (${open.account_id}, ${open.id}, ${open.dialog_id}, 'queued', 'closed', 'system', 'test',
          ${world.clock.now()})`.execute(db);
    }
    await rollupMatchesFacts();
    await compareAll('Europe/Berlin');
    await compareAll('Europe/Berlin');
    await rollupMatchesFacts();
  });

  it('agrees after a change of the account time zone, and after the backfill', async () => {
    await stats.updateSettings({ timeZone: 'America/New_York' });
    expect(await covered('America/New_York')).toBe(0);
    const stored = await backfillStatistics(world.server.ctx, accountId, { batch: 7 });
    expect(stored).toBeGreaterThan(0);
    expect(await backfillStatistics(world.server.ctx, accountId)).toBe(0);
    expect(await covered('America/New_York')).toBeGreaterThan(0);
    await rollupMatchesFacts();
    await compareAll('America/New_York');
  });
});
