// Builds an UploadEngine over a fresh fake-indexeddb queue for Node tests.
import 'fake-indexeddb/auto';
import { randomBytes } from 'node:crypto';
import { UploadEngine, type Clock, type EngineConfig, type EngineEvent } from '../../../src/lib/upload/runtime/engine';
import { inlineHasher, type Hasher } from '../../../src/lib/upload/adapters/hasher';
import type { EdgeRecorder, ForeverCanister, ServerMemory, SessionProvider, StorageEdge } from '../../../src/lib/upload/core/ports';
import { QueueStore } from '../../../src/lib/upload/adapters/queue-store';

let dbCounter = 0;

export async function freshStore(): Promise<QueueStore> {
  return QueueStore.open(`queue-test-${process.pid}-${++dbCounter}-${Date.now()}`);
}

/** A clock whose sleeps return at once and move time forward: backoff without waiting. */
export class ManualClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

export class RecordingRecorder implements EdgeRecorder {
  readonly batches: { memory: ServerMemory; edges: StorageEdge[] }[] = [];
  async record(memory: ServerMemory, edges: StorageEdge[]): Promise<void> {
    this.batches.push({ memory, edges });
  }
}

/** Small delays so transient-failure tests do not wait. */
export const FAST: Partial<EngineConfig> = {
  callRetry: { retries: 3, baseMs: 1, capMs: 4 },
  itemBackoff: { baseMs: 10, capMs: 100, maxAttempts: 4 },
  breaker: { failureThreshold: 50, openMs: 1_000 },
  progressIntervalMs: 0,
};

export function makeEngine(opts: {
  store: QueueStore;
  canister: ForeverCanister;
  sessions?: SessionProvider;
  recorder?: EdgeRecorder;
  clock?: Clock;
  config?: Partial<EngineConfig>;
  events?: EngineEvent[];
  hasher?: Hasher;
}): UploadEngine {
  const principal = 'principal-a';
  return new UploadEngine({
    store: opts.store,
    sessions: opts.sessions ?? (async () => ({ principal, canister: opts.canister })),
    hasher: opts.hasher ?? inlineHasher,
    recorder: () => opts.recorder ?? new RecordingRecorder(),
    clock: opts.clock,
    random: () => 0.5,
    config: { ...FAST, ...opts.config },
    onEvent: opts.events ? (e) => opts.events!.push(e) : undefined,
  });
}

export function randomBlob(size: number, type = 'application/octet-stream'): Blob {
  return new Blob([randomBytes(size)], { type });
}
