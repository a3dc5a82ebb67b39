import type { AppContext } from '../context';
import { migrationsApplied, ping, type QueryObserver } from '../store/database';

/** Tells `observer` of every query's duration (metrics); returns how to stop. */
export function observeQueries(ctx: AppContext, observer: QueryObserver): () => void {
  ctx.store.queryObservers.add(observer);
  return () => ctx.store.queryObservers.delete(observer);
}

/** PostgreSQL's pool counts for metrics; null on PGlite (one connection, no pool). */
export function poolStats(ctx: AppContext): { total: number; idle: number; waiting: number } | null {
  const pool = ctx.store.pool;
  return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : null;
}

export interface HealthCheck {
  status: 'ok' | 'failing' | 'not_configured';
  detail?: string;
  /** Timers and outbox: how long the oldest due piece of work has been waiting, in seconds. */
  lagSeconds?: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { database: HealthCheck; redis: HealthCheck; timers: HealthCheck; outbox: HealthCheck };
}

export interface WorkLag {
  /** Now minus the oldest due_at of a timer the workers could fire (its line is active); 0: none due. */
  timerSeconds: number;
  /** Now minus the oldest next_attempt_at of a pending outbound message; 0: none due. */
  outboxSeconds: number;
  /** Age of the oldest pending outbound message, retries in backoff included; 0: none. */
  outboxOldestPendingSeconds: number;
}

const secondsSince = (now: Date, at: Date | string | null) =>
  at === null ? 0 : Math.max(0, (now.getTime() - new Date(at).getTime()) / 1000);

/**
 * How far behind the durable work is, in one statement, across the installation: every process
 * claims timers and outbound messages, so a due row left waiting means the workers do not keep up
 * (or none runs). Timers held by an inactive line (LN-4) are not lag.
 */
export async function workLag(ctx: AppContext): Promise<WorkLag> {
  const now = ctx.clock.now();
  const row = await ctx.store.db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('timers')
        .innerJoin('sessions', 'sessions.id', 'timers.session_id')
        .innerJoin('lines', 'lines.id', 'sessions.line_id')
        .select((inner) => inner.fn.min('timers.due_at').as('at'))
        .where('timers.due_at', '<=', now)
        .where('lines.active', '=', true)
        .as('timer_due'),
      eb
        .selectFrom('outbox')
        .select((inner) => inner.fn.min('next_attempt_at').as('at'))
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .as('outbox_due'),
      eb
        .selectFrom('outbox')
        .select((inner) => inner.fn.min('created_at').as('at'))
        .where('state', '=', 'pending')
        .as('outbox_oldest'),
    ])
    .executeTakeFirstOrThrow();
  return {
    timerSeconds: secondsSince(now, row.timer_due),
    outboxSeconds: secondsSince(now, row.outbox_due),
    outboxOldestPendingSeconds: secondsSince(now, row.outbox_oldest),
  };
}

/**
 * Whether this process should get traffic, check by check, so a load balancer (and the person
 * reading /readyz) sees which part is sick: the database (reachable, every migration applied),
 * Redis when REDIS_URL is set, and the workers (the oldest due timer and outbound message waiting
 * less than READY_MAX_LAG_SECONDS).
 */
export async function readinessReport(ctx: AppContext): Promise<ReadinessReport> {
  const failing = (detail: string): HealthCheck => ({ status: 'failing', detail });
  const unknown = failing('Not checked: the database is not reachable');
  let database: HealthCheck = { status: 'ok' };
  let timers: HealthCheck = unknown;
  let outbox: HealthCheck = unknown;
  try {
    await ping(ctx.store.db);
    if (!(await migrationsApplied(ctx.store.db))) database = failing('Database migrations are not applied');
  } catch {
    database = failing('The database is not reachable');
  }
  if (database.status === 'ok') {
    try {
      const lag = await workLag(ctx);
      const max = ctx.config.readyMaxLagSeconds;
      const judge = (seconds: number, what: string): HealthCheck => {
        const lagSeconds = Math.round(seconds);
        return seconds > max
          ? {
              status: 'failing',
              lagSeconds,
              detail: `The oldest due ${what} has waited ${lagSeconds} s (over ${max} s)`,
            }
          : { status: 'ok', lagSeconds };
      };
      timers = judge(lag.timerSeconds, 'timer');
      outbox = judge(lag.outboxSeconds, 'outbound message');
    } catch {
      timers = outbox = failing('The work queues could not be read');
    }
  }
  const redis: HealthCheck = !ctx.config.redisUrl
    ? { status: 'not_configured' }
    : (await ctx.bus.reachable())
      ? { status: 'ok' }
      : failing('Redis is not reachable');
  const checks = { database, redis, timers, outbox };
  return { ready: Object.values(checks).every((c) => c.status !== 'failing'), checks };
}
