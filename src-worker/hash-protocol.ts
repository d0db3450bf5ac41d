// Messages between a page and hash.worker.ts (hashes and thumbnails).

export type HashRequest =
  | { type: 'hash'; jobId: number; blob: Blob; sliceSize?: number; /** 'wasm' (default, streaming) or 'webcrypto' (one-shot, for the benchmark baseline). */ algorithm?: 'wasm' | 'webcrypto' }
  | { type: 'cancel'; jobId: number }
  /** An image's bytes, or a video frame the page grabbed (transferred). */
  | { type: 'thumbnail'; jobId: number; source: Blob | ImageBitmap; maxBytes: number };

export type HashResponse =
  | { type: 'progress'; jobId: number; hashed: number; total: number }
  | { type: 'done'; jobId: number; sha256: string; ms: number }
  | { type: 'thumbnail-done'; jobId: number; blob: Blob | null }
  | { type: 'error'; jobId: number; name: string; message: string };
