// Types shared by the engine, the queue, the service worker and the pages.
// Declared once here; adapters import them.
import type { MemoryTypeVariant } from '../../../../contract';

/** A memory's kind as the queue and the canister spell it (the contract's Candid variant name; `fromVariant` gives the wire form). */
export type MemoryType = MemoryTypeVariant;

/** Where one memory is in its journey to the server's Web2 copy and to the canister. */
export type UploadState =
  | 'queued'
  /** Store Forever later without queued bytes: reading the server's blob copy. */
  | 'fetching'
  | 'hashing'
  /** The memory's record on the server (PUT /api/memories/:id). */
  | 'web2-metadata'
  /** The bytes to the server's blob copy (POST /api/upload_file). */
  | 'web2-upload'
  /** The thumbnail or poster frame, to the server. */
  | 'thumbnail'
  /** The server took the bytes into its own retry queue (202 pending_retry): asking until it stored them. */
  | 'web2-confirm'
  | 'metadata'
  | 'uploading'
  | 'committing'
  | 'verifying'
  | 'recorded'
  /** Web2 only: on the server, not on the canister (Store Forever later). */
  | 'saved'
  | 'waiting-retry'
  | 'needs-sign-in'
  | 'failed';

/** The states in which work is being done for the item (the "phases"). */
export type ActiveState = 'fetching' | 'hashing' | 'web2-metadata' | 'web2-upload' | 'thumbnail' | 'web2-confirm' | 'metadata' | 'uploading' | 'committing' | 'verifying';

export type ErrorCategory = 'transient' | 'permanent' | 'auth';

export interface ClassifiedError {
  category: ErrorCategory;
  /** Stable code for UIs and tests: a canister variant name, `Network`, `Http5xx`, `IcTransient`, ... */
  code: string;
  message: string;
  /**
   * The cause in the words of whoever refused: the server's `error.message`,
   * the canister's `InvalidArgument` text. Shown to the user as it is.
   */
  reason?: string;
}

export interface MemoryMetadataInput {
  title: string;
  description?: string;
  /** Free-form tags. */
  tags?: string[];
}

/** One queued memory: intent only, never signed requests (they expire in ~5 min). */
export interface QueueItem {
  /** Canonical memory id (lowercase UUID v7); also the queue key. */
  id: string;
  /** Idempotency key sent with upsert_metadata; fixed at enqueue time. */
  idempotencyKey: string;
  /** Principal (text) the item belongs to; null until the first signed-in drain claims it. Only that principal's identity drains it. */
  owner: string | null;
  /**
   * Whether the queue still holds the file's bytes (in the `bytes` object
   * store, beside this record: see queue-store.ts). False once the canister
   * confirmed the commit (a duplicate keeps its own until its twin's commit,
   * or its own if the twin failed).
   */
  hasBytes: boolean;
  name: string;
  mimeType: string;
  size: number;
  memoryType: MemoryType;
  metadata: MemoryMetadataInput;
  chunkSize: number;
  chunkCount: number;
  /** Lowercase hex SHA-256 of the bytes, once hashed. */
  sha256: string | null;
  sessionId: string | null;
  /** Indices the canister confirmed (from begin_asset_upload or put_chunk answers). */
  receivedChunks: number[];
  /** put_chunk calls that succeeded for this item, over all runs: equals chunkCount when nothing was sent twice. */
  chunkPuts: number;
  state: UploadState;
  /** The phase to go back to after waiting-retry or needs-sign-in. */
  resumeAt: ActiveState | null;
  /** Failed attempts of this item's own work; after `maxAttempts` of them it fails. */
  attempts: number;
  /**
   * Retries caused by conditions outside the item (no connection, circuit
   * open, every canister upload slot taken): they lengthen the backoff but
   * never fail the item, so an offline device stores it once it is back.
   * Absent in items queued before it existed.
   */
  waits?: number;
  nextRetryAt: number | null;
  lastError: (ClassifiedError & { at: number }) | null;
  createdAt: number;
  updatedAt: number;
  committedAt: number | null;
  /**
   * Set when the bytes turned out identical to another item of the same
   * owner: the file is stored once. This item waits (`WaitingForTwin`, bytes
   * kept) until that twin committed, then is recorded as it (pointing at the
   * memory that holds the asset). If the twin fails for good or is removed,
   * this item stores the file itself, as its own memory.
   */
  duplicateOf: string | null;
  /** Store on the canister too; false keeps the memory Web2-only. Absent in items of earlier versions: true. */
  storeForever?: boolean;
  /** The folder the memory is added to (a directory pick), sent with its server record. */
  folderId?: string | null;
  /** Where the bytes come from: the picked file, or (Store Forever later, none queued) the server's blob copy. */
  source?: 'file' | 'server';
  /** The SHA-256 the bytes must have (the server's record, for bytes read back from its copy); checked before any chunk. */
  expectedSha256?: string | null;
  /** The Web2 side of the journey; absent for items that skip it (earlier versions, or already on the server). */
  web2?: Web2Progress | null;
}

export interface Web2Progress {
  /** The server holds the memory's record. */
  memory: boolean;
  /** The blob copy: stored, taken into the server's retry queue, or not yet sent. */
  blob: 'stored' | 'pending_retry' | null;
  /** The server's upload_queue id while `blob` is pending_retry. */
  queueId: string | null;
  /** The thumbnail: on the server, none to make (not an image or video, or it failed to decode), or not yet done. */
  thumbnail: 'stored' | 'none' | null;
}

export interface ProgressSnapshot {
  id: string;
  state: UploadState;
  bytesSent: number;
  totalBytes: number;
  chunksSent: number;
  totalChunks: number;
  /** Bytes per second over a sliding window; 0 until measurable. */
  speed: number;
  /** Seconds left at the current speed; null when unknown. */
  etaSeconds: number | null;
  /** Hashing progress 0..1 while hashing. */
  hashed: number;
}

/** An item as pages see it (broadcast, listed). The record never holds the bytes, so it is the item itself. */
export type QueueItemView = QueueItem;
