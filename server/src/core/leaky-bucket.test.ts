import { describe, expect, it } from 'vitest';
import { LeakyBuckets, pour } from './leaky-bucket';

const limits = { capacity: 3, drainPerSecond: 2 };

describe('leaky bucket', () => {
  it('takes up to its capacity at once, then refuses until a drop drains', () => {
    const buckets = new LeakyBuckets(limits);
    expect([0, 0, 0, 0].map((t) => buckets.take('a', t).allowed)).toEqual([true, true, true, false]);
    expect(buckets.take('a', 0).retryAfterMs).toBe(500);
    // Half a second drains one drop at 2/s.
    expect(buckets.take('a', 499).allowed).toBe(false);
    expect(buckets.take('a', 500).allowed).toBe(true);
    expect(buckets.take('a', 500).allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    const buckets = new LeakyBuckets({ capacity: 1, drainPerSecond: 1 });
    expect(buckets.take('a', 0).allowed).toBe(true);
    expect(buckets.take('a', 0).allowed).toBe(false);
    expect(buckets.take('b', 0).allowed).toBe(true);
  });

  it.each([
    { level: 3, elapsedMs: 0, allowed: false },
    { level: 3, elapsedMs: 500, allowed: true },
    { level: 2.5, elapsedMs: 0, allowed: false },
    { level: 2, elapsedMs: 0, allowed: true },
    { level: 3, elapsedMs: 60_000, allowed: true },
  ])('level $level after $elapsedMs ms → allowed $allowed', ({ level, elapsedMs, allowed }) => {
    const decision = pour({ level, atMs: 1000 }, 1000 + elapsedMs, limits);
    expect(decision.allowed).toBe(allowed);
    if (allowed) expect(decision.state.level).toBeCloseTo(Math.max(0, level - elapsedMs / 500) + 1);
  });

  it('does not count a refused request', () => {
    const refused = pour({ level: 3, atMs: 0 }, 0, limits);
    expect(refused.state.level).toBe(3);
  });
});
