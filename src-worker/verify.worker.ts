/// <reference lib="webworker" />
// Dedicated worker for View on ICP: the page reads a memory back from the
// canister chunk by chunk and hands each chunk here; this worker hashes them
// in order with hash-wasm (streaming, off the main thread) and answers the
// SHA-256 of the whole once the page says the last chunk was sent.
import { createSHA256, type IHasher } from 'hash-wasm';

export type VerifyRequest = { type: 'begin' } | { type: 'chunk'; bytes: Uint8Array } | { type: 'end' };
export type VerifyResponse = { type: 'digest'; sha256: string; bytes: number } | { type: 'error'; message: string };

const ctx = self as unknown as DedicatedWorkerGlobalScope;
let hasher: Promise<IHasher> | null = null;
let bytes = 0;

ctx.onmessage = async (ev: MessageEvent<VerifyRequest>) => {
  const msg = ev.data;
  try {
    if (msg.type === 'begin') {
      bytes = 0;
      hasher = createSHA256().then((h) => (h.init(), h));
      return;
    }
    if (!hasher) throw new Error('no verification in progress');
    const h = await hasher;
    if (msg.type === 'chunk') {
      h.update(msg.bytes);
      bytes += msg.bytes.byteLength;
      return;
    }
    const sha256 = h.digest('hex');
    hasher = null;
    ctx.postMessage({ type: 'digest', sha256, bytes } satisfies VerifyResponse);
  } catch (err) {
    ctx.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies VerifyResponse);
  }
};
