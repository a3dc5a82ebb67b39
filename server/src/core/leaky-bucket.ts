/**
 * A leaky bucket per key (Bitrix24's request-rate limit, docs/bitrix24-compat.md): each request
 * pours one drop in; the bucket drains `drainPerSecond` drops a second; a request that would make it
 * overflow `capacity` is refused and pours nothing. Pure: time comes in as milliseconds.
 */
export interface LeakyBucketLimits {
  capacity: number;
  drainPerSecond: number;
}

export interface BucketState {
  level: number;
  atMs: number;
}

export interface BucketDecision {
  allowed: boolean;
  state: BucketState;
  /** When refused: milliseconds until one drop has drained. */
  retryAfterMs: number;
}

export function pour(
  state: BucketState | undefined,
  nowMs: number,
  limits: LeakyBucketLimits,
): BucketDecision {
  const elapsed = state ? Math.max(0, nowMs - state.atMs) : 0;
  const drained = state ? Math.max(0, state.level - (elapsed / 1000) * limits.drainPerSecond) : 0;
  if (drained + 1 > limits.capacity) {
    const retryAfterMs = Math.ceil(((drained + 1 - limits.capacity) / limits.drainPerSecond) * 1000);
    return { allowed: false, state: { level: drained, atMs: nowMs }, retryAfterMs };
  }
  return { allowed: true, state: { level: drained + 1, atMs: nowMs }, retryAfterMs: 0 };
}

/** Buckets by key, forgetting the ones that have drained empty so the map does not grow forever. */
export class LeakyBuckets {
  readonly #buckets = new Map<string, BucketState>();

  constructor(readonly limits: LeakyBucketLimits) {}

  take(key: string, nowMs: number): BucketDecision {
    const decision = pour(this.#buckets.get(key), nowMs, this.limits);
    this.#buckets.set(key, decision.state);
    if (this.#buckets.size > 10_000) this.#sweep(nowMs);
    return decision;
  }

  #sweep(nowMs: number): void {
    for (const [key, state] of this.#buckets) {
      if (state.level - ((nowMs - state.atMs) / 1000) * this.limits.drainPerSecond <= 0)
        this.#buckets.delete(key);
    }
  }
}
