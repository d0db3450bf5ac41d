// The browser's storage manager as the queue uses it: persistent storage and
// the quota estimate that decides whether a file's bytes can be kept.

/** The browser will not give the queue room for these bytes. */
export class StorageQuotaError extends Error {
  constructor(
    readonly needed: number,
    readonly available: number,
  ) {
    super(`Not enough browser storage to queue this file: it needs ${needed} bytes, ${available} are available. Free some space or upload fewer files at once.`);
    this.name = 'StorageQuotaError';
  }
}

/** The part of `navigator.storage` the queue uses (absent in old browsers and in Node). */
export interface StorageManagerLike {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

export type PersistenceStatus = 'persisted' | 'refused' | 'unsupported';

/**
 * Asks the browser to keep the queue's storage under pressure. A refusal is
 * not fatal (the bytes stay until the browser evicts best-effort data) but the
 * page must say so: an evicted queue loses files the user believes are safe.
 */
export async function requestPersistence(storage: StorageManagerLike | undefined): Promise<PersistenceStatus> {
  if (!storage?.persist) return 'unsupported';
  if (storage.persisted && (await storage.persisted())) return 'persisted';
  return (await storage.persist()) ? 'persisted' : 'refused';
}

/** Headroom kept free beyond the file itself: IndexedDB stores metadata and may copy during a transaction. */
export const QUOTA_MARGIN = 16 * 1024 * 1024;

/** Throws StorageQuotaError when the browser's estimate leaves no room for `bytes`; silent when no estimate exists. */
export async function checkQuota(storage: StorageManagerLike | undefined, bytes: number): Promise<void> {
  if (!storage?.estimate) return;
  const { usage = 0, quota } = await storage.estimate();
  if (quota === undefined) return;
  const available = Math.max(0, quota - usage);
  const needed = bytes + QUOTA_MARGIN;
  if (needed > available) throw new StorageQuotaError(needed, available);
}
