import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { OpenlinesClient, StatisticsApi } from '@openlines/sdk';
import pg from 'pg';
import { type ApiChannelSender, DialogsApi } from '../sdk/src/api/conversations';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../server/src/store/database';
import { describeMachine } from './report';
import { type ServerThread, startServerThread } from './server-thread';
import { createApiLine, createOperator, signInAdmin, signInOperator } from './setup';
import type { CapturedStatement } from './sql-counter';
import { percentile } from './stats';

// `npm run bench:large` (PostgreSQL): the paths people use every day, timed on a small account and
// again once the account holds a year of history (BENCH_LARGE_DIALOGS dialogs, ten messages each,
// default 100,000), so a query that grows with the history shows up as a ratio. Writes its
// section of docs/benchmarks.md, and the plans of every statement of those requests to
// docs/plans-large-account.md.

const DOCS_FILE = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const PLANS_FILE = fileURLToPath(new URL('../docs/plans-large-account.md', import.meta.url));
const OPERATORS = 10;
const REPEAT = 30;

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

interface Timing {
  label: string;
  p50: number;
  p95: number;
}

async function timed(label: string, times: number, work: (i: number) => Promise<unknown>): Promise<Timing> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { label, p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

interface World {
  admin: DialogsApi;
  stats: StatisticsApi;
  operator: DialogsApi;
  sender: ApiChannelSender;
  accountId: string;
  lineId: string;
  channelId: string;
  operatorIds: string[];
}

async function setUp(url: string, firstRun: { email: string; password: string }): Promise<World> {
  const { admin, operatorRoleId } = await signInAdmin(url, firstRun);
  const operatorIds: string[] = [];
  let operator: OpenlinesClient | null = null;
  for (let i = 0; i < OPERATORS; i++) {
    const user = await createOperator(admin, operatorRoleId, 'large', i);
    operatorIds.push(user.id);
    if (i === 0) {
      operator = await signInOperator(url, user.email);
      await operator.auth.setPresence('online');
    }
  }
  const line = await createApiLine(admin, url, {
    name: 'Large',
    operatorIds,
    webhookUrl: 'http://127.0.0.1:9/unused',
  });
  const me = await admin.auth.me();
  return {
    admin: new DialogsApi(admin.transport),
    stats: admin.statistics,
    operator: new DialogsApi(operator!.transport),
    sender: line.sender,
    accountId: me.account.id,
    lineId: line.lineId,
    channelId: line.channelId,
    operatorIds,
  };
}

/**
 * A year of history written straight into the tables: every dialog has a closed session with ten
 * messages, a third a second closed one, the newest 1 % an open session held by an operator and
 * 0.2 % a queued one. Sessions are spread over the operators, with their transitions.
 */
async function seed(db: pg.Client, world: World, dialogs: number): Promise<void> {
  const p = [world.accountId, world.lineId, world.channelId, world.operatorIds, dialogs];
  const run = (text: string) => db.query(text, p);
  const ops = 'operator_ids[1 + (g % array_length(operator_ids, 1))]';
  const prelude = `with params as (select $1::uuid as account_id, $2::uuid as line_id, $3::uuid as channel_id,
    $4::uuid[] as operator_ids, $5::int as n)`;
  await run(`${prelude} insert into clients (id, account_id, name, email, created_at)
    select md5('c' || g)::uuid, account_id, 'Client ' || g, 'client' || g || '@example.test',
      now() - make_interval(mins => n - g + 60)
    from params, generate_series(1, n) g`);
  await run(`${prelude} insert into client_identities (account_id, client_id, channel_id, external_id)
    select account_id, md5('c' || g)::uuid, channel_id, 'seed-' || g from params, generate_series(1, n) g`);
  await run(`${prelude} insert into dialogs (id, account_id, line_id, channel_id, client_id, last_message_at,
      last_message_preview, created_at)
    select md5('d' || g)::uuid, account_id, line_id, channel_id, md5('c' || g)::uuid,
      now() - make_interval(mins => n - g), 'Message ten of dialog ' || g, now() - make_interval(mins => n - g + 60)
    from params, generate_series(1, n) g`);
  // s = 1: the first (closed) session; s = 2: a second one for every third dialog, open for the newest.
  await run(`${prelude}, shaped as (
      select g, s, case
        when s = 2 and g > n - n / 500 then 'queued'
        when s = 2 and g > n - n / 100 then 'answered'
        else 'closed' end as status
      from params, generate_series(1, n) g, generate_series(1, 2) s
      where s = 1 or g % 3 = 0 or g > n - n / 100)
    insert into sessions (id, account_id, dialog_id, line_id, status, operator_id, created_at, queued_at,
      assigned_at, first_answer_at, closed_at, close_reason)
    select md5('s' || g || '-' || s)::uuid, account_id, md5('d' || g)::uuid, line_id, status,
      case when status = 'queued' then null else ${ops} end,
      now() - make_interval(mins => n - g + 60 - s * 20), now() - make_interval(mins => n - g + 60 - s * 20),
      case when status = 'queued' then null else now() - make_interval(mins => n - g + 59 - s * 20) end,
      case when status = 'queued' then null else now() - make_interval(mins => n - g + 58 - s * 20) end,
      case when status = 'closed' then now() - make_interval(mins => n - g + 50 - s * 20) end,
      case when status = 'closed' then 'operator' end
    from params, shaped`);
  await run(`${prelude} insert into session_transitions (account_id, session_id, dialog_id, from_status,
      to_status, operator_id, actor_kind, actor_id, reason, at)
    select params.account_id, s.id, s.dialog_id, t.from_status, t.to_status, s.operator_id, 'system', null, 'seed', s.created_at
    from params, sessions s, (values (null, 'queued'), ('queued', 'assigned'), ('answered', 'closed')) as t(from_status, to_status)
    where s.account_id = params.account_id and (s.status <> 'queued' or t.to_status = 'queued')
      and (s.status = 'closed' or t.to_status <> 'closed')`);
  await run(`${prelude} insert into messages (account_id, dialog_id, session_id, channel_id, author_kind,
      author_id, text, delivery_state, created_at)
    select params.account_id, s.dialog_id, s.id, params.channel_id,
      case when k % 2 = 1 then 'client' else 'operator' end,
      case when k % 2 = 1 then null else s.operator_id::text end,
      'Message ' || k || ' of a seeded dialog, long enough to look like one a client would write'
        || case when k = 3 and s.dialog_id = md5('d' || (params.n / 2))::uuid then ' about a refund' else '' end
        || case when k = 5 and (abs(hashtext(s.dialog_id::text)) % 1000) = 0 then ' about an invoice' else '' end,
      case when k % 2 = 1 then 'received' else 'sent' end, s.created_at + make_interval(secs => k * 30)
    from params, sessions s, generate_series(1, 10) k
    where s.account_id = params.account_id and s.close_reason = 'operator'
      and (k <= 10 / (select count(*) from sessions x where x.dialog_id = s.dialog_id))`);
  await db.query('vacuum analyze');
}

/**
 * Searches through the history: a word in one message of one dialog, a word in ~0.1 % of dialogs,
 * a word in every message (the worst case: the newest page of a million matches), and part of a
 * client's name.
 */
const SEARCHES: [string, string][] = [
  ['one old message', 'refund'],
  ['0.1 % of dialogs', 'invoices'],
  ['every message', 'seeded'],
  ["part of a client's name", 'ent 4242'],
];

async function measure(world: World, tag: string): Promise<Timing[]> {
  const timings: Timing[] = [];
  const held = await world.sender.send({
    externalId: `${tag}-held-0`,
    user: { id: `${tag}-held`, name: 'Held client' },
    text: 'Hello',
  });
  if (!held.sessionId) throw new Error('the held client has no session');
  timings.push(
    await timed('follow-up message (HTTP answer)', REPEAT, (i) =>
      world.sender.send({
        externalId: `${tag}-held-${i + 1}`,
        user: { id: `${tag}-held`, name: 'Held client' },
        text: `Follow-up ${i}`,
      }),
    ),
  );
  timings.push(
    await timed('first message of a new client (HTTP answer)', REPEAT, (i) =>
      world.sender.send({
        externalId: `${tag}-new-${i}`,
        user: { id: `${tag}-new-${i}`, name: `New ${i}` },
        text: 'Hi',
      }),
    ),
  );
  for (const view of ['all', 'mine', 'queue'] as const) {
    timings.push(await timed(`admin's list, ${view}`, REPEAT, () => world.admin.list({ view, limit: 50 })));
    timings.push(
      await timed(`operator's list, ${view}`, REPEAT, () => world.operator.list({ view, limit: 50 })),
    );
  }
  const page = await world.admin.list({ view: 'all', limit: 50 });
  if (page.nextCursor) {
    const cursor = page.nextCursor;
    timings.push(
      await timed("admin's list, all, second page", REPEAT, () =>
        world.admin.list({ view: 'all', limit: 50, cursor }),
      ),
    );
  }
  timings.push(
    await timed("a dialog's history (newest 100 messages)", REPEAT, (i) =>
      world.admin.messages(page.items[i % page.items.length]!.id, { limit: 100 }),
    ),
  );
  for (const [label, search] of SEARCHES) {
    timings.push(
      await timed(`admin's search, ${label}`, REPEAT, () => world.admin.list({ view: 'all', search })),
    );
    timings.push(
      await timed(`operator's search, ${label}`, REPEAT, () => world.operator.list({ view: 'all', search })),
    );
  }
  timings.push(...(await measureStatistics(world)));
  return timings;
}

/** Local dates of the last `days` days up to today (UTC, the account's default time zone). */
function lastDays(days: number): { from: string; to: string } {
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

/**
 * Statistics (issue 13): the first report of a period computes and stores the facts of its closed
 * sessions (timed once); the same reports again read the stored facts.
 */
async function measureStatistics(world: World): Promise<Timing[]> {
  const month = lastDays(30);
  const year = lastDays(365);
  const repeat = Math.max(3, Math.floor(REPEAT / 6));
  const timings: Timing[] = [
    await timed('statistics summary, 1 year, first (facts computed and stored)', 1, () =>
      world.stats.summary(year),
    ),
  ];
  for (const [name, period] of [
    ['30 days', month],
    ['1 year', year],
  ] as const) {
    timings.push(await timed(`statistics summary, ${name}`, repeat, () => world.stats.summary(period)));
    timings.push(
      await timed(`statistics series by day, ${name}`, repeat, () =>
        world.stats.series({ ...period, bucket: 'day' }),
      ),
    );
    timings.push(
      await timed(`statistics by operator, ${name}`, repeat, () => world.stats.table('operator', period)),
    );
  }
  return timings;
}

interface RequestPlans {
  label: string;
  statements: { sql: string; plan: string }[];
}

const CONTROL = /^\s*(begin|commit|rollback|savepoint|release|select pg_advisory|listen|unlisten|notify)\b/i;
const WRITES = /\b(insert|update|delete)\b/i;

/**
 * The plans of exactly the statements one request sent, with its parameters, on the large account:
 * reads with EXPLAIN ANALYZE (what PostgreSQL really did), writes with EXPLAIN (their plan, not
 * run again), all in a transaction that is rolled back.
 */
async function plansOf(
  server: ServerThread,
  db: pg.Client,
  label: string,
  request: () => Promise<unknown>,
): Promise<RequestPlans> {
  await server.capture();
  await request();
  const sent: CapturedStatement[] = (await server.captured()).filter((s) => !CONTROL.test(s.text));
  const statements: RequestPlans['statements'] = [];
  await db.query('begin');
  try {
    for (const [index, statement] of sent.entries()) {
      const explain = WRITES.test(statement.text)
        ? 'explain (costs off)'
        : 'explain (analyze, costs off, timing off, summary off)';
      await db.query(`savepoint p${index}`);
      try {
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(
          `${explain} ${statement.text}`,
          statement.values,
        );
        statements.push({ sql: statement.text, plan: rows.map((row) => row['QUERY PLAN']).join('\n') });
        await db.query(`release savepoint p${index}`);
      } catch (error) {
        await db.query(`rollback to savepoint p${index}`);
        statements.push({ sql: statement.text, plan: `(not explained: ${(error as Error).message})` });
      }
    }
  } finally {
    await db.query('rollback');
  }
  return { label, statements };
}

function plansDocument(plans: RequestPlans[], data: string): string {
  const jit = plans.flatMap((p) => p.statements.filter((s) => /\bJIT:/.test(s.plan)).map(() => p.label));
  const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
  return [
    '# Query plans on a large account',
    '',
    'Written by `npm run bench:large` (see [benchmarks](benchmarks.md)): every statement each request',
    'below sent to PostgreSQL, with its own parameters, explained on the large account. Reads show',
    '`EXPLAIN ANALYZE` (what ran), writes `EXPLAIN` (their plan; not run twice). Control statements',
    '(BEGIN/COMMIT, advisory locks) are left out; a background worker polling in the same moment may',
    'show up too.',
    '',
    `- **Data:** ${data}`,
    `- **JIT:** ${jit.length === 0 ? 'used by none of these plans' : `used in ${[...new Set(jit)].join(', ')}`}`,
    '',
    ...plans.flatMap((request) => [
      `## ${request.label}`,
      '',
      ...request.statements.flatMap((statement, index) => [
        `${index + 1}. \`${oneLine(statement.sql).slice(0, 240)}${oneLine(statement.sql).length > 240 ? ' …' : ''}\``,
        '',
        '   ```',
        // Long parameter lists (the ids of a page) are cut: the plan's shape is what matters.
        ...statement.plan
          .split('\n')
          .map((line) => `   ${line.length > 200 ? `${line.slice(0, 200)} …` : line}`),
        '   ```',
        '',
      ]),
    ]),
  ].join('\n');
}

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('bench:large runs on PostgreSQL: set DATABASE_URL');
  const dialogs = whole('BENCH_LARGE_DIALOGS', 100_000);
  const url = new URL(base);
  url.pathname = `/openlines_large_${randomBytes(6).toString('hex')}`;
  const databaseUrl = url.toString();
  await ensurePostgresDatabase(databaseUrl);
  const server = await startServerThread({
    app: 'openlines',
    databaseUrl,
    redisUrl: process.env.REDIS_URL || null,
  });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    if (!server.firstRun) throw new Error('no first-run account');
    const world = await setUp(server.url, server.firstRun);
    process.stdout.write('small account…\n');
    const small = await measure(world, 'small');
    process.stdout.write(`seeding ${dialogs} dialogs…\n`);
    const seedStarted = performance.now();
    await seed(db, world, dialogs);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const counts: Record<string, number> = {};
    for (const table of ['dialogs', 'sessions', 'messages', 'session_transitions']) {
      counts[table] = Number((await db.query(`select count(*) from ${table}`)).rows[0].count);
    }
    process.stdout.write(`  ${JSON.stringify(counts)} in ${seedSeconds.toFixed(0)} s\nlarge account…\n`);
    const large = await measure(world, 'large');
    process.stdout.write('plans…\n');
    const plans: RequestPlans[] = [];
    const firstPage = await world.admin.list({ view: 'all', limit: 50 });
    plans.push(
      await plansOf(server, db, 'follow-up message', () =>
        world.sender.send({
          externalId: 'plans-held-1',
          user: { id: 'large-held', name: 'Held client' },
          text: 'One more',
        }),
      ),
      await plansOf(server, db, 'first message of a new client', () =>
        world.sender.send({ externalId: 'plans-new', user: { id: 'plans-new', name: 'New' }, text: 'Hi' }),
      ),
    );
    for (const view of ['all', 'mine', 'queue'] as const) {
      plans.push(
        await plansOf(server, db, `admin's list, ${view}`, () => world.admin.list({ view, limit: 50 })),
      );
      plans.push(
        await plansOf(server, db, `operator's list, ${view}`, () => world.operator.list({ view, limit: 50 })),
      );
    }
    if (firstPage.nextCursor) {
      const cursor = firstPage.nextCursor;
      plans.push(
        await plansOf(server, db, "admin's list, all, second page", () =>
          world.admin.list({ view: 'all', limit: 50, cursor }),
        ),
      );
    }
    plans.push(
      await plansOf(server, db, "a dialog's history (newest 100 messages)", () =>
        world.admin.messages(firstPage.items[0]!.id, { limit: 100 }),
      ),
    );
    for (const [label, search] of SEARCHES) {
      plans.push(
        await plansOf(server, db, `admin's search, ${label}`, () =>
          world.admin.list({ view: 'all', search }),
        ),
        await plansOf(server, db, `operator's search, ${label}`, () =>
          world.operator.list({ view: 'all', search }),
        ),
      );
    }
    const month = lastDays(30);
    plans.push(
      await plansOf(server, db, 'statistics summary, 30 days', () => world.stats.summary(month)),
      await plansOf(server, db, 'statistics live board', () => world.stats.live()),
    );
    const rows = large.map((l) => {
      const s = small.find((t) => t.label === l.label) ?? { p50: Number.NaN, p95: Number.NaN };
      const cell = (value: number) => (Number.isNaN(value) ? '— (one page only)' : value.toFixed(1));
      return `| ${l.label} | ${cell(s.p50)} | ${cell(s.p95)} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${Number.isNaN(s.p50) ? '—' : `${(l.p50 / s.p50).toFixed(2)}×`} |`;
    });
    const machine = describeMachine();
    const dataLine = `${Object.entries(counts)
      .map(([table, count]) => `${count.toLocaleString('en-US')} ${table}`)
      .join(', ')} (seeded in ${seedSeconds.toFixed(0)} s); ${OPERATORS} operators`;
    const section = [
      '<!-- bench:large -->',
      '## A large account (PostgreSQL)',
      '',
      'The everyday requests on a small account, then again once it holds a year of history, written',
      'straight into the tables (every dialog a closed session of ten messages, a third a second one,',
      'the newest 1 % held by an operator and 0.2 % queued). Run it with',
      '`DATABASE_URL=postgres://… npm run bench:large`; `BENCH_LARGE_DIALOGS=1000000` seeds ten times more.',
      '',
      `- **Date:** ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
      `- **Machine:** ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM; Node ${machine.node}`,
      `- **Data:** ${dataLine}; each figure over ${REPEAT} sequential requests (statistics: ${Math.max(3, Math.floor(REPEAT / 6))}, the first one once)`,
      '',
      '| Request | small p50 ms | small p95 ms | large p50 ms | large p95 ms | large / small (p50) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      'The plans of every statement these requests send, on the large account: [plans-large-account.md](plans-large-account.md).',
      '<!-- bench:large:end -->',
    ].join('\n');
    process.stdout.write(`\n${section}\n`);
    if (process.env.BENCH_WRITE !== '0') {
      const doc = await fs.readFile(DOCS_FILE, 'utf8');
      const pattern = /<!-- bench:large -->[\s\S]*?<!-- bench:large:end -->/;
      await fs.writeFile(
        DOCS_FILE,
        pattern.test(doc) ? doc.replace(pattern, section) : `${doc.trimEnd()}\n\n${section}\n`,
      );
      await fs.writeFile(PLANS_FILE, `${plansDocument(plans, dataLine)}\n`);
    }
  } finally {
    await db.end();
    await server.stop();
    // BENCH_LARGE_KEEP=1 leaves the database for looking at plans by hand.
    if (process.env.BENCH_LARGE_KEEP === '1') process.stdout.write(`kept ${databaseUrl}\n`);
    else await dropPostgresDatabase(databaseUrl).catch(() => {});
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:large failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
