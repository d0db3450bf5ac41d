// Messages between a page and hash.worker.ts.

export type HashRequest =
  | { type: 'hash'; jobId: number; blob: Blob; sliceSize?: number; /** 'wasm' (default, streaming) or 'webcrypto' (one-shot, for the benchmark baseline). */ algorithm?: 'wasm' | 'webcrypto' }
  | { type: 'cancel'; jobId: number };

export type HashResponse =
  | { type: 'progress'; jobId: number; hashed: number; total: number }
  | { type: 'done'; jobId: number; sha256: string; ms: number }
  | { type: 'error'; jobId: number; name: string; message: string };
