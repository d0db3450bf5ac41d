// Retry schedule for the upload queue. Pure: the caller passes the clock and
// the random source, so tests pin every branch.

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetries: number;
}

/**
 * Delay before retry number `retryCount` (1 = first retry): exponential,
 * capped, with "equal jitter" (half fixed, half random) so a burst of failures
 * does not retry in lockstep.
 */
export function backoffDelayMs(retryCount: number, policy: BackoffPolicy, random: () => number): number {
  if (!Number.isInteger(retryCount) || retryCount < 1) throw new RangeError('retryCount must be an integer >= 1');
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retryCount - 1, 52));
  const half = exp / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}

export type FailurePlan =
  | { kind: 'retry'; retryCount: number; nextRetryAt: Date }
  | { kind: 'exhausted'; retryCount: number };

/** What happens to a queue item whose attempt just failed. */
export function planAfterFailure(
  previousRetryCount: number,
  maxRetries: number,
  now: Date,
  policy: Omit<BackoffPolicy, 'maxRetries'>,
  random: () => number,
): FailurePlan {
  const retryCount = previousRetryCount + 1;
  if (retryCount >= maxRetries) return { kind: 'exhausted', retryCount };
  // Enqueueing scheduled retry 1; after `retryCount` failed retries comes retry retryCount + 1.
  const delay = backoffDelayMs(retryCount + 1, { ...policy, maxRetries }, random);
  return { kind: 'retry', retryCount, nextRetryAt: new Date(now.getTime() + delay) };
}
