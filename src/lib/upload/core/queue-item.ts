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
}

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

