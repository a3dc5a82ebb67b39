import type { Database } from '../store/database';

/**
 * The loop a polling worker runs: one round at a time (a round asked for while one runs waits for
 * it), the next one after the delay the last round's report asks for, at once when woken — and a
 * wake during a round makes the next round start right after it. A nudge is a softer wake for
 * signals that come in bursts (every committed event): it brings the next round forward to within
 * a bound, so a burst shares one round instead of starting one each.
 */
export class RoundLoop<Report> {
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #again = false;
  /** When the scheduled round starts (Date.now() ms); null when none is scheduled. */
  #dueAt: number | null = null;
  /** A nudge during a round: the next round starts within this many ms after it. */
  #nudgedWithin: number | null = null;
  #stopped = true;

  constructor(
    private readonly options: {
      round: () => Promise<Report>;
      /** How long until the next round after one that reported this (null: it failed). */
      delayAfter: (report: Report | null) => number;
      onError: (error: unknown) => void;
    },
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Starts polling with a round now; false when it was running already. */
  start(): boolean {
    if (!this.#stopped) return false;
    this.#stopped = false;
    this.#schedule(0);
    return true;
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
  }

  /** One round now; rounds never overlap. */
  runOnce(): Promise<Report> {
    const round = this.#chain.then(() => this.options.round());
    this.#chain = round.catch(() => {});
    return round;
  }

  /** A round as soon as possible: now, or right after the one running. */
  wake(): void {
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** A round within `withinMs` at the latest: sooner stays sooner, a later one is brought forward. */
  nudge(withinMs: number): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#nudgedWithin = Math.min(this.#nudgedWithin ?? withinMs, withinMs);
      return;
    }
    if (this.#dueAt !== null && this.#dueAt <= Date.now() + withinMs) return;
    this.#schedule(withinMs);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#dueAt = Date.now() + delayMs;
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    this.#dueAt = null;
    if (this.#stopped) return;
    this.#running = true;
    this.#again = false;
    this.#nudgedWithin = null;
    let report: Report | null = null;
    try {
      report = await this.runOnce();
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.#running = false;
    }
    if (this.#again) return this.#schedule(0);
    const asked = this.options.delayAfter(report);
    this.#schedule(Math.min(asked, this.#nudgedWithin ?? asked));
  }
}

/**
 * How long an idle worker sleeps after a round that found nothing due now: until the next row it
 * knows of is due, but at least `pollMs` (that row may be one it cannot take, such as a timer of a
 * switched-off line, and must not make it spin) and at most `idleMs` (work created in another
 * process whose wake was lost on the bus is found by then).
 */
export function idleDelayMs(
  nextDueAt: Date | null,
  now: Date,
  bounds: { pollMs: number; idleMs: number },
): number {
  const untilDue = nextDueAt === null ? bounds.idleMs : nextDueAt.getTime() - now.getTime();
  return Math.min(bounds.idleMs, Math.max(bounds.pollMs, untilDue));
}

/**
 * The sleep after a round of a delivery queue (the outbox, bot deliveries) that claimed `claimed`
 * rows (null: the round failed): none after a full batch, since more may be due; the poll
 * interval while it finds work or after a failure; idle, until its next row is due.
 */
export function claimRoundDelayMs(
  claimed: number | null,
  batchSize: number,
  nextDueAt: Date | null,
  now: Date,
  bounds: { pollMs: number; idleMs: number },
): number {
  if (claimed !== null && claimed >= batchSize) return 0;
  if (claimed === null || claimed > 0) return bounds.pollMs;
  return idleDelayMs(nextDueAt, now, bounds);
}

/**
 * When the next pending row of a delivery queue is due (null: none pending): asked only after a
 * round that claimed nothing, so a busy worker never pays for it.
 */
export async function nextPendingAttempt(
  db: Database,
  table: 'outbox' | 'bot_deliveries',
): Promise<Date | null> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.min('next_attempt_at').as('next'))
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return row?.next ? new Date(row.next) : null;
}
