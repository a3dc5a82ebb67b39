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
import { lockLines } from '../services/locks';
import { sweepStaleConnections } from '../services/presence';
import { redelegateLine, routeSession } from '../services/routing';
import { applySessionAction, lockSession, SYSTEM } from '../services/sessions';
import type { TimerKind } from '../services/timers';
import { runInTransaction, type UnitOfWork } from '../services/transaction';
import type { SessionRow } from '../store/schema';

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

/**
 * Fires due timers in every process: a timer row is claimed with FOR UPDATE SKIP LOCKED inside the
 * transaction that handles it and deleted there, so it fires once across processes and survives
 * restarts (a crash rolls the claim back). Timers of an inactive line's sessions are held until it is
 * switched on again (LN-4). Also sweeps the queues now and then, so waiting sessions
 * reach operators whose absence ended or whose status changed without an event on this process.
 */
export class TimerWorker {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  #polls = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly sweepEvery = 10,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().finally(() => {
        this.#running = null;
        this.#schedule();
      });
    }, this.ctx.config.workerPollMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      await this.runOnce();
      this.#polls += 1;
      if (this.#polls % this.sweepEvery === 0) await this.sweepQueues();
    } catch (error) {
      this.ctx.log.error({ err: error }, 'timer worker failed');
    }
  }

  /** Fires every timer due now; returns how many fired. */
  async runOnce(): Promise<number> {
    let fired = 0;
    for (;;) {
      // LN-4: timers of sessions on an inactive line are held: not claimed, so they stay due and
      // fire once the line is active again.
      const due = await this.ctx.store.db
        .selectFrom('timers')
        .innerJoin('sessions', 'sessions.id', 'timers.session_id')
        .innerJoin('lines', 'lines.id', 'sessions.line_id')
        .select(['timers.id', 'sessions.line_id'])
        .where('timers.due_at', '<=', this.ctx.clock.now())
        .where('lines.active', '=', true)
        .orderBy('timers.due_at')
        .limit(BATCH)
        .execute();
      let progressed = 0;
      for (const { id, line_id } of due) if (await this.#fire(id, line_id)) progressed += 1;
      fired += progressed;
      if (due.length < BATCH || progressed === 0) return fired;
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
