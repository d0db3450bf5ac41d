// Streaming SHA-256 of a Blob with hash-wasm: reads `sliceSize` slices and
// starts reading the next slice while the current one is hashed, so the file
// is never in memory as a whole (at most two slices). Runs wherever Blob and
// WebAssembly exist: the hash worker, the service worker, Node.
import { createSHA256 } from 'hash-wasm';

export const DEFAULT_SLICE = 4 * 1024 * 1024;

export interface HashOptions {
  sliceSize?: number;
  signal?: AbortSignal;
  /** Called after each slice with bytes hashed so far. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
}

export class HashAbortedError extends Error {
  constructor() {
    super('Hashing cancelled');
    this.name = 'AbortError';
  }
}

export async function sha256Blob(blob: Blob, opts: HashOptions = {}): Promise<string> {
  const sliceSize = opts.sliceSize ?? DEFAULT_SLICE;
  const hasher = await createSHA256();
  hasher.init();
  const size = blob.size;
  const read = (start: number) => blob.slice(start, Math.min(size, start + sliceSize)).arrayBuffer();
  let offset = 0;
  let next: Promise<ArrayBuffer> | null = size > 0 ? read(0) : null;
  while (next) {
    const buf = await next;
    if (opts.signal?.aborted) throw new HashAbortedError();
    offset += buf.byteLength;
    // Read ahead: the next slice loads while this one is hashed.
    next = offset < size ? read(offset) : null;
    hasher.update(new Uint8Array(buf));
    opts.onProgress?.(offset, size);
  }
  return hasher.digest('hex');
}
