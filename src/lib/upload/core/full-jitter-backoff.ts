// Exponential backoff with full jitter: delay = random(0, min(cap, base * 2^attempt)).
// Full jitter spreads the retries of many clients best. Two users: the
// persisted per-item backoff (the engine's waiting-retry) and the in-run
// retries of one canister or server call below. Pure: randomness and sleep
// are injected.
import pRetry from 'p-retry';
import { CircuitOpenError } from './circuit-breaker';
import { classifyError } from './errors';

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

// In-run retries of one call, with p-retry. p-retry decides when to stop
// (attempt count, `shouldRetry`, abort signal); the delay between attempts is
// ours: p-retry 6 only offers `randomize` (a 1-2x multiplier), not full
// jitter, so its own timeouts are 0 and `onFailedAttempt` (which p-retry
// awaits before the next attempt) sleeps a full-jitter delay. These retries
// absorb short blips (a dropped connection, a 503) inside one drain; when they
// run out the item goes to `waiting-retry` with a persisted next-retry time.

export interface CallRetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_CALL_RETRY: CallRetryPolicy = { retries: 3, baseMs: 250, capMs: 4_000 };

export interface RetryEnv {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

/** Runs `fn`, retrying transient failures only; permanent and auth errors and an open circuit surface at once. */
export function retryTransient<T>(fn: () => Promise<T>, policy: CallRetryPolicy, env: RetryEnv, signal?: AbortSignal): Promise<T> {
  const jitter: BackoffPolicy = { baseMs: policy.baseMs, capMs: policy.capMs, maxAttempts: policy.retries + 1 };
  return pRetry(fn, {
    retries: policy.retries,
    minTimeout: 0,
    maxTimeout: 0,
    signal,
    // An open breaker already says "stop calling": waiting inside this call would only hold a file slot.
    shouldRetry: (err) => retryable(err),
    // p-retry 6 calls this even after shouldRetry said no and after the last
    // attempt; sleeping then would only hold a timer.
    onFailedAttempt: async (err) => {
      if (err.retriesLeft > 0 && retryable(err)) await env.sleep(backoffDelay(err.attemptNumber - 1, jitter, env.random), signal);
    },
  });
}

function retryable(err: unknown): boolean {
  return !(err instanceof CircuitOpenError) && classifyError(err).category === 'transient';
}
