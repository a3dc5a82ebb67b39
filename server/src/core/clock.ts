/**
 * Time is injected (ARCHITECTURE property 5): domain code and services take a Clock so that
 * queue timeouts, working hours and KPIs are tested with a fake clock in milliseconds of test time.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock for tests: time moves only when the test says so. */
export class FakeClock implements Clock {
  #ms: number;

  constructor(start: Date | string | number = '2026-01-05T09:00:00Z') {
    this.#ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  advance(ms: number): Date {
    this.#ms += ms;
    return this.now();
  }

  set(to: Date | string | number): void {
    this.#ms = new Date(to).getTime();
  }
}
