import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../server/src/store/database';
import { runBaseline } from './baseline';
import { runOpenlines } from './openlines';
import { type DatabaseKind, describeMachine, formatConsole, type RunReport, updateDocs } from './report';
import { runRoutingScenario } from './routing-scenario';

// `npm run bench`: Openlines' message pipeline against a bare Fastify + INSERT baseline, measured in
// the same run on the same kind of database; prints the numbers and writes docs/benchmarks.md.

const DOCS_FILE = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
/** The whole run stops by itself even if something hangs. */
const HARD_LIMIT_MS = 20 * 60_000;

function whole(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new Error(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function wholeList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw.trim() === '0') return [];
  const values = raw.split(',').map((part) => part.trim());
  if (values.some((value) => !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000)) {
    throw new Error(
      `${name} must be whole numbers between 1 and 10000 separated by commas (or 0), got "${raw}"`,
    );
  }
  return values.map(Number);
}

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no'].includes(raw);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A database of its own on the PostgreSQL named by DATABASE_URL, dropped at the end. */
function isolatedDatabaseUrl(base: string): string {
  const url = new URL(base);
  url.pathname = `/openlines_bench_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version.split(' ')[0] ?? '?';
  } finally {
    await client.end();
  }
}

async function redisVersion(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  } finally {
    redis.disconnect();
  }
}

async function pgliteVersion(): Promise<string> {
  try {
    const file = new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url);
    return (JSON.parse(await fs.readFile(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const messages = whole('BENCH_MESSAGES', 2000, 1, 1_000_000);
  const concurrency = whole('BENCH_CONCURRENCY', 20, 1, 1000);
  const clients = whole('BENCH_CLIENTS', 200, 1, 1_000_000);
  const operators = whole('BENCH_OPERATORS', 10, 1, 500);
  const maxSeconds = whole('BENCH_MAX_SECONDS', 60, 1, 3600);
  const write = flag('BENCH_WRITE', true);
  const fixedRates = wholeList('BENCH_RATES', [100, 300]);
  const rateSeconds = whole('BENCH_RATE_SECONDS', 30, 1, 600);
  const kindSamples = whole('BENCH_KIND_SAMPLES', 50, 1, 10_000);
  const routing = flag('BENCH_ROUTING', true);
  const routingQueued = whole('BENCH_ROUTING_QUEUED', 2000, 1, 100_000);
  const routingOperators = whole('BENCH_ROUTING_OPERATORS', 100, 1, 1000);
  // The engine issue asks for limit 5, the scale issue for limit 20: both by default.
  const routingLimits = wholeList('BENCH_ROUTING_LIMITS', [5, 20]);
  const warmUp = Math.min(200, Math.max(20, Math.round(messages / 10)));
  const baseUrl = process.env.DATABASE_URL || null;
  const redisUrl = process.env.REDIS_URL || null;
  const kind: DatabaseKind = baseUrl ? 'postgres' : 'pglite';

  const databaseUrl = baseUrl ? isolatedDatabaseUrl(baseUrl) : null;
  const routingDatabaseUrls = routingLimits.map(() =>
    baseUrl && routing ? isolatedDatabaseUrl(baseUrl) : null,
  );
  let database: string;
  if (databaseUrl) {
    await ensurePostgresDatabase(databaseUrl);
    const bus = redisUrl ? `Redis ${await redisVersion(redisUrl)} bus` : 'in-process bus (REDIS_URL not set)';
    database = `PostgreSQL ${await postgresVersion(databaseUrl)} on ${new URL(databaseUrl).host} (a fresh database), ${bus}`;
  } else {
    database = `PGlite ${await pgliteVersion()}, in memory, in the server thread; in-process bus`;
  }
  log(`Openlines bench: ${database}`);
  log(
    `${messages} messages (or ${maxSeconds} s) from ${clients} clients, ${concurrency} in flight, ${operators} operators`,
  );

  try {
    const baseline = async (label: string) => {
      log(`Baseline (Fastify + one INSERT), ${label}…`);
      const result = await runBaseline({
        databaseUrl,
        messages,
        concurrency,
        clients,
        warmUpMessages: warmUp,
        maxMs: maxSeconds * 1000,
        label,
      });
      log(`  ${result.throughput.toFixed(0)} msgs/s in ${(result.elapsedMs / 1000).toFixed(1)} s`);
      return result;
    };
    // The baseline brackets the Openlines run: a machine whose load drifts shows up as a spread.
    const before = await baseline('before');
    log('Openlines (API channel → stored → routed → operator WebSocket)…');
    const openlines = await runOpenlines({
      databaseUrl,
      redisUrl,
      messages,
      concurrency,
      clients,
      operators,
      warmUpMessages: warmUp,
      maxMs: maxSeconds * 1000,
      deliveryTimeoutMs: 30_000,
      rates: fixedRates,
      rateSeconds,
      kindSamples,
      log,
    });
    log(
      `  ${openlines.phase.throughput.toFixed(0)} msgs/s in ${(openlines.phase.elapsedMs / 1000).toFixed(1)} s`,
    );
    const after = await baseline('after');
    const routingResults = [];
    for (const [index, limit] of (routing ? routingLimits : []).entries()) {
      log(`Routing scenario, limit ${limit} (a queue waits, then a shift connects at once)…`);
      const routingDatabaseUrl = routingDatabaseUrls[index] ?? null;
      if (routingDatabaseUrl) await ensurePostgresDatabase(routingDatabaseUrl);
      routingResults.push(
        await runRoutingScenario({
          databaseUrl: routingDatabaseUrl,
          redisUrl,
          queued: routingQueued,
          operators: routingOperators,
          limit,
          log,
        }),
      );
      for (const url of routingDatabaseUrls) if (url) await dropPostgresDatabase(url).catch(() => {});
    }
    const report: RunReport = {
      kind,
      database,
      date: new Date(),
      machine: describeMachine(),
      parameters: { messages, concurrency, clients, operators, warmUp, maxSeconds, kindSamples },
      baselines: [before, after],
      openlines,
      routing: routingResults,
      durationMs: performance.now() - started,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? 0 },
    };
    log('');
    log(formatConsole(report));
    if (write) {
      await updateDocs(DOCS_FILE, report);
      log(`\nResults written to docs/benchmarks.md (section "${kind}").`);
    }
    const failedAtRate = openlines.fixedRate.some((phase) => phase.failed > 0);
    const routingWrong = routingResults.some(
      (r) => r.overLimitOperators > 0 || r.doubleAssignedSessions > 0 || r.inconsistentSessions > 0,
    );
    if (before.failed > 0 || after.failed > 0 || openlines.phase.failed > 0 || failedAtRate || routingWrong)
      process.exitCode = 1;
  } finally {
    if (databaseUrl) await dropPostgresDatabase(databaseUrl).catch(() => {});
    for (const url of routingDatabaseUrls) if (url) await dropPostgresDatabase(url).catch(() => {});
  }
}

setTimeout(() => {
  process.stderr.write(`bench: still running after ${HARD_LIMIT_MS / 60_000} minutes; stopping\n`);
  process.exit(2);
}, HARD_LIMIT_MS).unref();

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
