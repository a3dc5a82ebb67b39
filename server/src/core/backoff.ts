/**
 * Retry delays for outbound delivery (ARCHITECTURE: "exponential backoff with jitter, and respect
 * for a channel's retry_after"). Pure: the random source is passed in, so tests pin it.
 *
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): the delay is uniform in
 * [0, min(cap, base · 2^(attempt − 1))). Spreading retries over the whole window keeps many
 * senders that failed together (a receiver restart) from retrying together.
 */
export interface BackoffPolicy {
  /** The window of the first retry. */
  baseMs: number;
  /** No window grows beyond this. */
  capMs: number;
  /** A channel's Retry-After is honoured up to this; a longer one is treated as this. */
  maxRetryAfterMs: number;
}

export const OUTBOX_BACKOFF: BackoffPolicy = {
  baseMs: 2_000,
  capMs: 60 * 60 * 1000,
  maxRetryAfterMs: 24 * 60 * 60 * 1000,
};

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** The window after the given failed attempt (1 = the first attempt failed). */
export function backoffWindowMs(attempt: number, policy: BackoffPolicy = OUTBOX_BACKOFF): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after it passed the cap, so min() still gives the cap.
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/** The full-jitter delay after a failed attempt. */
export function backoffDelayMs(
  attempt: number,
  random: RandomSource,
  policy: BackoffPolicy = OUTBOX_BACKOFF,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffWindowMs(attempt, policy));
}

/**
 * How long to wait before the next attempt: the jittered backoff, or the channel's own
 * Retry-After when that is longer (bounded by policy.maxRetryAfterMs).
 */
export function retryDelayMs(
  attempt: number,
  random: RandomSource,
  retryAfterMs?: number | null,
  policy: BackoffPolicy = OUTBOX_BACKOFF,
): number {
  const backoff = backoffDelayMs(attempt, random, policy);
  if (retryAfterMs === undefined || retryAfterMs === null || !Number.isFinite(retryAfterMs)) return backoff;
  return Math.max(backoff, Math.min(Math.max(0, Math.ceil(retryAfterMs)), policy.maxRetryAfterMs));
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
