import { describe, expect, it } from 'vitest';
import { backoffDelayMs, backoffWindowMs, OUTBOX_BACKOFF, parseRetryAfter, retryDelayMs } from './backoff';

const H = 60 * 60 * 1000;

describe('backoff', () => {
  it.each([
    { attempt: 1, window: 2_000 },
    { attempt: 2, window: 4_000 },
    { attempt: 3, window: 8_000 },
    { attempt: 5, window: 32_000 },
    { attempt: 11, window: 2_048_000 },
    { attempt: 12, window: H },
    { attempt: 40, window: H },
    { attempt: 5000, window: H },
    { attempt: 0, window: 2_000 },
  ])('window after attempt $attempt is $window ms', ({ attempt, window }) => {
    expect(backoffWindowMs(attempt)).toBe(window);
  });

  it.each([
    { attempt: 1, random: 0, delay: 0 },
    { attempt: 1, random: 0.5, delay: 1_000 },
    { attempt: 1, random: 0.999_999, delay: 1_999 },
    { attempt: 3, random: 0.25, delay: 2_000 },
    { attempt: 20, random: 0.5, delay: H / 2 },
    { attempt: 20, random: 0.999_999_999, delay: H - 1 },
  ])('full jitter: attempt $attempt, random $random → $delay ms', ({ attempt, random, delay }) => {
    expect(backoffDelayMs(attempt, () => random)).toBe(delay);
  });

  it('stays inside [0, window) for any random source value, even a broken one', () => {
    for (const random of [-1, 0, 0.3, 0.9999, 1, 7]) {
      const delay = backoffDelayMs(4, () => random);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(backoffWindowMs(4));
    }
  });

  it.each([
    { name: 'no Retry-After', attempt: 2, random: 0.5, retryAfter: undefined, delay: 2_000 },
    { name: 'null Retry-After', attempt: 2, random: 0.5, retryAfter: null, delay: 2_000 },
    { name: 'Retry-After longer wins', attempt: 2, random: 0.5, retryAfter: 120_000, delay: 120_000 },
    { name: 'Retry-After shorter loses', attempt: 6, random: 0.5, retryAfter: 1_000, delay: 32_000 },
    { name: 'Retry-After 0', attempt: 1, random: 0.5, retryAfter: 0, delay: 1_000 },
    { name: 'Retry-After capped', attempt: 1, random: 0, retryAfter: 400 * H, delay: 24 * H },
    { name: 'Retry-After fractional rounds up', attempt: 1, random: 0, retryAfter: 1.2, delay: 2 },
    { name: 'negative Retry-After ignored', attempt: 1, random: 0.5, retryAfter: -5_000, delay: 1_000 },
  ])('$name', ({ attempt, random, retryAfter, delay }) => {
    expect(retryDelayMs(attempt, () => random, retryAfter)).toBe(delay);
  });

  it('uses the documented policy: base 2 s, cap 1 h', () => {
    expect(OUTBOX_BACKOFF.baseMs).toBe(2_000);
    expect(OUTBOX_BACKOFF.capMs).toBe(H);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-01-05T09:00:00Z');

  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 5 ', 5_000],
    ['Mon, 05 Jan 2026 09:01:00 GMT', 60_000],
    ['Mon, 05 Jan 2026 08:00:00 GMT', 0],
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['', undefined],
  ])('Retry-After %j → %s ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
