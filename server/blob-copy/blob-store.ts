// The blob store port: content-addressed bytes. `put` is idempotent by hash,
// which is what makes a queue retry after a crash safe (storing twice writes
// one blob).
export interface StoredBlob {
  /** Opaque location recorded on the storage edge (e.g. `blob:sha256/<hex>`). */
  location: string;
  /** False when the blob already existed. */
  created: boolean;
}

export interface BlobStore {
  put(sha256: string, bytes: Uint8Array): Promise<StoredBlob>;
  get(sha256: string): Promise<Uint8Array | null>;
  has(sha256: string): Promise<boolean>;
  /** Size in bytes, or null when there is no such blob. */
  size(sha256: string): Promise<number | null>;
  /** Bytes `start` to `end` (inclusive) as a stream; the blob must exist. */
  stream(sha256: string, start: number, end: number): ReadableStream<Uint8Array>;
  /** Removes the blob; false when there was none. */
  delete(sha256: string): Promise<boolean>;
  /** Removes leftovers of writes a crash interrupted; run once at start. */
  sweep?(): Promise<number>;
}

export class BlobStoreError extends Error {
  /** Short machine-readable reason for metrics (`io`, `unavailable`, ...). */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreError';
    this.reason = reason;
  }
}
