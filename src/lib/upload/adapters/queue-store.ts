// The upload queue in IndexedDB (idb). Thin adapter: every mutation is one
// read-modify-write transaction on one item, so the page and the service
// worker can both write without losing each other's updates.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { QueueItem, UploadState } from '../core/types';

export const QUEUE_DB = 'forever-upload-queue';
// 1: the item record held the file's Blob. 2: the bytes live in their own
// store, so the record rewritten on every confirmed chunk stays small (a
// browser may copy a stored Blob on every put of the record holding it).
const VERSION = 2;
// Pages and the service worker open the same database; bump VERSION and extend
// upgrade() when the schema changes, never edit a released version.

interface QueueSchema extends DBSchema {
  items: { key: string; value: QueueItem; indexes: { 'by-state': UploadState; 'by-created': number; 'by-sha256': string } };
  /**
   * The file's bytes by item id: written once at enqueue (or when read back
   * from the server's blob copy), deleted with the item or when the canister
   * confirmed this item's commit. A memory's thumbnail sits beside them under
   * `<id>#thumbnail` (a key of its own, not a store: the schema stays at 2).
   */
  bytes: { key: string; value: Blob };
  /** Small records the service worker needs without a page (the client config). */
  meta: { key: string; value: unknown };
}

type UpgradeTx = IDBPTransaction<QueueSchema, StoreNames<QueueSchema>[], 'versionchange'>;

export class QueueItemNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`No queued upload ${id}`);
    this.name = 'QueueItemNotFoundError';
  }
}

export class QueueStore {
  private constructor(private readonly db: IDBPDatabase<QueueSchema>) {}

  /** Opens (or creates, or upgrades) the queue; Node tests name a fresh database each and use fake-indexeddb's globals. */
  static async open(name = QUEUE_DB): Promise<QueueStore> {
    return new QueueStore(await openDB<QueueSchema>(name, VERSION, { upgrade }));
  }

  close(): void {
    this.db.close();
  }

  /**
   * Adds an item and its bytes in one transaction; adding the same id again
   * keeps the first item and bytes (idempotent enqueue). Returns the stored item.
   */
  async add(item: QueueItem, bytes: Blob): Promise<QueueItem> {
    const tx = this.db.transaction(['items', 'bytes'], 'readwrite');
    return settle(tx, async () => {
      const existing = await tx.objectStore('items').get(item.id);
      if (existing) return existing;
      const stored = { ...item, hasBytes: true };
      await tx.objectStore('items').add(stored);
      await tx.objectStore('bytes').put(bytes, item.id);
      return stored;
    });
  }

  /** Adds an item whose bytes are not here yet (they come from the server's blob copy); an existing item with this id is kept. */
  async addWithoutBytes(item: QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    return settle(tx, async () => {
      const existing = await tx.store.get(item.id);
      if (existing) return existing;
      const stored = { ...item, hasBytes: false };
      await tx.store.add(stored);
      return stored;
    });
  }

  /** Stores bytes read back for an item and applies `change`, in one transaction. */
  async putBytes(id: string, bytes: Blob, change: (item: QueueItem) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction(['items', 'bytes'], 'readwrite');
    return settle(tx, async () => {
      const current = await tx.objectStore('items').get(id);
      if (!current) throw new QueueItemNotFoundError(id);
      const next = { ...change(current), id, hasBytes: true, updatedAt: Date.now() };
      await tx.objectStore('items').put(next);
      await tx.objectStore('bytes').put(bytes, id);
      return next;
    });
  }

  /** The memory's thumbnail, kept until the item is removed so a retry does not make it again. */
  thumbnail(id: string): Promise<Blob | undefined> {
    return this.db.get('bytes', thumbnailKey(id));
  }

  async putThumbnail(id: string, thumbnail: Blob): Promise<void> {
    await this.db.put('bytes', thumbnail, thumbnailKey(id));
  }

  get(id: string): Promise<QueueItem | undefined> {
    return this.db.get('items', id);
  }

  /** The item's bytes, read on demand (undefined once dropped or removed). */
  bytes(id: string): Promise<Blob | undefined> {
    return this.db.get('bytes', id);
  }

  /** All items, oldest first. */
  list(): Promise<QueueItem[]> {
    return this.db.getAllFromIndex('items', 'by-created');
  }

  byState(state: UploadState): Promise<QueueItem[]> {
    return this.db.getAllFromIndex('items', 'by-state', state);
  }

  /** Items whose bytes hash to `sha256` (items not hashed yet are not in the index). */
  bySha256(sha256: string): Promise<QueueItem[]> {
    return this.db.getAllFromIndex('items', 'by-sha256', sha256);
  }

  /**
   * Applies `change` to the stored item atomically and returns the result.
   * Touches the item record only (this is the per-chunk progress write), so
   * `hasBytes` is kept as stored: bytes go through `dropBytes`.
   */
  async update(id: string, change: (item: QueueItem) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    return settle(tx, async () => {
      const current = await tx.store.get(id);
      if (!current) throw new QueueItemNotFoundError(id);
      const next = { ...change(current), id, hasBytes: current.hasBytes, updatedAt: Date.now() };
      await tx.store.put(next);
      return next;
    });
  }

  /** Like `update`, and deletes the item's bytes in the same transaction (the canister holds them now). */
  async dropBytes(id: string, change: (item: QueueItem) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction(['items', 'bytes'], 'readwrite');
    return settle(tx, async () => {
      const current = await tx.objectStore('items').get(id);
      if (!current) throw new QueueItemNotFoundError(id);
      const next = { ...change(current), id, hasBytes: false, updatedAt: Date.now() };
      await tx.objectStore('items').put(next);
      if (current.hasBytes) await tx.objectStore('bytes').delete(id);
      return next;
    });
  }

  /**
   * Stores an item's hash and tells `apply` about a live item of the same
   * owner with the same bytes (its twin), in one transaction: two identical
   * files hashed at the same moment cannot both miss each other. The bytes
   * stay: a copy uploads its own once its twin is stored (engine.ts).
   */
  async recordHash(id: string, sha256: string, apply: (item: QueueItem, twin: QueueItem | undefined) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    return settle(tx, async () => {
      const current = await tx.store.get(id);
      if (!current) throw new QueueItemNotFoundError(id);
      const same = await tx.store.index('by-sha256').getAll(sha256);
      // Only memories stored forever share one asset; a Web2-only copy is its own memory on the server.
      const forever = (o: QueueItem) => o.storeForever !== false;
      const twin = forever(current) ? same.find((o) => o.id !== id && o.owner === current.owner && o.state !== 'failed' && o.duplicateOf === null && forever(o)) : undefined;
      const next = { ...apply(current, twin), id, hasBytes: current.hasBytes, updatedAt: Date.now() };
      await tx.store.put(next);
      return next;
    });
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.db.get('meta', key)) as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.db.put('meta', value, key);
  }

  /** Removes an item and its bytes (idempotent). */
  async remove(id: string): Promise<void> {
    const tx = this.db.transaction(['items', 'bytes'], 'readwrite');
    await settle(tx, async () => {
      await tx.objectStore('items').delete(id);
      await tx.objectStore('bytes').delete(id);
      await tx.objectStore('bytes').delete(thumbnailKey(id));
    });
  }
}

const thumbnailKey = (id: string) => `${id}#thumbnail`;

/**
 * Runs `work` inside a transaction and resolves with its result once the
 * transaction committed. If `work` throws, the transaction is aborted (nothing
 * of it is written) and that error, not the abort, is what the caller sees.
 */
async function settle<T>(tx: { done: Promise<void>; abort(): void }, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    // The transaction fails too (aborted here, or by the failed request): not a second error.
    tx.done.catch(() => undefined);
    try {
      tx.abort();
    } catch {
      // already aborted by the failed request
    }
    throw err;
  }
  await tx.done;
  return result;
}

/** A version-1 item: the Blob inside the record. */
type ItemV1 = Omit<QueueItem, 'hasBytes'> & { blob?: Blob | null; hasBytes?: boolean };

function upgrade(db: IDBPDatabase<QueueSchema>, oldVersion: number, _newVersion: number | null, tx: UpgradeTx): void {
  if (oldVersion < 1) {
    const store = db.createObjectStore('items', { keyPath: 'id' });
    store.createIndex('by-state', 'state');
    store.createIndex('by-created', 'createdAt');
    // null keys are not indexed, so unhashed items stay out of it.
    store.createIndex('by-sha256', 'sha256');
    db.createObjectStore('meta');
  }
  if (oldVersion < 2) {
    db.createObjectStore('bytes');
    // Files queued by version 1 must survive: move each Blob out of its record.
    if (oldVersion === 1) {
      moveBlobsOut(tx).catch(() => {
        // A failed move must not leave half-migrated records: abort, so the
        // database stays at version 1 with everything in place (open fails).
        try {
          tx.abort();
        } catch {
          // already finished (aborted by the failed request itself)
        }
      });
    }
  }
}

/** Version 1 → 2, inside the upgrade transaction: only IndexedDB requests are awaited, so it stays active. */
async function moveBlobsOut(tx: UpgradeTx): Promise<void> {
  const bytes = tx.objectStore('bytes');
  for (let cursor = await tx.objectStore('items').openCursor(); cursor; cursor = await cursor.continue()) {
    const { blob, ...rest } = cursor.value as ItemV1;
    const hasBytes = blob !== null && blob !== undefined;
    if (hasBytes) await bytes.put(blob, cursor.primaryKey);
    await cursor.update({ ...rest, hasBytes });
  }
}
