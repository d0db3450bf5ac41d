// Circuit breaker (closed → open → half-open) guarding the canister endpoint:
// after `failureThreshold` consecutive transient failures the engine stops
// calling for `openMs`, then lets one probe through. Pure: the clock is a parameter.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerPolicy {
  failureThreshold: number;
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerPolicy = { failureThreshold: 5, openMs: 30_000 };

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private probing = false;

  constructor(private readonly policy: BreakerPolicy = DEFAULT_BREAKER) {}

  state(now: number): BreakerState {
    if (this.openedAt === null) return 'closed';
    return now - this.openedAt >= this.policy.openMs ? 'half-open' : 'open';
  }

  /** May a call go out now? In half-open, only one probe at a time. */
  allow(now: number): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open') return false;
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** When calls may go out again (ms timestamp), or 0 if now. */
  retryAt(now: number): number {
    return this.state(now) === 'open' && this.openedAt !== null ? this.openedAt + this.policy.openMs : 0;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probing = false;
  }

  /** Record a transient failure; permanent errors say nothing about the endpoint's health. */
  failure(now: number): void {
    this.probing = false;
    this.failures += 1;
    if (this.openedAt !== null || this.failures >= this.policy.failureThreshold) this.openedAt = now;
  }
}

export class CircuitOpenError extends Error {
  constructor(readonly retryAt: number) {
    super(`Circuit open: the canister failed repeatedly; next attempt after ${new Date(retryAt).toISOString()}`);
    this.name = 'CircuitOpenError';
  }
}
