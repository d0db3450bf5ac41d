/// <reference lib="webworker" />
// Dedicated worker: hashes Blobs off the main thread, one message per job,
// with progress (at most every 100 ms) and cancellation; makes thumbnails.
import { sha256Blob } from './hash-stream';
import { makeThumbnail } from './thumbnail';
import type { HashRequest, HashResponse } from './hash-protocol';
import { toHex } from '../src/lib/bytes';

const ctx = self as unknown as DedicatedWorkerGlobalScope;
const jobs = new Map<number, AbortController>();

function post(msg: HashResponse): void {
  ctx.postMessage(msg);
}

async function webcryptoDigest(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return toHex(digest);
}

ctx.onmessage = async (ev: MessageEvent<HashRequest>) => {
  const msg = ev.data;
  if (msg.type === 'cancel') {
    jobs.get(msg.jobId)?.abort();
    return;
  }
  if (msg.type === 'thumbnail') {
    try {
      post({ type: 'thumbnail-done', jobId: msg.jobId, blob: await makeThumbnail(msg.source, msg.maxBytes) });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', jobId: msg.jobId, name: e.name, message: e.message });
    }
    return;
  }
  const abort = new AbortController();
  jobs.set(msg.jobId, abort);
  const started = performance.now();
  let lastReport = 0;
  try {
    const sha256 =
      msg.algorithm === 'webcrypto'
        ? await webcryptoDigest(msg.blob)
        : await sha256Blob(msg.blob, {
            sliceSize: msg.sliceSize,
            signal: abort.signal,
            onProgress: (hashed, total) => {
              const now = performance.now();
              if (now - lastReport >= 100 || hashed === total) {
                lastReport = now;
                post({ type: 'progress', jobId: msg.jobId, hashed, total });
              }
            },
          });
    post({ type: 'done', jobId: msg.jobId, sha256, ms: performance.now() - started });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', jobId: msg.jobId, name: e.name, message: e.message });
  } finally {
    jobs.delete(msg.jobId);
  }
};
