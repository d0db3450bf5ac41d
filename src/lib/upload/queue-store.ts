// The upload queue in IndexedDB (idb). Thin adapter: every mutation is one
// read-modify-write transaction on one item, so the page and the service
// worker can both write without losing each other's updates.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { QueueItem, UploadState } from './types';

export const QUEUE_DB = 'forever-upload-queue';
const VERSION = 1;
// Pages and the service worker open the same database; bump VERSION and extend
// upgrade() when the schema changes, never edit a released version.

interface QueueSchema extends DBSchema {
  items: { key: string; value: QueueItem; indexes: { 'by-state': UploadState; 'by-created': number; 'by-sha256': string } };
  /** Small records the service worker needs without a page (the client config). */
  meta: { key: string; value: unknown };
}

export class QueueItemNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`No queued upload ${id}`);
    this.name = 'QueueItemNotFoundError';
  }
}

export class QueueStore {
  private constructor(private readonly db: IDBPDatabase<QueueSchema>) {}

  /** Opens (or creates) the queue; Node tests name a fresh database each and use fake-indexeddb's globals. */
  static async open(name = QUEUE_DB): Promise<QueueStore> {
    return new QueueStore(await openDB<QueueSchema>(name, VERSION, { upgrade }));
  }

  close(): void {
    this.db.close();
  }

  /** Adds an item; adding the same id again keeps the first (idempotent enqueue). Returns the stored item. */
  async add(item: QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    const existing = await tx.store.get(item.id);
    if (!existing) await tx.store.add(item);
    await tx.done;
    return existing ?? item;
  }

  get(id: string): Promise<QueueItem | undefined> {
    return this.db.get('items', id);
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

  /** Applies `change` to the stored item atomically and returns the result. */
  async update(id: string, change: (item: QueueItem) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    const current = await tx.store.get(id);
    if (!current) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new QueueItemNotFoundError(id);
    }
    const next = { ...change(current), id, updatedAt: Date.now() };
    await tx.store.put(next);
    await tx.done;
    return next;
  }

  /**
   * Stores an item's hash, or marks it a duplicate of another live item of the
   * same owner with the same bytes, in one transaction: two identical files
   * hashed at the same moment cannot both miss each other.
   */
  async recordHash(id: string, sha256: string, apply: (item: QueueItem, twin: QueueItem | undefined) => QueueItem): Promise<QueueItem> {
    const tx = this.db.transaction('items', 'readwrite');
    const current = await tx.store.get(id);
    if (!current) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new QueueItemNotFoundError(id);
    }
    const same = await tx.store.index('by-sha256').getAll(sha256);
    const twin = same.find((o) => o.id !== id && o.owner === current.owner && o.state !== 'failed' && o.duplicateOf === null);
    const next = { ...apply(current, twin), id, updatedAt: Date.now() };
    await tx.store.put(next);
    await tx.done;
    return next;
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.db.get('meta', key)) as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.db.put('meta', value, key);
  }

  /** Removes an item (idempotent). */
  async remove(id: string): Promise<void> {
    await this.db.delete('items', id);
  }
}

function upgrade(db: IDBPDatabase<QueueSchema>): void {
  const store = db.createObjectStore('items', { keyPath: 'id' });
  store.createIndex('by-state', 'state');
  store.createIndex('by-created', 'createdAt');
  // null keys are not indexed, so unhashed items stay out of it.
  store.createIndex('by-sha256', 'sha256');
  db.createObjectStore('meta');
}
