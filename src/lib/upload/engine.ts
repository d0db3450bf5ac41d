// The upload engine: drives each queued memory through the state machine
// against the canister and server ports, persisting every step in the queue
// before acting on the next, so a closed tab, a killed service worker or a
// crash resumes where it stopped. Shared by pages and the service worker; it
// has no knowledge of workers, locks or broadcast (the callers add those).
import { backoffDelay, canRetry, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { chunkCount, chunkRange, missingChunks } from './chunks';
import { CircuitBreaker, CircuitOpenError, DEFAULT_BREAKER, type BreakerPolicy } from './circuit-breaker';
import { AuthRequiredError, CanisterError, classifyError, isAlreadyExists } from './errors';
import type { Hasher } from './hasher';
import { isActive, transition, type UploadEvent } from './machine';
import type { EdgeRecorder, ForeverCanister, Session, SessionProvider } from './ports';
import { eta, receivedBytes, SpeedMeter } from './progress';
import type { QueueStore } from './queue-store';
import { DEFAULT_CALL_RETRY, retryTransient, sleep, type CallRetryPolicy } from './retry';
import type { ClassifiedError, ProgressSnapshot, QueueItem, QueueItemView } from './types';

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

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

export type EngineEvent = { type: 'state'; item: QueueItemView } | { type: 'progress'; progress: ProgressSnapshot };

/** Time spent per phase during one drain, for the benchmark's breakdown (ms). */
export interface PhaseTimes {
  hashing: number;
  metadata: number;
  uploading: number;
  committing: number;
  verifying: number;
}

export interface EngineDeps {
  store: QueueStore;
  sessions: SessionProvider;
  hasher: Hasher;
  /** Records storage edges for a signed-in session (the server needs its own sign-in). */
  recorder: (session: Session) => EdgeRecorder;
  clock?: Clock;
  random?: () => number;
  config?: Partial<EngineConfig>;
  onEvent?: (event: EngineEvent) => void;
}

export interface DrainReport {
  recorded: string[];
  failed: string[];
  waiting: string[];
  parked: string[];
  /** Earliest next-retry time of a waiting item (ms epoch), or null: when to drain again. */
  nextWakeAt: number | null;
  phases: PhaseTimes;
}

/** The item as pages see it; the record holds no bytes, so a copy of it. */
export function toView(item: QueueItem): QueueItemView {
  return { ...item };
}

class StepError extends Error {
  constructor(
    readonly classified: ClassifiedError,
    /** Clear the canister session: it is gone and uploading must begin again. */
    readonly dropSession = false,
  ) {
    super(classified.message);
    this.name = 'StepError';
  }
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
    const report: DrainReport = { recorded: [], failed: [], waiting: [], parked: [], nextWakeAt: null, phases: { hashing: 0, metadata: 0, uploading: 0, committing: 0, verifying: 0 } };
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
    let item = await this.deps.store.get(id);
    if (!item) return undefined;
    if (item.owner !== null && item.owner !== session.principal) {
      // Intent belongs to another principal: only its own sign-in may store it.
      await this.park(item, { category: 'auth', code: 'OtherPrincipal', message: `queued by ${item.owner}, signed in as ${session.principal}` });
      return this.deps.store.get(id);
    }
    if (item.owner === null) item = await this.save(id, (cur) => ({ ...cur, owner: session.principal }));
    if (item.state === 'waiting-retry') item = await this.move(item, { type: 'retry-due' }, { nextRetryAt: null });
    if (item.state === 'needs-sign-in') item = await this.move(item, { type: 'signed-in' });
    if (item.state === 'queued') item = await this.move(item, { type: 'start', hashed: item.sha256 !== null });
    while (isActive(item.state)) {
      if (signal?.aborted) return item;
      const phase = item.state;
      const started = this.clock.now();
      try {
        item = await this.step(item, session, signal);
      } catch (err) {
        if (signal?.aborted) return (await this.deps.store.get(id)) ?? item;
        item = await this.fail(item, session, err);
      } finally {
        phases[phase] += this.clock.now() - started;
      }
    }
    return item;
  }

  private async step(item: QueueItem, session: Session, signal?: AbortSignal): Promise<QueueItem> {
    const canister = session.canister;
    switch (item.state) {
      case 'hashing': {
        const blob = item.hasBytes ? await this.deps.store.bytes(item.id) : undefined;
        if (!blob) throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'the queued bytes are gone; pick the file again' });
        const total = item.size;
        const emit = this.throttledProgress(item);
        const sha256 = await this.deps.hasher.sha256(blob, { signal, onProgress: (hashed) => emit({ hashed: total === 0 ? 1 : hashed / total }) });
        // The same bytes picked twice are stored once: the later item records
        // its twin here (in one transaction, so two copies hashed at once
        // cannot miss each other), keeps its bytes, and waits for the twin at
        // the metadata step.
        const next = await this.deps.store.recordHash(item.id, sha256, (cur, twin) => ({ ...cur, ...transition(cur, { type: 'hashed' }), sha256, duplicateOf: twin?.id ?? null }));
        this.deps.onEvent?.({ type: 'state', item: toView(next) });
        return next;
      }
      case 'metadata': {
        if (item.duplicateOf !== null) {
          // A copy waits while its twin is storing the file (it is never shown
          // recorded before the file is on the canister, and keeps its bytes
          // meanwhile), then is recorded as the twin's memory: one asset. If
          // the twin failed for good or was removed, it stores the file itself.
          const twins = await this.twinsOf(item, requireHash(item));
          waitForTwinAhead(item, twins);
          // A twin whose asset the canister confirmed: its memory holds the file.
          const stored = twins.find((o) => o.committedAt !== null);
          if (stored) return this.moveDroppingBytes(item, { type: 'duplicate' }, { duplicateOf: stored.id });
        }
        await this.call(async () => {
          try {
            await canister.upsertMetadata(item.id, item.memoryType, { ...item.metadata, name: item.name, mimeType: item.mimeType }, item.idempotencyKey);
          } catch (err) {
            if (!isAlreadyExists(err)) throw err;
          }
        }, signal);
        return this.move(item, { type: 'metadata-stored' });
      }
      case 'uploading':
        return this.upload(item, canister, signal);
      case 'committing': {
        const sessionId = item.sessionId;
        if (sessionId === null) return this.move(item, { type: 'session-lost' }, { receivedChunks: [] });
        try {
          await this.call(async () => {
            try {
              await canister.commitAsset(sessionId, requireHash(item));
            } catch (err) {
              if (!isAlreadyExists(err)) throw err;
            }
          }, signal);
        } catch (err) {
          // A commit that succeeded but whose answer we never saw (closed tab,
          // dropped connection) leaves no session behind: ask what is stored.
          if (err instanceof CanisterError && (err.code === 'NotFound' || err.code === 'UploadExpired')) {
            const presence = await this.call(() => canister.getMemoryPresence(item.id), signal);
            if (presence.assetPresent && presence.sha256 === item.sha256) return this.committed(item);
            throw new StepError({ category: 'transient', code: err.code, message: err.message }, true);
          }
          throw err;
        }
        return this.committed(item);
      }
      case 'verifying': {
        const presence = await this.call(() => canister.getMemoryPresence(item.id), signal);
        if (!presence.metadataPresent || !presence.assetPresent || presence.sha256 !== item.sha256) {
          throw new StepError({ category: 'transient', code: 'PresenceUnconfirmed', message: `canister reports metadata ${presence.metadataPresent}, asset ${presence.assetPresent}, sha256 ${presence.sha256}` });
        }
        const recorder = this.deps.recorder(session);
        const memory = { id: item.id, memoryType: item.memoryType, title: item.metadata.title, description: item.metadata.description ?? null };
        await retryTransient(
          () =>
            recorder.record(memory, [
              { memoryId: item.id, artifact: 'metadata', backend: 'icp', present: true, contentHash: null, size: null, location: null },
              { memoryId: item.id, artifact: 'asset', backend: 'icp', present: true, contentHash: item.sha256, size: item.size, location: null },
            ]),
          this.cfg.callRetry,
          { sleep: this.clock.sleep, random: this.random },
          signal,
        );
        return this.move(item, { type: 'verified' }, { lastError: null, nextRetryAt: null });
      }
      default:
        throw new Error(`not an active state: ${item.state}`);
    }
  }

  private committed(item: QueueItem): Promise<QueueItem> {
    // The canister holds the bytes now; the queued copy can go (the item stays for the UI).
    return this.moveDroppingBytes(item, { type: 'committed' }, { committedAt: this.clock.now(), sessionId: null });
  }

  private async upload(item: QueueItem, canister: ForeverCanister, signal?: AbortSignal): Promise<QueueItem> {
    const sha256 = requireHash(item);
    // Read on demand: the item record never carries the bytes.
    const blob = item.hasBytes ? await this.deps.store.bytes(item.id) : undefined;
    if (!blob) {
      // The bytes go only once the canister confirmed the commit, so an item
      // without them that is back here (the user retried it after its edges
      // failed) is normally stored already: the canister's word decides.
      const presence = await this.call(() => canister.getMemoryPresence(item.id), signal);
      if (presence.assetPresent && presence.sha256 === sha256) return this.move(item, { type: 'already-exists' }, { sessionId: null });
      throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'the queued bytes are gone; pick the file again' });
    }
    // A copy storing the file itself (its twin failed or was removed) still
    // never uploads while another item with the same bytes is in flight (a
    // failed twin the user retried): one copy at a time. Once it has a
    // session it goes on whatever the twin does.
    if (item.duplicateOf !== null && item.sessionId === null) waitForTwinAhead(item, await this.twinsOf(item, sha256));
    // begin_asset_upload returns our live session (with the chunks it already
    // has) when there is one, so resuming and starting are the same call.
    const limits = await this.call(() => canister.getLimits(), signal);
    // The canister fixes the chunk size: chunk_count must be ceil(size / its chunk_size).
    const requested = chunkCount(item.size, limits.chunkSize);
    const begun = await this.call(async () => {
      try {
        return await canister.beginAssetUpload(item.id, sha256, requested, item.size);
      } catch (err) {
        if (isAlreadyExists(err)) return 'already-exists' as const;
        throw err;
      }
    }, signal);
    if (begun === 'already-exists') return this.moveDroppingBytes(item, { type: 'already-exists' }, { sessionId: null, committedAt: this.clock.now() });
    const count = chunkCount(item.size, begun.chunkSize);
    item = await this.save(item.id, (cur) => ({ ...cur, sessionId: begun.sessionId, chunkSize: begun.chunkSize, chunkCount: count, receivedChunks: [...begun.receivedChunks].sort((a, b) => a - b) }));

    const received = new Set(item.receivedChunks);
    const todo = missingChunks(count, received);
    const speed = new SpeedMeter();
    const emit = this.throttledProgress(item);
    const snapshot = (force = false) => {
      const now = this.clock.now();
      const sent = receivedBytes([...received], item.size, begun.chunkSize);
      const bps = speed.speed(now);
      emit({ bytesSent: sent, chunksSent: received.size, speed: bps, etaSeconds: eta(item.size - sent, bps) }, force);
    };
    speed.add(this.clock.now(), 0);
    snapshot(true);
    const stop = new AbortController();
    const onOuterAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      await pool(todo, this.cfg.chunkConcurrency, async (index) => {
        if (stop.signal.aborted) return;
        const [start, end] = chunkRange(index, item.size, begun.chunkSize);
        const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
        try {
          await this.call(() => canister.putChunk(begun.sessionId, index, bytes), stop.signal);
        } catch (err) {
          stop.abort(err);
          throw err;
        }
        received.add(index);
        speed.add(this.clock.now(), bytes.byteLength);
        await this.deps.store.update(item.id, (cur) => ({
          ...cur,
          receivedChunks: cur.receivedChunks.includes(index) ? cur.receivedChunks : [...cur.receivedChunks, index],
          chunkPuts: cur.chunkPuts + 1,
        }));
        snapshot();
      });
    } catch (err) {
      if (err instanceof CanisterError && (err.code === 'UploadExpired' || err.code === 'NotFound')) {
        throw new StepError({ category: 'transient', code: err.code, message: err.message }, true);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
    }
    // Stopped from outside (tab closing, drain cancelled): the chunks sent are recorded; resume later.
    if (signal?.aborted) return (await this.deps.store.get(item.id)) ?? item;
    snapshot(true);
    return this.move(item, { type: 'chunks-done' });
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

/**
 * Transient codes that say nothing about the item itself: the canister or the
 * server cannot be reached (no connection, timeout, breaker open) or all of
 * the principal's upload slots are taken (they free up on commit or expiry,
 * 30 minutes at most), or the page's hash worker did not load, or a copy
 * waits for its twin (woken when the twin is done). The promise
 * is that such an item is stored eventually.
 */
const WAIT_CODES: ReadonlySet<string> = new Set(['Network', 'Timeout', 'CircuitOpen', 'TooManyUploads', 'HasherUnavailable', 'WaitingForTwin']);

/**
 * Throws `WaitingForTwin` while one of `twins` that comes before `item` is
 * still storing the file (not committed, failed or recorded). Originals (no
 * `duplicateOf`) come before copies, copies by enqueue time: a strict order,
 * so copies of one file upload one after another and no two wait for each other.
 */
function waitForTwinAhead(item: QueueItem, twins: readonly QueueItem[]): void {
  const first = (o: QueueItem) => o.duplicateOf === null || o.createdAt < item.createdAt || (o.createdAt === item.createdAt && o.id < item.id);
  const ahead = twins.find((o) => o.committedAt === null && o.state !== 'failed' && o.state !== 'recorded' && first(o));
  if (ahead) throw new StepError({ category: 'transient', code: 'WaitingForTwin', message: `waiting for ${ahead.name} (${ahead.id}), the same file, to be stored first` });
}

function requireHash(item: QueueItem): string {
  if (item.sha256 === null) throw new Error(`item ${item.id} reached ${item.state} without a hash`);
  return item.sha256;
}

/** Runs `work` over `items` with at most `limit` in flight; rejects with the first error after in-flight work settles. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | null = null;
  const runner = async () => {
    while (next < items.length && firstError === null) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (firstError !== null) throw (firstError as { err: unknown }).err;
}
