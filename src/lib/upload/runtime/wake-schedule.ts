// When an open page should next ask for a drain, from the drain reports it
// hears (its own in page mode, the service worker's on the upload channel).
// Background Sync alone is not enough: Chrome stops re-firing a sync that
// keeps failing after a few tries, so items waiting for a retry would sit
// until a reload. Each report lists the whole queue's waiting items (the
// engine computes `nextWakeAt` from the stored queue at the end of a drain),
// so the latest report replaces what the earlier ones said. No I/O: the
// clock and the timer functions are passed in.
import type { ChannelMessage } from '../core/events';

/** Floor for a wake that is already due: a report naming a past time must not start a busy loop of drains. */
export const MIN_WAKE_DELAY_MS = 1_000;

export interface WakePlan {
  /** The retry time the wake is for (ms since epoch). */
  at: number;
  /** How long from `now` to wait. */
  delayMs: number;
}

/** The wake for a report's `nextWakeAt`, or null when nothing is waiting. */
export function planWake(nextWakeAt: number | null, now: number, minDelayMs = MIN_WAKE_DELAY_MS): WakePlan | null {
  if (nextWakeAt === null || !Number.isFinite(nextWakeAt)) return null;
  return { at: nextWakeAt, delayMs: Math.max(minDelayMs, nextWakeAt - now) };
}

export interface WakeTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const globalTimers: WakeTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The page's one wake timer. `report` coalesces: the same wake time keeps the
 * pending timer, a different one replaces it, null clears it; there is never
 * more than one pending.
 */
export class WakeSchedule {
  private pending: { at: number; handle: unknown } | null = null;

  constructor(
    private readonly wake: () => void,
    private readonly timers: WakeTimers = globalTimers,
    private readonly minDelayMs = MIN_WAKE_DELAY_MS,
  ) {}

  /** A drain report's `nextWakeAt` arrived. */
  report(nextWakeAt: number | null): void {
    const plan = planWake(nextWakeAt, this.timers.now(), this.minDelayMs);
    if (plan && this.pending?.at === plan.at) return;
    this.cancel();
    if (!plan) return;
    const handle = this.timers.setTimeout(() => {
      this.pending = null;
      this.wake();
    }, plan.delayMs);
    this.pending = { at: plan.at, handle };
  }

  /** The wake time of the pending timer, if any. */
  get pendingAt(): number | null {
    return this.pending?.at ?? null;
  }

  cancel(): void {
    if (this.pending) this.timers.clearTimeout(this.pending.handle);
    this.pending = null;
  }
}

/** Listener for the upload channel: every drain report, from any context, reschedules the wake. */
export function wakeOnDrained(schedule: WakeSchedule): (msg: ChannelMessage) => void {
  return (msg) => {
    if (msg.type === 'drained') schedule.report(msg.report.nextWakeAt);
  };
}
