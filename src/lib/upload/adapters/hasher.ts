// Hashers the engine uses. In a page: a dedicated worker (never the main
// thread). In the service worker (which cannot start workers) and in Node:
// the same streaming code inline, since those are already off the main thread.
import { MAX_THUMBNAIL_BYTES } from '../../../../contract';
import { sha256Blob } from '../../../../src-worker/hash-stream';
import type { HashRequest, HashResponse } from '../../../../src-worker/hash-protocol';
import { makeThumbnail } from '../../../../src-worker/thumbnail';
import { HasherUnavailableError } from '../core/errors';
import type { Thumbnailer } from '../core/ports';

export interface HashJobOptions {
  signal?: AbortSignal;
  onProgress?: (hashed: number, total: number) => void;
}

export interface Hasher {
  sha256(blob: Blob, opts?: HashJobOptions): Promise<string>;
}

export const inlineHasher: Hasher = {
  sha256: (blob, opts) => sha256Blob(blob, opts),
};

/** Which memories get a thumbnail made from their own bytes (videos get a poster frame from the page instead). */
export function thumbnailable(mimeType: string): boolean {
  return mimeType.startsWith('image/') && mimeType !== 'image/svg+xml';
}

/** Thumbnails in this context (the service worker; nothing to make in Node, which has no OffscreenCanvas). */
export const inlineThumbnailer: Thumbnailer = {
  thumbnail: (source, mimeType) => (thumbnailable(mimeType) ? makeThumbnail(source, MAX_THUMBNAIL_BYTES) : Promise.resolve(null)),
};

interface PendingJob {
  resolve: (v: { sha256: string; ms: number }) => void;
  reject: (e: Error) => void;
  onProgress?: (hashed: number, total: number) => void;
}

/** A hasher for a page whose worker could not be created: every job waits for a retry. */
export function unavailableHasher(err: HasherUnavailableError): Hasher {
  return { sha256: () => Promise.reject(err) };
}

/**
 * The page's hasher across drains: one worker, created on the first job and
 * reused (each drain builds a fresh engine; a worker per drain would pile up
 * idle workers). A worker that became unavailable is ended and replaced on
 * the next job, so a page that recovers (the script is back) hashes again.
 */
export function reusableHasher(create: () => Hasher): Hasher & { thumbnail(source: Blob | ImageBitmap, mimeType?: string): Promise<Blob | null> } {
  let current: Hasher | null = null;
  return {
    async thumbnail(source, mimeType) {
      current ??= create();
      // Thumbnails are a nicety: a page without a working worker makes none.
      if (!(current instanceof WorkerHasher)) return null;
      return current.thumbnail(source, mimeType).catch(() => null);
    },
    async sha256(blob, opts) {
      current ??= create();
      try {
        return await current.sha256(blob, opts);
      } catch (err) {
        if (err instanceof HasherUnavailableError) {
          if (current instanceof WorkerHasher) current.terminate();
          current = null;
        }
        throw err;
      }
    },
  };
}

export class WorkerHasher implements Hasher, Thumbnailer {
  private nextJob = 1;
  private readonly pending = new Map<number, PendingJob>();
  private readonly thumbnails = new Map<number, { resolve: (b: Blob | null) => void; reject: (e: Error) => void }>();
  /** Set once the worker failed: a job posted to a dead worker would never be answered. */
  private broken: HasherUnavailableError | null = null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<HashResponse>) => {
      const msg = ev.data;
      const thumb = this.thumbnails.get(msg.jobId);
      if (thumb) {
        this.thumbnails.delete(msg.jobId);
        if (msg.type === 'thumbnail-done') thumb.resolve(msg.blob);
        else if (msg.type === 'error') thumb.reject(Object.assign(new Error(msg.message), { name: msg.name }));
        return;
      }
      const job = this.pending.get(msg.jobId);
      if (!job) return;
      if (msg.type === 'progress') {
        job.onProgress?.(msg.hashed, msg.total);
        return;
      }
      this.pending.delete(msg.jobId);
      if (msg.type === 'done') job.resolve({ sha256: msg.sha256, ms: msg.ms });
      else if (msg.type === 'error') {
        const e = new Error(msg.message);
        e.name = msg.name;
        job.reject(e);
      }
    };
    // A worker that fails to load (its script 404s after a deploy: a plain
    // Event, no message) or crashes would leave every job hanging. That is
    // the page's fault, not the file's: HasherUnavailable makes items wait.
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      const err = new HasherUnavailableError(`hash worker failed: ${ev.message || 'it did not load'}`);
      this.broken = err;
      worker.terminate();
      for (const job of this.pending.values()) job.reject(err);
      this.pending.clear();
      for (const job of this.thumbnails.values()) job.reject(err);
      this.thumbnails.clear();
    };
  }

  /** Starts the hash worker bundled by Vite; if the browser refuses to create it, a hasher whose jobs wait for a retry. */
  static create(): Hasher {
    try {
      return new WorkerHasher(new Worker(new URL('../../../../src-worker/hash.worker.ts', import.meta.url), { type: 'module' }));
    } catch (err) {
      return unavailableHasher(new HasherUnavailableError(`hash worker not created: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  async sha256(blob: Blob, opts: HashJobOptions = {}): Promise<string> {
    return (await this.run(blob, opts)).sha256;
  }

  /** Hash with timing measured inside the worker; `algorithm: 'webcrypto'` is the benchmark's baseline. */
  run(blob: Blob, opts: HashJobOptions & { sliceSize?: number; algorithm?: 'wasm' | 'webcrypto' } = {}): Promise<{ sha256: string; ms: number }> {
    const jobId = this.nextJob++;
    return new Promise((resolve, reject) => {
      if (this.broken) {
        reject(this.broken);
        return;
      }
      if (opts.signal?.aborted) {
        reject(opts.signal.reason instanceof Error ? opts.signal.reason : new DOMException('Hashing cancelled', 'AbortError'));
        return;
      }
      this.pending.set(jobId, { resolve, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => this.worker.postMessage({ type: 'cancel', jobId } satisfies HashRequest), { once: true });
      this.worker.postMessage({ type: 'hash', jobId, blob, sliceSize: opts.sliceSize, algorithm: opts.algorithm } satisfies HashRequest);
    });
  }

  /** A thumbnail of an image's bytes, or of a frame the page grabbed (transferred to the worker). */
  thumbnail(source: Blob | ImageBitmap, mimeType = 'image/*'): Promise<Blob | null> {
    if (source instanceof Blob && !thumbnailable(mimeType)) return Promise.resolve(null);
    const jobId = this.nextJob++;
    return new Promise((resolve, reject) => {
      if (this.broken) {
        reject(this.broken);
        return;
      }
      this.thumbnails.set(jobId, { resolve, reject });
      const msg: HashRequest = { type: 'thumbnail', jobId, source, maxBytes: MAX_THUMBNAIL_BYTES };
      if (source instanceof Blob) this.worker.postMessage(msg);
      else this.worker.postMessage(msg, [source]);
    });
  }

  terminate(): void {
    this.worker.terminate();
    const err = new Error('hash worker terminated');
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}
