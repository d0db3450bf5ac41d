// Putting files in the queue: ids, memory type, and the browser storage checks
// (persistent storage, quota) that decide whether the bytes can be kept.
import { v7 as uuidv7 } from 'uuid';
import { chunkCount, MAX_CHUNK_SIZE, MAX_FILE_SIZE } from './chunks';
import type { QueueStore } from './queue-store';
import type { MemoryMetadataInput, MemoryType, QueueItem } from './types';

export class FileTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`The file is ${size} bytes; the canister stores at most ${max} bytes per file`);
    this.name = 'FileTooLargeError';
  }
}

export class EmptyFileError extends Error {
  constructor(readonly fileName: string) {
    super(`${fileName} is empty; there is nothing to store`);
    this.name = 'EmptyFileError';
  }
}

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
const QUOTA_MARGIN = 16 * 1024 * 1024;

/** Throws StorageQuotaError when the browser's estimate leaves no room for `bytes`; silent when no estimate exists. */
export async function checkQuota(storage: StorageManagerLike | undefined, bytes: number): Promise<void> {
  if (!storage?.estimate) return;
  const { usage = 0, quota } = await storage.estimate();
  if (quota === undefined) return;
  const available = Math.max(0, quota - usage);
  const needed = bytes + QUOTA_MARGIN;
  if (needed > available) throw new StorageQuotaError(needed, available);
}

export function memoryTypeFor(mimeType: string): MemoryType {
  if (mimeType.startsWith('image/')) return 'Image';
  if (mimeType.startsWith('video/')) return 'Video';
  if (mimeType.startsWith('audio/')) return 'Audio';
  return 'Document';
}

export interface EnqueueInput {
  blob: Blob;
  name: string;
  mimeType?: string;
  memoryType?: MemoryType;
  metadata?: Partial<MemoryMetadataInput>;
  /** Principal of the signed-in user, when known. */
  owner?: string | null;
  /** Fixed id (tests, re-enqueue); a fresh UUID v7 otherwise. */
  id?: string;
  now?: number;
}

/** Builds a queue item (pure); its bytes are `input.blob`, stored beside it by `enqueue`. */
export function newQueueItem(input: EnqueueInput): QueueItem {
  // The canister refuses empty assets (total_size must be at least 1 byte).
  if (input.blob.size === 0) throw new EmptyFileError(input.name);
  if (input.blob.size > MAX_FILE_SIZE) throw new FileTooLargeError(input.blob.size, MAX_FILE_SIZE);
  const now = input.now ?? Date.now();
  const mimeType = input.mimeType ?? (input.blob.type || 'application/octet-stream');
  const id = input.id ?? uuidv7();
  return {
    id,
    idempotencyKey: `upsert:${id}`,
    owner: input.owner ?? null,
    hasBytes: true,
    name: input.name,
    mimeType,
    size: input.blob.size,
    memoryType: input.memoryType ?? memoryTypeFor(mimeType),
    metadata: { title: input.metadata?.title ?? input.name, description: input.metadata?.description, tags: input.metadata?.tags },
    chunkSize: MAX_CHUNK_SIZE,
    chunkCount: chunkCount(input.blob.size, MAX_CHUNK_SIZE),
    sha256: null,
    sessionId: null,
    receivedChunks: [],
    chunkPuts: 0,
    state: 'queued',
    resumeAt: null,
    attempts: 0,
    waits: 0,
    nextRetryAt: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    committedAt: null,
    duplicateOf: null,
  };
}

/** Checks quota, then stores the item and its bytes (a Blob, in their own store) in the queue. */
export async function enqueue(store: QueueStore, input: EnqueueInput, storage?: StorageManagerLike): Promise<QueueItem> {
  const item = newQueueItem(input);
  await checkQuota(storage, item.size);
  try {
    return await store.add(item, input.blob);
  } catch (err) {
    // The estimate is only an estimate: the write itself can still be refused.
    if (err instanceof Error && err.name === 'QuotaExceededError') throw new StorageQuotaError(item.size + QUOTA_MARGIN, 0);
    throw err;
  }
}
