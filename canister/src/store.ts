// The canister's durable state: byte-keyed, byte-valued maps. In the canister
// each is an azle StableBTreeMap with raw serializers (index.ts); in Node unit
// tests an in-memory sorted map. Keys are built here so that related entries
// share a prefix (owner, blob) and numeric parts sort (big-endian).
import { concatBytes, u32be, u64be } from './bytes';
import { utf8 } from './codec';

export interface KV {
  get(key: Uint8Array): Uint8Array | undefined;
  has(key: Uint8Array): boolean;
  insert(key: Uint8Array, value: Uint8Array): void;
  remove(key: Uint8Array): void;
  /** Entries in key order from index `start` (O(start): use only from the front or on small maps). */
  items(start?: number, length?: number): Array<[Uint8Array, Uint8Array]>;
  keys(start?: number, length?: number): Uint8Array[];
  len(): number;
}

/** Stable memory ids of the maps (0-253 are ours in azle); never reuse or renumber one. */
export const MAP_IDS = {
  config: 0,
  owners: 1,
  memories: 2,
  memoryIndex: 3,
  idempotency: 4,
  assets: 5,
  galleries: 6,
  galleryIndex: 7,
  sessions: 8,
  chunks: 9,
  work: 10,
  finished: 11,
  proofs: 12,
  proofExpiry: 13,
  /** Blob id -> BlobRecord: bytes an owner stored once, with their reference count. */
  blobs: 14,
  /** ownerKey ++ sha256 -> blob id: the owner's bytes by content, for storing them once. */
  blobIndex: 15,
  /** memoryKey -> ThumbnailRecord. */
  thumbnails: 16,
  /** memoryKey -> u32 position in the owner's memory index (so a deletion finds its slot). */
  memorySeq: 17,
  /** The index this bucket answers to and the owners it admitted (admission.ts). */
  admission: 18,
} as const;

export type TableName = keyof typeof MAP_IDS;
export type Tables = Record<TableName, KV>;

/** `work` map values: what the sweeper still has to do for a session. */
export const WORK = {
  /** A live session: expire it when due, finish hashing a backlog. */
  live: 1,
  /** A session that ended (cancelled, expired, failed): free its remaining chunks. */
  free: 2,
  /** A blob no memory uses any more (key: blob id): free its chunks; the value's u32 after the kind is how many are left. */
  freeBlob: 3,
} as const;

export const CONFIG_KEY = new Uint8Array([0]);

/** Principal bytes prefixed with their length, so prefixes of different principals never collide. */
export function ownerKey(principal: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([principal.length]), principal);
}

export const memoryKey = (owner: Uint8Array, memoryId: Uint8Array): Uint8Array => concatBytes(ownerKey(owner), memoryId);
export const indexKey = (owner: Uint8Array, seq: number): Uint8Array => concatBytes(ownerKey(owner), u32be(seq));
export const idempotencyKey = (owner: Uint8Array, key: string): Uint8Array => concatBytes(ownerKey(owner), utf8(key));
export const chunkKey = (blob: Uint8Array, index: number): Uint8Array => concatBytes(blob, u32be(index));
export const finishedKey = (finishedAt: bigint, sessionId: Uint8Array): Uint8Array => concatBytes(u64be(finishedAt), sessionId);
export const blobIndexKey = (owner: Uint8Array, sha256: Uint8Array): Uint8Array => concatBytes(ownerKey(owner), sha256);
export const proofExpiryKey = (expiresAt: bigint, nonce: string): Uint8Array => concatBytes(u64be(expiresAt), utf8(nonce));

/** An in-memory KV ordered like StableBTreeMap (lexicographic bytes); for Node tests. */
export class MemoryKV implements KV {
  private readonly map = new Map<string, [Uint8Array, Uint8Array]>();
  private sorted: string[] | null = null;

  private static id(key: Uint8Array): string {
    let s = '';
    for (let i = 0; i < key.length; i++) s += key[i].toString(16).padStart(2, '0');
    return s;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const e = this.map.get(MemoryKV.id(key));
    return e ? e[1].slice() : undefined;
  }

  has(key: Uint8Array): boolean {
    return this.map.has(MemoryKV.id(key));
  }

  insert(key: Uint8Array, value: Uint8Array): void {
    const id = MemoryKV.id(key);
    if (!this.map.has(id)) this.sorted = null;
    this.map.set(id, [key.slice(), value.slice()]);
  }

  remove(key: Uint8Array): void {
    if (this.map.delete(MemoryKV.id(key))) this.sorted = null;
  }

  private order(): string[] {
    // Hex of the bytes sorts like the bytes, and a proper prefix sorts first, as in Rust's Vec<u8> order.
    this.sorted ??= [...this.map.keys()].sort();
    return this.sorted;
  }

  items(start = 0, length?: number): Array<[Uint8Array, Uint8Array]> {
    const ids = this.order().slice(start, length === undefined ? undefined : start + length);
    return ids.map((id) => {
      const [k, v] = this.map.get(id)!;
      return [k.slice(), v.slice()];
    });
  }

  keys(start = 0, length?: number): Uint8Array[] {
    return this.items(start, length).map(([k]) => k);
  }

  len(): number {
    return this.map.size;
  }
}

export function memoryTables(): Tables {
  return Object.fromEntries(Object.keys(MAP_IDS).map((n) => [n, new MemoryKV()])) as unknown as Tables;
}
