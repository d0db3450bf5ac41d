// The records the canister keeps in stable memory and their compact binary
// encodings (see codec.ts). Every record starts with a version byte so a later
// release can migrate lazily on read.
import { MAX_ACTIVE_UPLOADS, MAX_CHUNK_BYTES, MAX_FILE_BYTES, MEMORY_TYPE_VARIANTS, MiB, UPLOAD_SESSION_TTL_MS, type MemoryTypeVariant } from '../../contract';
import { Reader, Writer } from './codec';

/** The Candid variant names, in the order their index is stored in memory records (never reorder). */
export const MEMORY_TYPES = MEMORY_TYPE_VARIANTS;
export type MemoryTypeName = MemoryTypeVariant;

export interface MetadataRecord {
  title: string;
  description?: string;
  tags: string[];
  fileName?: string;
  mimeType?: string;
  takenAtMs?: bigint;
}

export interface MemoryRecord {
  memoryType: MemoryTypeName;
  metadata: MetadataRecord;
  createdAt: bigint;
  updatedAt: bigint;
}

/** A committed asset. Its chunks stay where the upload session wrote them (`blob` = session id), possibly shared by other memories of the owner (BlobRecord). */
export interface AssetRecord {
  sha256: Uint8Array;
  size: bigint;
  chunkCount: number;
  chunkSize: number;
  committedAt: bigint;
  blob: Uint8Array;
}

/**
 * Bytes an owner stored once (key: the blob id, the id of the session that
 * uploaded them), with the number of the owner's assets that point at them.
 * Assets committed before blob records existed have none: they count as one
 * reference.
 */
export interface BlobRecord {
  owner: Uint8Array;
  sha256: Uint8Array;
  size: bigint;
  chunkCount: number;
  chunkSize: number;
  refs: number;
}

export interface ThumbnailRecord {
  mimeType: string;
  sha256: Uint8Array;
  bytes: Uint8Array;
}

export interface GalleryRecord {
  title: string;
  description?: string;
  memoryIds: Uint8Array[];
  createdAt: bigint;
  updatedAt: bigint;
}

export interface OwnerRecord {
  usedBytes: bigint;
  memoryCount: number;
  galleryCount: number;
  assetCount: number;
  quota?: bigint;
  /** Sessions counted against the live-session limit (status Live), oldest first. */
  liveSessions: Uint8Array[];
}

export const SessionStatus = {
  Live: 0,
  Committed: 1,
  Cancelled: 2,
  Expired: 3,
  /** All chunks arrived but their hash differs from the expected one. */
  Failed: 4,
} as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];

export interface SessionRecord {
  id: Uint8Array;
  owner: Uint8Array;
  memoryId: Uint8Array;
  expectedSha256: Uint8Array;
  totalSize: bigint;
  chunkCount: number;
  chunkSize: number;
  status: SessionStatus;
  createdAt: bigint;
  expiresAt: bigint;
  /** When the session left Live (committed, cancelled, expired, failed); 0 while live. */
  finishedAt: bigint;
  chunksReceived: number;
  bytesReceived: bigint;
  /** Bit i set = chunk i is stored. Cleared chunk by chunk when chunks are freed. */
  received: Uint8Array;
  /** Chunks 0..hashedChunks-1 are folded into `hashState`. */
  hashedChunks: number;
  hashState: Uint8Array;
  /** Set once every chunk is hashed. */
  digest?: Uint8Array;
}

export interface ProofRecord {
  principal: Uint8Array;
  expiresAt: bigint;
}

export interface ConfigRecord {
  maxFileSize: bigint;
  chunkSize: number;
  sessionTtlSeconds: number;
  maxLiveSessions: number;
  defaultQuotaBytes: bigint;
  /** Feeds canister-made session ids. */
  sessionCounter: bigint;
  storedBytes: bigint;
  assets: bigint;
  verifiers: Uint8Array[];
}

const V1 = 1;

function version(r: Reader, what: string): void {
  const v = r.u8();
  if (v !== V1) throw new Error(`unknown ${what} record version ${v}`);
}

function optBytes(w: Writer, b: Uint8Array | undefined): void {
  if (b === undefined) w.u8(0);
  else w.u8(1).bytes(b);
}

function readOptBytes(r: Reader): Uint8Array | undefined {
  return r.u8() === 0 ? undefined : r.bytes();
}

export function encodeMemory(m: MemoryRecord): Uint8Array {
  const w = new Writer(64 + m.metadata.title.length)
    .u8(V1)
    .u8(MEMORY_TYPES.indexOf(m.memoryType))
    .text(m.metadata.title)
    .optText(m.metadata.description)
    .u32(m.metadata.tags.length);
  for (const t of m.metadata.tags) w.text(t);
  return w.optText(m.metadata.fileName).optText(m.metadata.mimeType).optU64(m.metadata.takenAtMs).u64(m.createdAt).u64(m.updatedAt).done();
}

export function decodeMemory(b: Uint8Array): MemoryRecord {
  const r = new Reader(b);
  version(r, 'memory');
  const memoryType = MEMORY_TYPES[r.u8()];
  if (memoryType === undefined) throw new Error('unknown memory type in record');
  const title = r.text();
  const description = r.optText();
  const tags: string[] = [];
  for (let n = r.u32(); n > 0; n--) tags.push(r.text());
  const fileName = r.optText();
  const mimeType = r.optText();
  const takenAtMs = r.optU64();
  return { memoryType, metadata: { title, description, tags, fileName, mimeType, takenAtMs }, createdAt: r.u64(), updatedAt: r.u64() };
}

export function encodeAsset(a: AssetRecord): Uint8Array {
  return new Writer(100).u8(V1).raw(a.sha256).u64(a.size).u32(a.chunkCount).u32(a.chunkSize).u64(a.committedAt).raw(a.blob).done();
}

export function decodeAsset(b: Uint8Array): AssetRecord {
  const r = new Reader(b);
  version(r, 'asset');
  return { sha256: r.raw(32), size: r.u64(), chunkCount: r.u32(), chunkSize: r.u32(), committedAt: r.u64(), blob: r.raw(16) };
}

export function encodeBlob(b: BlobRecord): Uint8Array {
  return new Writer(96).u8(V1).bytes(b.owner).raw(b.sha256).u64(b.size).u32(b.chunkCount).u32(b.chunkSize).u32(b.refs).done();
}

export function decodeBlob(b: Uint8Array): BlobRecord {
  const r = new Reader(b);
  version(r, 'blob');
  return { owner: r.bytes(), sha256: r.raw(32), size: r.u64(), chunkCount: r.u32(), chunkSize: r.u32(), refs: r.u32() };
}

export function encodeThumbnail(t: ThumbnailRecord): Uint8Array {
  return new Writer(48 + t.bytes.length).u8(V1).text(t.mimeType).raw(t.sha256).bytes(t.bytes).done();
}

export function decodeThumbnail(b: Uint8Array): ThumbnailRecord {
  const r = new Reader(b);
  version(r, 'thumbnail');
  return { mimeType: r.text(), sha256: r.raw(32), bytes: r.bytes() };
}

export function encodeGallery(g: GalleryRecord): Uint8Array {
  const w = new Writer(64 + g.memoryIds.length * 16).u8(V1).text(g.title).optText(g.description).u32(g.memoryIds.length);
  for (const id of g.memoryIds) w.raw(id);
  return w.u64(g.createdAt).u64(g.updatedAt).done();
}

export function decodeGallery(b: Uint8Array): GalleryRecord {
  const r = new Reader(b);
  version(r, 'gallery');
  const title = r.text();
  const description = r.optText();
  const memoryIds: Uint8Array[] = [];
  for (let n = r.u32(); n > 0; n--) memoryIds.push(r.raw(16));
  return { title, description, memoryIds, createdAt: r.u64(), updatedAt: r.u64() };
}

export function newOwner(): OwnerRecord {
  return { usedBytes: 0n, memoryCount: 0, galleryCount: 0, assetCount: 0, quota: undefined, liveSessions: [] };
}

export function encodeOwner(o: OwnerRecord): Uint8Array {
  const w = new Writer(64).u8(V1).u64(o.usedBytes).u32(o.memoryCount).u32(o.galleryCount).u32(o.assetCount).optU64(o.quota).u8(o.liveSessions.length);
  for (const s of o.liveSessions) w.raw(s);
  return w.done();
}

export function decodeOwner(b: Uint8Array): OwnerRecord {
  const r = new Reader(b);
  version(r, 'owner');
  const o: OwnerRecord = { usedBytes: r.u64(), memoryCount: r.u32(), galleryCount: r.u32(), assetCount: r.u32(), quota: r.optU64(), liveSessions: [] };
  for (let n = r.u8(); n > 0; n--) o.liveSessions.push(r.raw(16));
  return o;
}

export function encodeSession(s: SessionRecord): Uint8Array {
  const w = new Writer(256 + s.received.length)
    .u8(V1)
    .raw(s.id)
    .bytes(s.owner)
    .raw(s.memoryId)
    .raw(s.expectedSha256)
    .u64(s.totalSize)
    .u32(s.chunkCount)
    .u32(s.chunkSize)
    .u8(s.status)
    .u64(s.createdAt)
    .u64(s.expiresAt)
    .u64(s.finishedAt)
    .u32(s.chunksReceived)
    .u64(s.bytesReceived)
    .bytes(s.received)
    .u32(s.hashedChunks)
    .bytes(s.hashState);
  optBytes(w, s.digest);
  return w.done();
}

export function decodeSession(b: Uint8Array): SessionRecord {
  const r = new Reader(b);
  version(r, 'session');
  return {
    id: r.raw(16),
    owner: r.bytes(),
    memoryId: r.raw(16),
    expectedSha256: r.raw(32),
    totalSize: r.u64(),
    chunkCount: r.u32(),
    chunkSize: r.u32(),
    status: r.u8() as SessionStatus,
    createdAt: r.u64(),
    expiresAt: r.u64(),
    finishedAt: r.u64(),
    chunksReceived: r.u32(),
    bytesReceived: r.u64(),
    received: r.bytes(),
    hashedChunks: r.u32(),
    hashState: r.bytes(),
    digest: readOptBytes(r),
  };
}

export function encodeProof(p: ProofRecord): Uint8Array {
  return new Writer(48).u8(V1).bytes(p.principal).u64(p.expiresAt).done();
}

export function decodeProof(b: Uint8Array): ProofRecord {
  const r = new Reader(b);
  version(r, 'proof');
  return { principal: r.bytes(), expiresAt: r.u64() };
}

export { MiB };

export function defaultConfig(): ConfigRecord {
  return {
    // 100 MiB per file: exactly 100 chunks of 1 MiB.
    maxFileSize: BigInt(MAX_FILE_BYTES),
    chunkSize: MAX_CHUNK_BYTES,
    sessionTtlSeconds: UPLOAD_SESSION_TTL_MS / 1000,
    maxLiveSessions: MAX_ACTIVE_UPLOADS,
    defaultQuotaBytes: 10n * 1024n * BigInt(MiB),
    sessionCounter: 0n,
    storedBytes: 0n,
    assets: 0n,
    verifiers: [],
  };
}

export function encodeConfig(c: ConfigRecord): Uint8Array {
  const w = new Writer(128)
    .u8(V1)
    .u64(c.maxFileSize)
    .u32(c.chunkSize)
    .u32(c.sessionTtlSeconds)
    .u32(c.maxLiveSessions)
    .u64(c.defaultQuotaBytes)
    .u64(c.sessionCounter)
    .u64(c.storedBytes)
    .u64(c.assets)
    .u32(c.verifiers.length);
  for (const v of c.verifiers) w.bytes(v);
  return w.done();
}

export function decodeConfig(b: Uint8Array): ConfigRecord {
  const r = new Reader(b);
  version(r, 'config');
  const c: ConfigRecord = {
    maxFileSize: r.u64(),
    chunkSize: r.u32(),
    sessionTtlSeconds: r.u32(),
    maxLiveSessions: r.u32(),
    defaultQuotaBytes: r.u64(),
    sessionCounter: r.u64(),
    storedBytes: r.u64(),
    assets: r.u64(),
    verifiers: [],
  };
  for (let n = r.u32(); n > 0; n--) c.verifiers.push(r.bytes());
  return c;
}
