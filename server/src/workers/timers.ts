import { isOpen } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import {
  autoCloseFired,
  kpiTargetMissed,
  noAnswerFired,
  ratingRequestFired,
} from '../services/automation/timers';
import { botTimeoutFired } from '../services/bot-sessions';
import { eraseSessionHistory } from '../services/erasure';
import { dispatcherOf } from '../services/event-dispatch';
import { lockLines } from '../services/locks';
import { sweepStaleConnections } from '../services/presence';
import { redelegateLine, routeSession } from '../services/routing';
import { applySessionAction, lockSession, SYSTEM } from '../services/sessions';
import type { TimerKind } from '../services/timers';
import { runInTransaction, type UnitOfWork } from '../services/transaction';
import type { SessionRow } from '../store/schema';
import { idleDelayMs, RoundLoop } from './round-loop';

type TimerHandler = (
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  payload: Record<string, unknown>,
  dueAt: Date,
) => Promise<void>;

/**
 * What each durable timer does when it fires. A handler re-reads the session under the locks and
 * does nothing if the state moved on (ARCHITECTURE: durable timers).
 */
const HANDLERS: Record<TimerKind, TimerHandler> = {
  // the assigned operator did not answer within QUEUE_TIME; the session passes to the next.
  queue_timeout: async (ctx, uow, session, payload) => {
    if (session.status !== 'assigned' || session.operator_id !== payload.operatorId || session.pinned) return;
    const queued = await applySessionAction(
      ctx,
      uow,
      session,
      { type: 'queue_timeout' },
      SYSTEM,
      'queue_timeout',
    );
    await routeSession(ctx, uow, queued);
    await redelegateLine(ctx, uow, session.account_id, session.line_id);
  },
  no_answer: (ctx, uow, session) => noAnswerFired(ctx, uow, session),
  auto_close: (ctx, uow, session) => autoCloseFired(ctx, uow, session),
  rating_request: (ctx, uow, session) => ratingRequestFired(ctx, uow, session),
  kpi_first_answer: (ctx, uow, session, _payload, dueAt) =>
    kpiTargetMissed(ctx, uow, session, 'first_answer', dueAt),
  kpi_further_answer: (ctx, uow, session, _payload, dueAt) =>
    kpiTargetMissed(ctx, uow, session, 'further_answer', dueAt),
  // The session was closed with history saving off and is final now: what came after the close
  // (a delayed rating request, a late reply) goes too. The decision was taken at the close.
  history_erasure: async (ctx, uow, session) => {
    if (isOpen(session.status)) return;
    await eraseSessionHistory(ctx, uow, session.account_id, [session.id]);
  },
  bot_timeout: (ctx, uow, session, payload) => botTimeoutFired(ctx, uow, session, payload),
};

const BATCH = 50;

/** What a timer round did, and when the next timer it saw is due (null: none pending). */
export interface TimerRoundReport {
  fired: number;
  nextDueAt: Date | null;
}

/**
 * Fires due timers in every process: a timer row is claimed with FOR UPDATE SKIP LOCKED inside the
 * transaction that handles it and deleted there, so it fires once across processes and survives
 * restarts (a crash rolls the claim back). Timers of an inactive line's sessions are held until it is
 * switched on again (LN-4). Also sweeps the queues now and then, so waiting sessions
 * reach operators whose absence ended or whose status changed without an event on this process.
 *
 * Idle, it costs next to nothing: a round reads the timers in due order, so it also learns when the
 * next one is due and sleeps until then (at most WORKER_IDLE_MS); a committed change of a session
 * or a message in any process (which may have armed a timer) nudges it to look again within
 * WORKER_POLL_MS, and a burst of them shares one round.
 */
export class TimerWorker {
  readonly #loop: RoundLoop<TimerRoundReport>;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AppContext,
    private readonly sweepEvery = 10,
  ) {
    const bounds = { pollMs: ctx.config.workerPollMs, idleMs: ctx.config.workerIdleMs };
    this.#loop = new RoundLoop({
      round: () => this.#round(),
      delayAfter: (report) =>
        report === null ? bounds.pollMs : idleDelayMs(report.nextDueAt, this.ctx.clock.now(), bounds),
      onError: (error) => this.ctx.log.error({ err: error }, 'timer worker failed'),
    });
  }

  start(): void {
    if (!this.#loop.start()) return;
    const pollMs = this.ctx.config.workerPollMs;
    this.#unsubscribe = dispatcherOf(this.ctx).on('workNudge', () => this.#loop.nudge(pollMs));
    this.#scheduleSweep();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = null;
    await this.#loop.stop();
    await this.#sweeping;
  }

  #scheduleSweep(): void {
    if (this.#loop.stopped) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweeping = this.sweepQueues()
        .catch((error) => this.ctx.log.error({ err: error }, 'queue sweep failed'))
        .finally(() => {
          this.#sweeping = null;
          this.#scheduleSweep();
        });
    }, this.ctx.config.workerPollMs * this.sweepEvery);
    this.#sweepTimer.unref();
  }

  /** Fires every timer due now; returns how many fired. Rounds never overlap. */
  async runOnce(): Promise<number> {
    return (await this.#loop.runOnce()).fired;
  }

  async #round(): Promise<TimerRoundReport> {
    let fired = 0;
    for (;;) {
      const now = this.ctx.clock.now();
      // LN-4: timers of sessions on an inactive line are held: not claimed, so they stay due and
      // fire once the line is active again. Read in due order past `now`: the first one not due
      // yet says how long the worker may sleep.
      const next = await this.ctx.store.db
        .selectFrom('timers')
        .innerJoin('sessions', 'sessions.id', 'timers.session_id')
        .innerJoin('lines', 'lines.id', 'sessions.line_id')
        .select(['timers.id', 'sessions.line_id', 'timers.due_at'])
        .where('lines.active', '=', true)
        .orderBy('timers.due_at')
        .limit(BATCH)
        .execute();
      const due = next.filter((timer) => timer.due_at.getTime() <= now.getTime());
      let progressed = 0;
      for (const { id, line_id } of due) if (await this.#fire(id, line_id)) progressed += 1;
      fired += progressed;
      // A whole batch was due: more may be.
      if (due.length === BATCH && progressed > 0) continue;
      // A due timer not fired (claimed by another process, its session moved to another line) is
      // looked at again after WORKER_POLL_MS.
      if (progressed < due.length) return { fired, nextDueAt: now };
      const upcoming = next.find((timer) => timer.due_at.getTime() > now.getTime());
      if (upcoming) return { fired, nextDueAt: upcoming.due_at };
      if (next.length < BATCH) return { fired, nextDueAt: null };
    }
  }

  async #fire(timerId: number, lineId: string): Promise<boolean> {
    return runInTransaction(this.ctx, async (uow) => {
      await lockLines(uow.tx, [lineId]);
      const timer = await uow.tx
        .selectFrom('timers')
        .selectAll()
        .where('id', '=', timerId)
        .where('due_at', '<=', this.ctx.clock.now())
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!timer?.session_id) return false;
      const session = await lockSession(uow.tx, timer.account_id, timer.session_id);
      // Checked again under the line's lock, which switching the line on or off also takes: a line
      // switched off since the timer was picked holds it (LN-4), and a session moved to another
      // line is left for the next round, which takes that line's lock.
      if (session.line_id !== lineId) return false;
      const line = await uow.tx
        .selectFrom('lines')
        .select('active')
        .where('id', '=', lineId)
        .executeTakeFirst();
      if (!line?.active) return false;
      await uow.tx.deleteFrom('timers').where('id', '=', timer.id).execute();
      const handler = HANDLERS[timer.kind as TimerKind];
      if (!handler) {
        this.ctx.log.warn({ kind: timer.kind }, 'timer of unknown kind dropped');
        return true;
      }
      try {
        await handler(this.ctx, uow, session, timer.payload, timer.due_at);
      } catch (error) {
        // A state that no longer allows the action means the timer is stale: it is simply dropped.
        if (!(error instanceof AppError && error.code === 'invalid_state')) throw error;
      }
      return true;
    });
  }

  /** Routes waiting sessions of every active line that has some (Q-6 safety net). */
  async sweepQueues(): Promise<void> {
    await sweepStaleConnections(this.ctx);
    const lines = await this.ctx.store.db
      .selectFrom('sessions')
      .innerJoin('lines', 'lines.id', 'sessions.line_id')
      .select(['lines.id', 'lines.account_id'])
      .distinct()
      .where('lines.active', '=', true)
      .where('sessions.status', 'in', ['queued', 'new'])
      .execute();
    for (const line of lines) {
      await runInTransaction(this.ctx, async (uow) => {
        await lockLines(uow.tx, [line.id]);
        await redelegateLine(this.ctx, uow, line.account_id, line.id);
      });
    }
  }
}
