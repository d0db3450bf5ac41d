// The upload engine: drives each queued memory through the state machine
// against the canister and server ports, persisting every step in the queue
// before acting on the next, so a closed tab, a killed service worker or a
// crash resumes where it stopped. Shared by pages and the service worker; it
// has no knowledge of workers, locks or broadcast (the callers add those).
import type { Hasher } from '../adapters/hasher';
import type { QueueStore } from '../adapters/queue-store';
import { CircuitBreaker, CircuitOpenError, DEFAULT_BREAKER, type BreakerPolicy } from '../core/circuit-breaker';
import { AuthRequiredError, CanisterError, classifyError, StepError, WAIT_CODES } from '../core/errors';
import type { DrainReport, EngineEvent, PhaseTimes } from '../core/events';
import { backoffDelay, canRetry, DEFAULT_BACKOFF, DEFAULT_CALL_RETRY, retryTransient, type BackoffPolicy, type CallRetryPolicy } from '../core/full-jitter-backoff';
import { isActive, transition, type UploadEvent } from '../core/machine';
import type { EdgeRecorder, Session, SessionProvider, Thumbnailer, Web2Api } from '../core/ports';
import { QueueItemNotFoundError } from '../adapters/queue-store';
import type { ActiveState, ClassifiedError, ProgressSnapshot, QueueItem, QueueItemView } from '../core/types';
import { systemClock, type Clock } from './clock';
import { STEPS, type StepContext } from './steps';

export type { Clock } from './clock';
export { systemClock } from './clock';
export type { DrainReport, EngineEvent, PhaseTimes } from '../core/events';

export interface EngineConfig {
  /** put_chunk calls in flight per file. */
  chunkConcurrency: number;
  /** Files uploading at once: the canister's live-session limit per principal. */
  maxFiles: number;
  callRetry: CallRetryPolicy;
  itemBackoff: BackoffPolicy;
  breaker: BreakerPolicy;
  /** Minimum gap between progress events of one item. */
  progressIntervalMs: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  chunkConcurrency: 4,
  maxFiles: 3,
  callRetry: DEFAULT_CALL_RETRY,
  itemBackoff: DEFAULT_BACKOFF,
  breaker: DEFAULT_BREAKER,
  progressIntervalMs: 100,
};

export interface EngineDeps {
  store: QueueStore;
  sessions: SessionProvider;
  hasher: Hasher;
  /** Records storage edges for a signed-in session (the server needs its own sign-in). */
  recorder: (session: Session) => EdgeRecorder;
  /** The server's Web2 side for a signed-in session; without it items go to the canister only. */
  web2?: (session: Session) => Web2Api;
  /** Makes thumbnails off the main thread; without it only the thumbnails pages made are sent. */
  thumbnailer?: Thumbnailer;
  clock?: Clock;
  random?: () => number;
  config?: Partial<EngineConfig>;
  onEvent?: (event: EngineEvent) => void;
}

/** The item as pages see it; the record holds no bytes, so a copy of it. */
export function toView(item: QueueItem): QueueItemView {
  return { ...item };
}

export class UploadEngine {
  private readonly cfg: EngineConfig;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly breaker: CircuitBreaker;

  constructor(private readonly deps: EngineDeps) {
    this.cfg = { ...DEFAULT_ENGINE_CONFIG, ...deps.config };
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.breaker = new CircuitBreaker(this.cfg.breaker);
  }

  /**
   * Runs every item that is due (queued, interrupted, retry due, parked for
   * sign-in when an identity is back) until none is left, at most `maxFiles`
   * at a time. Aborting the signal stops between steps; nothing is lost.
   */
  async drain(signal?: AbortSignal): Promise<DrainReport> {
    const report: DrainReport & { saved: string[] } = { recorded: [], saved: [], failed: [], waiting: [], parked: [], nextWakeAt: null, phases: { hashing: 0, metadata: 0, uploading: 0, committing: 0, verifying: 0 } };
    // Each item runs at most once per drain; a waiting item comes back on the next one.
    const tried = new Set<string>();
    const nextDue = async (): Promise<QueueItem | undefined> => {
      // Re-read the queue for every pick, so files enqueued during a drain join it.
      const item = (await this.deps.store.list()).find((i) => !tried.has(i.id) && this.isDue(i));
      if (item) tried.add(item.id);
      return item;
    };
    const first = await nextDue();
    if (first && !signal?.aborted) {
      let session: Session | null = null;
      try {
        session = await this.deps.sessions();
      } catch (err) {
        if (!(err instanceof AuthRequiredError)) {
          // Setting up the agent can fail like any call (offline: no root key).
          // Nothing changed for the items; try again soon.
          if (classifyError(err).category !== 'transient') throw err;
          report.nextWakeAt = this.clock.now() + backoffDelay(2, this.cfg.itemBackoff, this.random) + 1_000;
          return report;
        }
        const error: ClassifiedError = { category: 'auth', code: 'AuthRequired', message: err.message };
        for (let item: QueueItem | undefined = first; item; item = await nextDue()) {
          await this.park(item, error);
          report.parked.push(item.id);
        }
      }
      if (session) {
        const s = session;
        // Never more files at once than the canister has live sessions for us.
        const limits = await s.canister.getLimits().catch(() => null);
        const files = Math.max(1, Math.min(this.cfg.maxFiles, limits?.maxLiveSessions ?? this.cfg.maxFiles));
        let pending: QueueItem | undefined = first;
        const worker = async () => {
          for (;;) {
            if (signal?.aborted) return;
            const item = pending ?? (await nextDue());
            pending = undefined;
            if (!item) return;
            const final = await this.runItem(item.id, s, report.phases, signal);
            if (final?.state === 'recorded') report.recorded.push(final.id);
            else if (final?.state === 'saved') report.saved.push(final.id);
            else if (final?.state === 'failed') report.failed.push(final.id);
            else if (final?.state === 'needs-sign-in') report.parked.push(final.id);
            // Its waiting copies may run in this same drain.
            if (final) for (const id of await this.wakeTwins(final)) tried.delete(id);
          }
        };
        await Promise.all(Array.from({ length: files }, worker));
      }
    }
    for (const item of await this.deps.store.list()) {
      if (item.state !== 'waiting-retry' || item.nextRetryAt === null) continue;
      report.waiting.push(item.id);
      report.nextWakeAt = report.nextWakeAt === null ? item.nextRetryAt : Math.min(report.nextWakeAt, item.nextRetryAt);
    }
    return report;
  }

  private isDue(item: QueueItem): boolean {
    if (item.state === 'queued' || item.state === 'needs-sign-in' || isActive(item.state)) return true;
    if (item.state === 'saved') return item.storeForever === true && item.hasBytes;
    return item.state === 'waiting-retry' && (item.nextRetryAt ?? 0) <= this.clock.now();
  }

  private async park(item: QueueItem, error: ClassifiedError): Promise<void> {
    if (item.state === 'needs-sign-in') return;
    await this.save(item.id, (cur) => ({ ...cur, ...transition(cur, { type: 'auth-required' }), lastError: { ...error, at: this.clock.now() } }));
  }

  private async save(id: string, change: (item: QueueItem) => QueueItem): Promise<QueueItem> {
    const next = await this.deps.store.update(id, change);
    this.deps.onEvent?.({ type: 'state', item: toView(next) });
    return next;
  }

  private async move(item: QueueItem, event: UploadEvent, patch: Partial<QueueItem> = {}): Promise<QueueItem> {
    return this.save(item.id, (cur) => ({ ...cur, ...patch, ...transition(cur, event) }));
  }

  /** `move`, deleting the queued bytes in the same transaction: only once the canister confirmed it holds them. */
  private async moveDroppingBytes(item: QueueItem, event: UploadEvent, patch: Partial<QueueItem> = {}): Promise<QueueItem> {
    const next = await this.deps.store.dropBytes(item.id, (cur) => ({ ...cur, ...patch, ...transition(cur, event) }));
    this.deps.onEvent?.({ type: 'state', item: toView(next) });
    return next;
  }

  /** Runs one item until it is recorded, failed, waiting or parked. Returns its final record (undefined if removed meanwhile). */
  private async runItem(id: string, session: Session, phases: PhaseTimes, signal?: AbortSignal): Promise<QueueItem | undefined> {
    const found = await this.deps.store.get(id);
    if (!found) return undefined;
    let item: QueueItem = found;
    if (item.owner !== null && item.owner !== session.principal) {
      // Intent belongs to another principal: only its own sign-in may store it.
      await this.park(item, { category: 'auth', code: 'OtherPrincipal', message: `queued by ${item.owner}, signed in as ${session.principal}` });
      return this.deps.store.get(id);
    }
    if (item.owner === null) item = await this.save(id, (cur) => ({ ...cur, owner: session.principal }));
    if (item.state === 'waiting-retry') item = await this.move(item, { type: 'retry-due' }, { nextRetryAt: null });
    if (item.state === 'needs-sign-in') item = await this.move(item, { type: 'signed-in' });
    if (item.state === 'queued') item = await this.move(item, { type: 'start', hashed: item.sha256 !== null, fetch: item.source === 'server' && !item.hasBytes, ...this.route(item, session) });
    const ctx = this.context(session, signal);
    for (;;) {
      // Asked to be stored forever while it was still on its way to Web2 only.
      if (item.state === 'saved' && item.storeForever === true && item.hasBytes && item.sha256 !== null) item = await this.move(item, { type: 'store-forever' });
      if (!isActive(item.state)) break;
      if (signal?.aborted) return item;
      const phase: ActiveState = item.state;
      const started = this.clock.now();
      try {
        item = await STEPS[phase](ctx, item);
      } catch (err) {
        if (signal?.aborted) return (await this.deps.store.get(id)) ?? item;
        // Removed while it ran (the user cancelled or dismissed it): nothing more to do for
        // it, except freeing a canister session it opened meanwhile.
        if (err instanceof QueueItemNotFoundError || !(await this.deps.store.get(id))) {
          const sessionId = item.sessionId;
          if (sessionId !== null) await session.canister.cancelUpload(sessionId).catch(() => undefined);
          return undefined;
        }
        try {
          item = await this.fail(item, session, err);
        } catch (failErr) {
          if (failErr instanceof QueueItemNotFoundError) return undefined;
          throw failErr;
        }
      } finally {
        phases[phase] = (phases[phase] ?? 0) + this.clock.now() - started;
      }
    }
    return item;
  }

  /** Through the server first when there is one and the item has a Web2 side; to the canister unless it stays Web2-only. */
  private route(item: QueueItem, _session: Session): { web2: boolean; forever: boolean } {
    return { web2: this.deps.web2 !== undefined && item.web2 !== null && item.web2 !== undefined, forever: item.storeForever !== false };
  }

  /** The context the steps of one item's run share. */
  private context(session: Session, signal?: AbortSignal): StepContext {
    return {
      store: this.deps.store,
      hasher: this.deps.hasher,
      clock: this.clock,
      canister: session.canister,
      chunkConcurrency: this.cfg.chunkConcurrency,
      signal,
      call: (fn, s) => this.call(fn, s ?? signal),
      retry: (fn) => retryTransient(fn, this.cfg.callRetry, { sleep: this.clock.sleep, random: this.random }, signal),
      recorder: () => this.deps.recorder(session),
      web2: this.deps.web2?.(session) ?? null,
      thumbnailer: this.deps.thumbnailer ?? null,
      route: (item) => this.route(item, session),
      save: (id, change) => this.save(id, change),
      move: (item, event, patch) => this.move(item, event, patch),
      moveDroppingBytes: (item, event, patch) => this.moveDroppingBytes(item, event, patch),
      announce: (item) => this.deps.onEvent?.({ type: 'state', item: toView(item) }),
      progress: (item) => this.throttledProgress(item),
      twinsOf: (item, sha256) => this.twinsOf(item, sha256),
    };
  }

  /** The other items of `item`'s owner with the same bytes. */
  private async twinsOf(item: QueueItem, sha256: string): Promise<QueueItem[]> {
    return (await this.deps.store.bySha256(sha256)).filter((o) => o.id !== item.id && o.owner === item.owner);
  }

  /**
   * `done` committed or failed: copies of it waiting for it are due now, not
   * after their backoff. Returns their ids so the drain can run them again.
   */
  private async wakeTwins(done: QueueItem): Promise<string[]> {
    if (done.sha256 === null || (done.committedAt === null && done.state !== 'failed')) return [];
    const woken: string[] = [];
    for (const o of await this.deps.store.bySha256(done.sha256)) {
      if (o.id === done.id || o.owner !== done.owner || o.state !== 'waiting-retry' || o.lastError?.code !== 'WaitingForTwin') continue;
      await this.save(o.id, (cur) => (cur.state === 'waiting-retry' ? { ...cur, nextRetryAt: this.clock.now() } : cur));
      woken.push(o.id);
    }
    return woken;
  }

  /** One canister call: through the circuit breaker, with in-run retries of transient failures. */
  private call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return retryTransient(
      async () => {
        const now = this.clock.now();
        if (!this.breaker.allow(now)) throw new CircuitOpenError(Math.max(this.breaker.retryAt(now), now + 1_000));
        try {
          const result = await fn();
          this.breaker.success();
          return result;
        } catch (err) {
          // Err variants are answers from a healthy canister; only failures to
          // reach it (network, 5xx, IC transient rejects) count against it.
          if (!(err instanceof CanisterError) && classifyError(err).category === 'transient') this.breaker.failure(this.clock.now());
          else if (err instanceof CanisterError) this.breaker.success();
          throw err;
        }
      },
      this.cfg.callRetry,
      { sleep: this.clock.sleep, random: this.random },
      signal,
    );
  }

  private async fail(item: QueueItem, session: Session, err: unknown): Promise<QueueItem> {
    const classified = err instanceof StepError ? err.classified : classifyError(err);
    const now = this.clock.now();
    const lastError = { ...classified, at: now };
    const dropSession = err instanceof StepError && err.dropSession;
    const sessionPatch: Partial<QueueItem> = dropSession ? { sessionId: null, receivedChunks: [] } : {};
    if (classified.category === 'auth') {
      return this.save(item.id, (cur) => ({ ...cur, ...sessionPatch, ...transition(cur, { type: 'auth-required' }), lastError }));
    }
    // Waiting for the connection or for a free upload slot is not the item
    // failing: it backs off like any retry but does not use up its attempts.
    const waiting = classified.category === 'transient' && WAIT_CODES.has(classified.code);
    const attempts = waiting ? item.attempts : item.attempts + 1;
    const waits = (item.waits ?? 0) + (waiting ? 1 : 0);
    if (classified.category === 'transient' && (waiting || canRetry(attempts, this.cfg.itemBackoff))) {
      let delay = backoffDelay(attempts + waits - 1, this.cfg.itemBackoff, this.random);
      if (err instanceof CircuitOpenError) delay = Math.max(delay, err.retryAt - now);
      return this.save(item.id, (cur) => {
        const moved = transition(cur, { type: 'transient-error' });
        // A lost session sends the item back to uploading, not to where it failed.
        const resumeAt = dropSession && moved.resumeAt !== 'hashing' && moved.resumeAt !== 'metadata' ? 'uploading' : moved.resumeAt;
        return { ...cur, ...sessionPatch, ...moved, resumeAt, attempts, waits, nextRetryAt: now + delay, lastError };
      });
    }
    // Permanent (or out of attempts): free the canister's session slot so it
    // does not count against the live-session limit until it expires.
    if (item.sessionId !== null) {
      const sessionId = item.sessionId;
      await session.canister.cancelUpload(sessionId).catch(() => undefined);
    }
    return this.save(item.id, (cur) => ({ ...cur, ...transition(cur, { type: 'permanent-error' }), attempts, sessionId: null, nextRetryAt: null, lastError }));
  }

  /** Progress events for one item, at most one per `progressIntervalMs` unless forced. */
  private throttledProgress(item: QueueItem): (p: Partial<ProgressSnapshot>, force?: boolean) => void {
    let last = -Infinity;
    return (p, force = false) => {
      const onEvent = this.deps.onEvent;
      if (!onEvent) return;
      const now = this.clock.now();
      if (!force && now - last < this.cfg.progressIntervalMs) return;
      last = now;
      onEvent({
        type: 'progress',
        progress: {
          id: item.id,
          state: item.state,
          bytesSent: 0,
          totalBytes: item.size,
          chunksSent: 0,
          totalChunks: item.chunkCount,
          speed: 0,
          etaSeconds: null,
          hashed: item.state === 'hashing' ? 0 : 1,
          ...p,
        },
      });
    };
  }
}
