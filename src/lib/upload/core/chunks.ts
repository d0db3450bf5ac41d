// Chunk arithmetic. Pure. The limits themselves are the contract's
// (MAX_CHUNK_BYTES, MAX_FILE_BYTES); the canister's get_limits has the last word.

export function chunkCount(size: number, chunkSize: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`invalid chunk size ${chunkSize}`);
  // An empty file is one empty chunk, so every asset has at least one put_chunk.
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Byte range [start, end) of chunk `index`. */
export function chunkRange(index: number, size: number, chunkSize: number): [number, number] {
  const start = index * chunkSize;
  return [start, Math.min(size, start + chunkSize)];
}

/** Indices not yet received, ascending (the canister hashes contiguous chunks as they arrive). */
export function missingChunks(count: number, received: Iterable<number>): number[] {
  const have = new Set(received);
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!have.has(i)) out.push(i);
  return out;
}
