import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { claimRoundDelayMs, idleDelayMs, RoundLoop } from './round-loop';

/** Resolves once `check` holds (the loop runs on timers of its own). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await pause(5);
  expect(check()).toBe(true);
}

/** Real time, or the fake clock's when a test runs on fake timers. */
async function pause(ms: number): Promise<void> {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

describe('RoundLoop', () => {
  it('runs a round at start, then as often as the report asks, and never two at once', async () => {
    let rounds = 0;
    let inRound = 0;
    let overlapped = false;
    const loop = new RoundLoop({
      round: async () => {
        inRound++;
        overlapped ||= inRound > 1;
        await new Promise((resolve) => setTimeout(resolve, 1));
        inRound--;
        return ++rounds;
      },
      // Three rounds back to back, then a delay longer than the test.
      delayAfter: (report) => (report !== null && report < 3 ? 0 : 3_600_000),
      onError: () => {},
    });
    expect(loop.start()).toBe(true);
    expect(loop.start()).toBe(false);
    await Promise.all([loop.runOnce(), loop.runOnce()]);
    await until(() => rounds >= 3);
    await loop.stop();
    expect(overlapped).toBe(false);
  });

  it('a wake during a round starts the next one right after it; a failed round asks with null', async () => {
    let release: () => void = () => {};
    let rounds = 0;
    const reports: (number | null)[] = [];
    const loop = new RoundLoop({
      round: async () => {
        rounds++;
        if (rounds === 1) await new Promise<void>((resolve) => (release = resolve));
        if (rounds === 2) throw new Error('a failed round');
        return rounds;
      },
      delayAfter: (report) => {
        reports.push(report);
        return 3_600_000;
      },
      onError: () => {},
    });
    loop.start();
    await until(() => rounds === 1);
    loop.wake();
    release();
    await until(() => rounds === 2);
    await until(() => reports.length === 1);
    // The first round's report was not asked: the wake came first. The failed one reports null.
    expect(reports).toEqual([null]);
    loop.wake();
    await until(() => rounds === 3);
    await until(() => reports.length === 2);
    expect(reports).toEqual([null, 3]);
    await loop.stop();
    expect(loop.stopped).toBe(true);
  });
});

describe('RoundLoop nudges', () => {
  // Fake timers: what is checked is which sleep the loop picks, not how a busy machine keeps time.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a burst of nudges shares one round, brought forward from a long sleep', async () => {
    let rounds = 0;
    const loop = new RoundLoop({
      round: async () => ++rounds,
      delayAfter: () => 3_600_000,
      onError: () => {},
    });
    loop.start();
    await until(() => rounds === 1);
    for (let i = 0; i < 50; i++) loop.nudge(20);
    await until(() => rounds === 2);
    // The burst was one round; nothing else is due for an hour.
    await pause(60);
    expect(rounds).toBe(2);
    await loop.stop();
  });

  it('a nudge during a round bounds the sleep after it; it never delays a sooner round', async () => {
    let release: () => void = () => {};
    let rounds = 0;
    const loop = new RoundLoop({
      round: async () => {
        rounds++;
        if (rounds === 1) await new Promise<void>((resolve) => (release = resolve));
        return rounds;
      },
      delayAfter: (report) => (report === 2 ? 0 : 3_600_000),
      onError: () => {},
    });
    loop.start();
    await until(() => rounds === 1);
    loop.nudge(10);
    release();
    await until(() => rounds === 2);
    // Round 2 asked for 0: a nudge with a longer bound leaves it at 0.
    loop.nudge(3_000_000);
    await until(() => rounds === 3);
    await loop.stop();
  });
});

describe('idleDelayMs', () => {
  const now = new Date('2026-01-05T09:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  const bounds = { pollMs: 500, idleMs: 30_000 };
  it.each([
    { next: null, delay: 30_000, why: 'nothing pending: the fallback' },
    { next: at(2_000), delay: 2_000, why: 'until the next row is due' },
    { next: at(120_000), delay: 30_000, why: 'never beyond the fallback' },
    { next: at(10), delay: 500, why: 'never below the poll interval' },
    { next: at(-5_000), delay: 500, why: 'a due row it could not take does not make it spin' },
  ])('$why', ({ next, delay }) => {
    expect(idleDelayMs(next, now, bounds)).toBe(delay);
  });
});

describe('claimRoundDelayMs', () => {
  const now = new Date('2026-01-05T09:00:00Z');
  const bounds = { pollMs: 500, idleMs: 30_000 };
  const soon = new Date(now.getTime() + 4_000);
  it.each([
    { claimed: 20, next: null, delay: 0, why: 'a full batch: more may be due' },
    { claimed: 3, next: null, delay: 500, why: 'work found: the poll interval' },
    { claimed: null, next: null, delay: 500, why: 'a failed round: the poll interval' },
    { claimed: 0, next: soon, delay: 4_000, why: 'idle: until the next row is due' },
    { claimed: 0, next: null, delay: 30_000, why: 'idle with nothing pending: the fallback' },
  ])('$why', ({ claimed, next, delay }) => {
    expect(claimRoundDelayMs(claimed, 20, next, now, bounds)).toBe(delay);
  });
});
