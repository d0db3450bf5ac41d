// What a step (one function per active state) gets from the engine: the
// item's session, its stores and ports, and the engine's ways of calling out
// and of persisting a transition. A step returns the item's next record.
import type { Route, UploadEvent } from '../../core/machine';
import type { EdgeRecorder, ForeverCanister, Thumbnailer, Web2Api } from '../../core/ports';
import type { ProgressSnapshot, QueueItem } from '../../core/types';
import type { Hasher } from '../../adapters/hasher';
import type { QueueStore } from '../../adapters/queue-store';
import type { Clock } from '../clock';

export interface StepContext {
  store: QueueStore;
  hasher: Hasher;
  clock: Clock;
  canister: ForeverCanister;
  chunkConcurrency: number;
  signal?: AbortSignal;
  /** One canister call: through the circuit breaker, with in-run retries of transient failures. */
  call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** One server call: in-run retries of transient failures (the breaker guards the canister only). */
  retry<T>(fn: () => Promise<T>): Promise<T>;
  /** The server recorder of this session. */
  recorder(): EdgeRecorder;
  /** The server's Web2 side for this session, or null when the engine has none (then the Web2 steps are skipped). */
  web2: Web2Api | null;
  /** Makes thumbnails off the main thread, or null where that is impossible. */
  thumbnailer: Thumbnailer | null;
  /** Where `item` goes after hashing. */
  route(item: QueueItem): Route;
  /** Persists a change and tells the listeners. */
  save(id: string, change: (item: QueueItem) => QueueItem): Promise<QueueItem>;
  /** Persists the machine's transition on `event` (plus `patch`). */
  move(item: QueueItem, event: UploadEvent, patch?: Partial<QueueItem>): Promise<QueueItem>;
  /** `move`, deleting the queued bytes in the same transaction: only once the canister confirmed it holds them. */
  moveDroppingBytes(item: QueueItem, event: UploadEvent, patch?: Partial<QueueItem>): Promise<QueueItem>;
  /** Tells the listeners about a record written by the store itself. */
  announce(item: QueueItem): void;
  /** Progress events for one item, at most one per interval unless forced. */
  progress(item: QueueItem): (p: Partial<ProgressSnapshot>, force?: boolean) => void;
  /** The other items of `item`'s owner with the same bytes. */
  twinsOf(item: QueueItem, sha256: string): Promise<QueueItem[]>;
}
