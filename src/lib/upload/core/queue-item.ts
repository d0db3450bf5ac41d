// A new queue item from a picked file (or a note, or a memory stored forever
// later). Pure: the id and the clock can be passed in.
import { v7 as uuidv7 } from 'uuid';
import { MAX_CHUNK_BYTES, MAX_FILE_BYTES } from '../../../../contract';
import { chunkCount } from './chunks';
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
  /** Store on the canister too (default); false keeps the memory Web2-only. */
  storeForever?: boolean;
  folderId?: string | null;
  /**
   * Through the server's Web2 side first (the product's adds); without it the
   * item goes to the canister only, as items always did before there was one.
   */
  web2?: boolean;
}

/** The Web2 side before any of it is done. */
export const WEB2_START = { memory: false, blob: null, queueId: null, thumbnail: null } as const;

/** Builds a queue item (pure); its bytes are `input.blob`, stored beside it by `enqueue`. */
export function newQueueItem(input: EnqueueInput): QueueItem {
  // The canister refuses empty assets (total_size must be at least 1 byte).
  if (input.blob.size === 0) throw new EmptyFileError(input.name);
  if (input.blob.size > MAX_FILE_BYTES) throw new FileTooLargeError(input.blob.size, MAX_FILE_BYTES);
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
    chunkSize: MAX_CHUNK_BYTES,
    chunkCount: chunkCount(input.blob.size, MAX_CHUNK_BYTES),
    ...notStarted(now),
    storeForever: input.storeForever ?? true,
    folderId: input.folderId ?? null,
    source: 'file',
    expectedSha256: null,
    web2: input.web2 === true ? { ...WEB2_START } : null,
  };
}

/** The journey fields of an item nothing has been done for yet (a fresh array each time). */
function notStarted(now: number) {
  return {
    sha256: null,
    sessionId: null,
    receivedChunks: [] as number[],
    chunkPuts: 0,
    state: 'queued' as const,
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

/** A memory that is on the server only, to store forever from the server's blob copy. */
export interface ServerMemoryInput {
  id: string;
  sha256: string | null;
  size: number;
  name: string;
  mimeType: string;
  memoryType: MemoryType;
  title: string;
  description?: string | null;
  owner: string | null;
  now?: number;
}

/**
 * The queue item that stores a Web2-only memory forever when this browser
 * has none of its bytes: they are read back from the server's blob copy,
 * re-hashed, and must equal the recorded hash before any chunk goes out.
 */
export function serverSourcedItem(input: ServerMemoryInput): QueueItem {
  const now = input.now ?? Date.now();
  return {
    id: input.id,
    // The same key as the item that first queued this memory, so a canister that saw its metadata takes it as the same call.
    idempotencyKey: `upsert:${input.id}`,
    owner: input.owner,
    hasBytes: false,
    name: input.name,
    mimeType: input.mimeType,
    size: input.size,
    memoryType: input.memoryType,
    metadata: { title: input.title, description: input.description ?? undefined },
    chunkSize: MAX_CHUNK_BYTES,
    chunkCount: chunkCount(input.size, MAX_CHUNK_BYTES),
    ...notStarted(now),
    storeForever: true,
    folderId: null,
    source: 'server',
    expectedSha256: input.sha256,
    web2: null,
  };
}

