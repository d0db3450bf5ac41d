// In-run retries of one canister or server call, with p-retry. p-retry decides
// when to stop (attempt count, `shouldRetry`, abort signal); the delay between
// attempts is ours: p-retry 6 only offers `randomize` (a 1-2x multiplier), not
// full jitter, so its own timeouts are set to 0 and `onFailedAttempt` (which
// p-retry awaits before the next attempt) sleeps a full-jitter delay.
//
// These retries absorb short blips (a dropped connection, a 503) inside one
// drain. When they run out the item itself goes to `waiting-retry` with a
// persisted next-retry time (see engine.ts), which survives a closed tab.
import pRetry from 'p-retry';
import { backoffDelay, type BackoffPolicy } from './backoff';
import { CircuitOpenError } from './circuit-breaker';
import { classifyError } from './errors';

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

/** setTimeout-based sleep that stops early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
