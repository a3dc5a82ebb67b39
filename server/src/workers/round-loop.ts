/**
 * The loop a polling worker runs: one round at a time (a round asked for while one runs waits for
 * it), the next one after the delay the last round's report asks for, at once when woken — and a
 * wake during a round makes the next round start right after it.
 */
export class RoundLoop<Report> {
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #again = false;
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

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    this.#running = true;
    this.#again = false;
    let report: Report | null = null;
    try {
      report = await this.runOnce();
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.#running = false;
    }
    this.#schedule(this.#again ? 0 : this.options.delayAfter(report));
  }
}
