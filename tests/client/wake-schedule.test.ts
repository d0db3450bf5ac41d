// The page's wake timer for items waiting for a retry: one timer for the
// latest report's earliest retry, coalesced, cleared when nothing waits, and
// fed by drain reports from any context over the real BroadcastChannel.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DrainReport } from '../../src/lib/upload/runtime/engine';
import { UPLOAD_CHANNEL, type ChannelMessage } from '../../src/lib/upload/runtime/drainer';
import { MIN_WAKE_DELAY_MS, planWake, wakeOnDrained, WakeSchedule } from '../../src/lib/upload/runtime/wake-schedule';

const T0 = 1_700_000_000_000;
const report = (nextWakeAt: number | null): DrainReport => ({
  recorded: [],
  failed: [],
  waiting: nextWakeAt === null ? [] : ['item-1'],
  parked: [],
  nextWakeAt,
  phases: { hashing: 0, metadata: 0, uploading: 0, committing: 0, verifying: 0 },
});

describe('planWake', () => {
  it('waits until the retry time, never less than the floor, and not at all when nothing waits', () => {
    expect(planWake(null, T0)).toBeNull();
    expect(planWake(T0 + 30_000, T0)).toEqual({ at: T0 + 30_000, delayMs: 30_000 });
    // Already due (or in the past): soon, but not a busy loop.
    expect(planWake(T0 - 5_000, T0)).toEqual({ at: T0 - 5_000, delayMs: MIN_WAKE_DELAY_MS });
    expect(planWake(T0 + 10, T0, 0)).toEqual({ at: T0 + 10, delayMs: 10 });
  });
});

describe('WakeSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks for a drain at the reported time, once', () => {
    const wake = vi.fn();
    const s = new WakeSchedule(wake);
    s.report(T0 + 60_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(59_999);
    expect(wake).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(wake).toHaveBeenCalledTimes(1);
    expect(s.pendingAt).toBeNull();
    vi.advanceTimersByTime(10 * 60_000);
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('coalesces repeated reports, follows the newest, and never holds more than one timer', () => {
    const wake = vi.fn();
    const s = new WakeSchedule(wake);
    s.report(T0 + 60_000);
    s.report(T0 + 60_000);
    s.report(T0 + 60_000);
    expect(vi.getTimerCount()).toBe(1);
    // A newer report with an earlier retry (another item failed meanwhile) moves the wake earlier.
    s.report(T0 + 20_000);
    expect(vi.getTimerCount()).toBe(1);
    expect(s.pendingAt).toBe(T0 + 20_000);
    vi.advanceTimersByTime(20_000);
    expect(wake).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a report with nothing waiting clears the pending wake', () => {
    const wake = vi.fn();
    const s = new WakeSchedule(wake);
    s.report(T0 + 60_000);
    s.report(null);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 * 60_000);
    expect(wake).not.toHaveBeenCalled();
  });

  it('takes an injected clock and timers', () => {
    const set: { fn: () => void; ms: number }[] = [];
    const cleared: unknown[] = [];
    const wake = vi.fn();
    const s = new WakeSchedule(wake, {
      now: () => 5_000,
      setTimeout: (fn, ms) => set.push({ fn, ms }),
      clearTimeout: (h) => cleared.push(h),
    });
    s.report(12_000);
    s.report(9_000);
    expect(set.map((t) => t.ms)).toEqual([7_000, 4_000]);
    expect(cleared).toEqual([1]);
    set[1].fn();
    expect(wake).toHaveBeenCalledTimes(1);
  });
});

describe('wake from the service worker\'s drain reports', () => {
  it('a report broadcast on the upload channel schedules the page\'s wake; a later empty one clears it', async () => {
    // Real timers: BroadcastChannel delivery is a macrotask.
    const timers = { pending: new Map<number, number>(), next: 1 };
    const s = new WakeSchedule(() => undefined, {
      now: () => T0,
      setTimeout: (_fn, ms) => {
        const h = timers.next++;
        timers.pending.set(h, ms);
        return h;
      },
      clearTimeout: (h) => timers.pending.delete(h as number),
    });
    const page = new BroadcastChannel(UPLOAD_CHANNEL);
    const sw = new BroadcastChannel(UPLOAD_CHANNEL);
    const onMessage = wakeOnDrained(s);
    const received = (n: number) =>
      new Promise<void>((resolve) => {
        let seen = 0;
        const l = (ev: MessageEvent<ChannelMessage>) => {
          onMessage(ev.data);
          if (++seen === n) {
            page.removeEventListener('message', l as EventListener);
            resolve();
          }
        };
        page.addEventListener('message', l as EventListener);
      });
    try {
      let got = received(2);
      sw.postMessage({ type: 'state', item: { id: 'x' } });
      sw.postMessage({ type: 'drained', report: report(T0 + 45_000), by: 'service-worker' } satisfies ChannelMessage);
      await got;
      expect(s.pendingAt).toBe(T0 + 45_000);
      expect([...timers.pending.values()]).toEqual([45_000]);
      got = received(1);
      sw.postMessage({ type: 'drained', report: report(null), by: 'service-worker' } satisfies ChannelMessage);
      await got;
      expect(s.pendingAt).toBeNull();
      expect(timers.pending.size).toBe(0);
    } finally {
      page.close();
      sw.close();
    }
  });
});
