// View on ICP: read a memory's bytes back from the canister (read_chunk, one
// query per chunk, in order), re-hash them in the verify worker, and compare
// with the hash the canister recorded at commit and the one the server holds.
import type { CanisterReader } from '../api/canister';
import type { VerifyRequest, VerifyResponse } from '$worker/verify.worker';

export type VerifyOutcome =
  | { kind: 'verified'; sha256: string; bytes: number; chunks: number }
  | { kind: 'mismatch'; expected: string; actual: string; bytes: number; chunks: number }
  | { kind: 'missing'; message: string };

export interface VerifyProgress {
  chunk: number;
  chunks: number;
  bytes: number;
}

export async function verifyOnIcp(canister: CanisterReader, memoryId: string, onProgress?: (p: VerifyProgress) => void, blobs?: (b: Uint8Array) => void): Promise<VerifyOutcome> {
  const memory = await canister.getMemory(memoryId);
  if (!memory) return { kind: 'missing', message: 'The Internet Computer has no memory with this id for you.' };
  if (!memory.asset) return { kind: 'missing', message: memory.memoryType === 'note' ? 'A note has no file: its text is its metadata.' : 'The Internet Computer holds this memory\'s details but not its file yet.' };
  const expected = memory.asset.sha256;
  const worker = new Worker(new URL('../../../src-worker/verify.worker.ts', import.meta.url), { type: 'module' });
  try {
    const digest = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<VerifyResponse>) => (ev.data.type === 'digest' ? resolve(ev.data) : reject(new Error(ev.data.message)));
      worker.onerror = (ev) => reject(new Error(ev.message || 'the verify worker failed to start'));
    });
    const post = (m: VerifyRequest, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
    post({ type: 'begin' });
    let bytes = 0;
    const chunks = memory.asset.chunkCount;
    for (let i = 0; i < chunks; i++) {
      const chunk = await canister.readChunk(memoryId, i);
      bytes += chunk.byteLength;
      blobs?.(chunk.slice());
      post({ type: 'chunk', bytes: chunk }, [chunk.buffer]);
      onProgress?.({ chunk: i + 1, chunks, bytes });
    }
    post({ type: 'end' });
    const got = await digest;
    if (got.sha256 === expected && got.bytes === memory.asset.size) return { kind: 'verified', sha256: got.sha256, bytes: got.bytes, chunks };
    return { kind: 'mismatch', expected, actual: got.sha256, bytes: got.bytes, chunks };
  } finally {
    worker.terminate();
  }
}
