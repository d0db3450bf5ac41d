// Pure rules of the chunked upload protocol: chunk geometry, the received
// bitmap, session ids and the limits an administrator may set.
import { MAX_CHUNK_BYTES } from '../../contract';
import { invalid } from './errors';
import type { ConfigRecord, SessionRecord } from './records';

export const MIN_CHUNK_SIZE = 64;
export const MAX_CHUNK_SIZE = MAX_CHUNK_BYTES;
/** Keeps a session's bitmap (and the work to free it) small: at most 2^16 chunks per file. */
export const MAX_CHUNKS_PER_FILE = 65_536;
export const MAX_LIVE_SESSIONS_LIMIT = 64;
/** Sessions that ended stay readable this long (so late calls get a precise error), then are purged. */
export const FINISHED_RETENTION_NS = 24n * 3600n * 1_000_000_000n;
export const PROOF_TTL_NS = 5n * 60n * 1_000_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;

export function expectedChunkCount(totalSize: bigint, chunkSize: number): number {
  return Number((totalSize + BigInt(chunkSize) - 1n) / BigInt(chunkSize));
}

/** Length chunk `index` must have: every chunk is `chunkSize` long but the last, which holds the rest. */
export function chunkLength(s: Pick<SessionRecord, 'totalSize' | 'chunkCount' | 'chunkSize'>, index: number): number {
  if (index < s.chunkCount - 1) return s.chunkSize;
  return Number(s.totalSize - BigInt(s.chunkSize) * BigInt(s.chunkCount - 1));
}

export function validateUploadShape(cfg: ConfigRecord, chunkCount: number, totalSize: bigint): void {
  if (totalSize < 1n) throw invalid('total_size must be at least 1 byte');
  if (totalSize > cfg.maxFileSize) throw invalid(`total_size ${totalSize} exceeds the maximum file size of ${cfg.maxFileSize} bytes`);
  const expected = expectedChunkCount(totalSize, cfg.chunkSize);
  if (chunkCount !== expected) {
    throw invalid(`chunk_count ${chunkCount} does not match total_size ${totalSize} in chunks of ${cfg.chunkSize} bytes (expected ${expected})`);
  }
}

export function validateLimits(l: { max_file_size: bigint; chunk_size: number; session_ttl_seconds: number; max_live_sessions: number }): void {
  if (l.chunk_size < MIN_CHUNK_SIZE || l.chunk_size > MAX_CHUNK_SIZE) throw invalid(`chunk_size must be between ${MIN_CHUNK_SIZE} and ${MAX_CHUNK_SIZE}`);
  if (l.max_file_size < 1n) throw invalid('max_file_size must be at least 1 byte');
  if (expectedChunkCount(l.max_file_size, l.chunk_size) > MAX_CHUNKS_PER_FILE) {
    throw invalid(`max_file_size / chunk_size must be at most ${MAX_CHUNKS_PER_FILE} chunks`);
  }
  if (l.session_ttl_seconds < 10 || l.session_ttl_seconds > 7 * 24 * 3600) throw invalid('session_ttl_seconds must be between 10 s and 7 days');
  if (l.max_live_sessions < 1 || l.max_live_sessions > MAX_LIVE_SESSIONS_LIMIT) throw invalid(`max_live_sessions must be between 1 and ${MAX_LIVE_SESSIONS_LIMIT}`);
}

export function newBitmap(chunkCount: number): Uint8Array {
  return new Uint8Array((chunkCount + 7) >> 3);
}

export function hasBit(bits: Uint8Array, i: number): boolean {
  return (bits[i >> 3] & (1 << (i & 7))) !== 0;
}

export function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3] |= 1 << (i & 7);
}

export function clearBit(bits: Uint8Array, i: number): void {
  bits[i >> 3] &= ~(1 << (i & 7));
}

export function bitIndices(bits: Uint8Array, limit: number): number[] {
  const out: number[] = [];
  for (let byte = 0; byte < bits.length; byte++) {
    if (bits[byte] === 0) continue;
    for (let b = 0; b < 8; b++) {
      const i = byte * 8 + b;
      if (i < limit && bits[byte] & (1 << b)) out.push(i);
    }
  }
  return out;
}

export function popcount(bits: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) {
    let v = bits[i];
    while (v) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}

export function firstMissing(bits: Uint8Array, chunkCount: number): number {
  for (let i = 0; i < chunkCount; i++) if (!hasBit(bits, i)) return i;
  return -1;
}

/**
 * A session id the canister makes (UUID v7 layout): 48 bits of milliseconds,
 * then the canister-wide session counter, so ids never repeat.
 */
export function newSessionId(nowNs: bigint, counter: bigint): Uint8Array {
  const id = new Uint8Array(16);
  let ms = nowNs / 1_000_000n;
  for (let i = 5; i >= 0; i--) {
    id[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  id[6] = 0x70;
  id[7] = 0;
  let c = counter;
  for (let i = 15; i >= 9; i--) {
    id[i] = Number(c & 0xffn);
    c >>= 8n;
  }
  id[8] = 0x80 | Number(c & 0x3fn);
  return id;
}
