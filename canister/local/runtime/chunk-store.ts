// A canister's Wasm chunk store: the chunks `upload_chunk` keeps so a module
// larger than one message (2 MiB) can be installed with
// `install_chunked_code`. As on the replica: each chunk at most 1 MiB, keyed
// by its SHA-256, re-uploading a stored chunk is free, and the store holds at
// most 100 chunks (100 MiB, the replica's Wasm size limit). Pure: the files
// behind it are the persistence layer's.
import { createHash } from 'node:crypto';

export const CHUNK_MAX_BYTES = 1024 * 1024;
export const CHUNK_STORE_MAX_CHUNKS = 100;

export class ChunkStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkStoreError';
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class ChunkStore {
  private readonly chunks = new Map<string, Uint8Array>();

  get size(): number {
    return this.chunks.size;
  }

  /** Bytes the store is charged for: every chunk counts as a full 1 MiB, as on the replica. */
  get chargedBytes(): number {
    return this.chunks.size * CHUNK_MAX_BYTES;
  }

  /** Stores a chunk; returns its hash and whether it was new (to persist). */
  insert(chunk: Uint8Array): { hash: Uint8Array; added: boolean } {
    const hash = new Uint8Array(createHash('sha256').update(chunk).digest());
    const key = hex(hash);
    if (this.chunks.has(key)) return { hash, added: false };
    if (chunk.length > CHUNK_MAX_BYTES) {
      throw new ChunkStoreError(`Wasm chunk size ${chunk.length} exceeds the maximum chunk size of ${CHUNK_MAX_BYTES}`);
    }
    if (this.chunks.size >= CHUNK_STORE_MAX_CHUNKS) {
      throw new ChunkStoreError(
        `Wasm chunk store has already reached maximum capacity of ${CHUNK_STORE_MAX_CHUNKS * CHUNK_MAX_BYTES} bytes`,
      );
    }
    this.chunks.set(key, new Uint8Array(chunk));
    return { hash, added: true };
  }

  /** Loads a persisted chunk (trusted: written by `insert` before). */
  restore(hashHex: string, chunk: Uint8Array): void {
    this.chunks.set(hashHex, chunk);
  }

  hashes(): Uint8Array[] {
    return [...this.chunks.keys()].map((k) => new Uint8Array(Buffer.from(k, 'hex')));
  }

  entries(): [string, Uint8Array][] {
    return [...this.chunks.entries()];
  }

  clear(): void {
    this.chunks.clear();
  }

  /**
   * Concatenates the listed chunks into a module and checks its SHA-256
   * against `expected`, with the replica's wording for each failure.
   */
  assemble(hashes: Uint8Array[], expected: Uint8Array): Uint8Array {
    if (expected.length !== 32) throw new ChunkStoreError(`Invalid wasm hash ${JSON.stringify([...expected])}`);
    const parts: Uint8Array[] = [];
    for (const h of hashes) {
      if (h.length !== 32) throw new ChunkStoreError('Chunk hash is invalid. The length is not 32');
      const chunk = this.chunks.get(hex(h));
      if (!chunk) throw new ChunkStoreError(`Chunk hash ${hex(h)} was not found`);
      parts.push(chunk);
    }
    const wasm = new Uint8Array(Buffer.concat(parts));
    const actual = new Uint8Array(createHash('sha256').update(wasm).digest());
    if (hex(actual) !== hex(expected)) {
      throw new ChunkStoreError(`Wasm module hash ${hex(actual)} does not match given hash ${hex(expected)}`);
    }
    return wasm;
  }
}
