// Exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): delay = random(0, min(cap, base * 2^attempt)).
// Full jitter spreads retries of many clients best. Pure: randomness injected.

export interface BackoffPolicy {
  /** Delay ceiling for the first retry, ms. */
  baseMs: number;
  /** Upper bound for any delay, ms. */
  capMs: number;
  /** Attempts after which an item stops retrying and fails. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000, maxAttempts: 12 };

/** Delay before retry number `attempt` (0 = first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // 2^attempt overflows to Infinity for huge attempts; min() keeps it at the cap.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Whether another attempt is allowed after `attempts` failed ones. */
export function canRetry(attempts: number, policy: BackoffPolicy = DEFAULT_BACKOFF): boolean {
  return attempts < policy.maxAttempts;
}
