// Moving one owner's data to another bucket, the bucket's side (the index
// drives the move: canister/src/index-canister/move.ts). Controllers only.
//
// The source freezes the owner (their writes get `Moving`, reads still
// work), then hands out its records page by page, and each asset's chunks
// one at a time through read_chunk's path. The target takes them in through
// its own write paths: memory and gallery records are inserted once by key,
// thumbnails through set_thumbnail, and every asset through an upload
// session (begin_asset_upload, put_chunk, commit_asset), so the target hashes
// the bytes natively and commits only what matches the SHA-256 the source
// recorded, allocates its own blob ids (the source's could collide with its
// own), stores an owner's identical bytes once and counts usage as for any
// upload. Every import call is idempotent: a page sent again after a crash
// writes nothing twice, and an asset's progress is its session's.
//
// Not moved: live upload sessions (the client starts them again on the new
// bucket) and idempotency keys of past upserts (an upsert is idempotent by
// its memory id anyway); they are left to the source's deletion and sweeper.
import { Principal } from '@dfinity/principal';
import { bytesEqual, u32be } from './bytes';
import type { AssetInfo, TransferSummary } from './candid-types';
import { utf8 } from './codec';
import { Fail, invalid, notFound } from './errors';
import { delete_memory } from './memories';
import { decodeAsset, decodeGallery, decodeMemory, decodeProof, decodeThumbnail, encodeAsset, encodeProof, SessionStatus } from './records';
import { type Bytes, type Env, opt, type State, WORK_BUDGET } from './state';
import { indexKey, memoryKey, ownerKey, proofExpiryKey } from './store';
import { set_thumbnail } from './thumbnails';
import { begin_asset_upload, commit_asset, finish, put_chunk, read_chunk } from './uploads';
import { checkNonce, uuidBytes, uuidText } from './validate';

/** An owner's transfer state on this bucket (the `transfers` map's value). */
export const TRANSFER = {
  /** This bucket is the source: the owner is frozen, their data is being copied or deleted. */
  outgoing: 1,
  /** This bucket is the target: the owner's data is arriving. */
  incoming: 2,
} as const;

/** Bytes of records one export page may carry: the reply stays well under the 2 MiB message limit. */
const PAGE_BYTES = 1024 * 1024;
const PAGE_ITEMS = 100;
const PROOF_SCAN = 200;
/** The quota an owner has while their data arrives: the source's usage fits whatever the target's default is. */
const IMPORT_QUOTA = (1n << 64n) - 1n;
/** Deletion stops here and answers "not done": the index calls again. */
const DELETE_BUDGET = WORK_BUDGET / 2n;

function stateOf(st: State, owner: Uint8Array): number | undefined {
  const v = st.t.transfers.get(ownerKey(owner));
  return v ? v[0] : undefined;
}

/** Owner writes are refused while the owner's data is moving in or out of this bucket. */
export function refuseIfMoving(env: Env, st: State): void {
  if (env.caller.isAnonymous()) return;
  if (st.t.transfers.has(ownerKey(env.caller.toUint8Array()))) throw new Fail({ Moving: null });
}

/** The environment of a write made on the owner's behalf (the import replays the owner's own calls). */
const asOwner = (env: Env, owner: Uint8Array): Env => ({ ...env, caller: Principal.fromUint8Array(owner) });

function ownerArg(p: Principal): Uint8Array {
  if (p.isAnonymous()) throw invalid('the anonymous principal has no data');
  return p.toUint8Array();
}

function require(st: State, owner: Uint8Array, want: number): void {
  const s = stateOf(st, owner);
  if (s === want) return;
  if (want === TRANSFER.outgoing) throw invalid('this owner is not frozen on this bucket (freeze_owner first)');
  throw invalid('this bucket is not importing this owner (begin_import first)');
}

export function summaryOf(st: State, owner: Uint8Array): TransferSummary {
  const o = st.owner(owner);
  return { used_bytes: o.usedBytes, memories: o.memoryCount, galleries: o.galleryCount, assets: o.assetCount, quota: opt(o.quota) };
}

// ------------------------------------------------------------- source

/** Freezes the owner's writes and reports what there is to copy. Idempotent. */
export function freeze_owner(env: Env, st: State, p: Principal): TransferSummary {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  const s = stateOf(st, owner);
  if (s === TRANSFER.incoming) throw invalid('this bucket is importing this owner; it cannot be the source');
  if (s === undefined) st.t.transfers.insert(ownerKey(owner), new Uint8Array([TRANSFER.outgoing]));
  return summaryOf(st, owner);
}

/** The owner's usage as this bucket counts it (controllers; the index compares it). */
export function transfer_summary(env: Env, st: State, p: Principal): TransferSummary {
  st.requireAdmin(env);
  return summaryOf(st, ownerArg(p));
}

export function export_memories(env: Env, st: State, p: Principal, start: number) {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.outgoing);
  const o = st.owner(owner);
  const items: { id: string; record: Uint8Array; thumbnail: [] | [Uint8Array] }[] = [];
  let bytes = 0;
  let at = start;
  for (; at < o.memoryCount && items.length < PAGE_ITEMS; at++) {
    const id = st.t.memoryIndex.get(indexKey(owner, at));
    const key = id && memoryKey(owner, id);
    const record = key && st.t.memories.get(key);
    if (!id || !key || !record) throw new Fail({ Internal: `memory index ${at} broken` });
    const tb = st.t.thumbnails.get(key);
    const thumbnail = tb ? decodeThumbnail(tb).bytes : undefined;
    const size = record.length + (thumbnail?.length ?? 0) + 64;
    if (items.length > 0 && bytes + size > PAGE_BYTES) break;
    bytes += size;
    items.push({ id: uuidText(id), record, thumbnail: opt(thumbnail) });
  }
  return { items, next: at < o.memoryCount ? ([at] as [number]) : ([] as []) };
}

/** The owner's assets, by the position of their memory in the owner's index. */
export function export_assets(env: Env, st: State, p: Principal, start: number) {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.outgoing);
  const o = st.owner(owner);
  const items: AssetInfo[] = [];
  const end = Math.min(o.memoryCount, start + PAGE_ITEMS);
  for (let at = start; at < end; at++) {
    const id = st.t.memoryIndex.get(indexKey(owner, at));
    if (!id) throw new Fail({ Internal: `memory index ${at} broken` });
    const ab = st.t.assets.get(memoryKey(owner, id));
    if (!ab) continue;
    const a = decodeAsset(ab);
    items.push({ memory_id: uuidText(id), sha256: a.sha256, size: a.size, chunk_count: a.chunkCount, chunk_size: a.chunkSize, committed_at: a.committedAt });
  }
  return { items, next: end < o.memoryCount ? ([end] as [number]) : ([] as []) };
}

/** One chunk of one of the owner's assets, read as read_chunk reads it. */
export function export_chunk(env: Env, st: State, p: Principal, memoryId: string, index: number): Uint8Array {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.outgoing);
  return read_chunk(asOwner(env, owner), st, memoryId, index);
}

export function export_galleries(env: Env, st: State, p: Principal, start: number) {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.outgoing);
  const o = st.owner(owner);
  const items: { id: string; record: Uint8Array }[] = [];
  let bytes = 0;
  let at = start;
  for (; at < o.galleryCount && items.length < PAGE_ITEMS; at++) {
    const id = st.t.galleryIndex.get(indexKey(owner, at));
    const record = id && st.t.galleries.get(memoryKey(owner, id));
    if (!id || !record) throw new Fail({ Internal: `gallery index ${at} broken` });
    if (items.length > 0 && bytes + record.length + 64 > PAGE_BYTES) break;
    bytes += record.length + 64;
    items.push({ id: uuidText(id), record });
  }
  return { items, next: at < o.galleryCount ? ([at] as [number]) : ([] as []) };
}

/** The owner's pending sign-in proofs. The proofs map is keyed by nonce and short-lived, so it is scanned. */
export function export_proofs(env: Env, st: State, p: Principal, start: number) {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.outgoing);
  const batch = st.t.proofs.items(start, PROOF_SCAN);
  const items: { nonce: string; expires_at: bigint }[] = [];
  for (const [k, v] of batch) {
    const proof = decodeProof(v);
    if (bytesEqual(proof.principal, owner) && proof.expiresAt > env.now) items.push({ nonce: new TextDecoder().decode(k), expires_at: proof.expiresAt });
  }
  return { items, next: batch.length === PROOF_SCAN ? ([start + PROOF_SCAN] as [number]) : ([] as []) };
}

/**
 * Deletes the frozen owner's data after the move, as the owner's own
 * deletions would (assets released, their chunks freed within the work
 * budget and by the sweeper): galleries, then memories from the last, live
 * uploads, proofs, the owner record and the freeze. Returns true when
 * nothing is left; false when the budget ran out (call again).
 */
export function delete_owner_data(env: Env, st: State, p: Principal): boolean {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  const state = stateOf(st, owner);
  // Deleted already: the freeze went with the last of the data.
  if (state === undefined && !st.t.owners.has(owner)) return true;
  require(st, owner, TRANSFER.outgoing);
  const oenv = asOwner(env, owner);
  const spent = (): boolean => env.instructions() > DELETE_BUDGET;
  const o = st.owner(owner);
  // Galleries first: then no memory deletion has galleries to update.
  while (o.galleryCount > 0) {
    if (spent()) {
      st.saveOwner(owner, o);
      return false;
    }
    const ik = indexKey(owner, o.galleryCount - 1);
    const id = st.t.galleryIndex.get(ik);
    if (id && st.t.galleries.has(memoryKey(owner, id))) st.t.galleries.remove(memoryKey(owner, id));
    if (id) st.t.galleryIndex.remove(ik);
    o.galleryCount--;
  }
  st.saveOwner(owner, o);
  for (;;) {
    const left = st.owner(owner);
    if (left.memoryCount === 0) break;
    if (spent()) return false;
    const id = st.t.memoryIndex.get(indexKey(owner, left.memoryCount - 1));
    if (!id) throw new Fail({ Internal: `memory index ${left.memoryCount - 1} broken` });
    delete_memory(oenv, st, uuidText(id));
  }
  const last = st.owner(owner);
  for (const sid of [...last.liveSessions]) {
    const s = st.session(sid);
    if (s && s.status === SessionStatus.Live) finish(oenv, st, s, last, SessionStatus.Cancelled);
  }
  for (let start = 0; ; start += PROOF_SCAN) {
    const batch = st.t.proofs.items(start, PROOF_SCAN);
    let removed = 0;
    for (const [k, v] of batch) {
      const proof = decodeProof(v);
      if (!bytesEqual(proof.principal, owner)) continue;
      st.t.proofs.remove(k);
      const ek = proofExpiryKey(proof.expiresAt, new TextDecoder().decode(k));
      if (st.t.proofExpiry.has(ek)) st.t.proofExpiry.remove(ek);
      removed++;
    }
    if (batch.length < PROOF_SCAN) break;
    start -= removed;
  }
  st.t.owners.remove(owner);
  st.t.transfers.remove(ownerKey(owner));
  return true;
}

// ------------------------------------------------------------- target

/** Starts (or continues) receiving an owner; refuses when this bucket already keeps data of theirs. */
export function begin_import(env: Env, st: State, p: Principal): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  const s = stateOf(st, owner);
  if (s === TRANSFER.incoming) return null;
  if (s === TRANSFER.outgoing) throw invalid('this bucket is the source of this owner; it cannot be the target');
  const o = st.owner(owner);
  if (o.memoryCount > 0 || o.galleryCount > 0 || o.assetCount > 0 || o.liveSessions.length > 0) {
    throw invalid('this bucket already keeps data of this owner');
  }
  st.t.transfers.insert(ownerKey(owner), new Uint8Array([TRANSFER.incoming]));
  o.quota = IMPORT_QUOTA;
  st.saveOwner(owner, o);
  return null;
}

/** Memory records (as the source stored them) and their thumbnails; a memory already here is skipped. */
export function import_memories(env: Env, st: State, p: Principal, items: { id: string; record: Bytes; thumbnail: [] | [Bytes] }[]): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  if (items.length > PAGE_ITEMS) throw invalid(`at most ${PAGE_ITEMS} memories per page`);
  const decoded = items.map((m) => {
    const id = uuidBytes(m.id, 'memory id');
    const record = Uint8Array.from(m.record);
    try {
      decodeMemory(record);
    } catch (e) {
      throw invalid(`memory ${m.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { id, record, thumbnail: m.thumbnail[0] };
  });
  const o = st.owner(owner);
  for (const m of decoded) {
    const key = memoryKey(owner, m.id);
    if (st.t.memories.has(key)) continue;
    st.t.memories.insert(key, m.record);
    st.t.memoryIndex.insert(indexKey(owner, o.memoryCount), m.id);
    st.t.memorySeq.insert(key, u32be(o.memoryCount));
    o.memoryCount++;
  }
  st.saveOwner(owner, o);
  const oenv = asOwner(env, owner);
  // set_thumbnail checks the image and writes nothing when the same bytes are there.
  for (const m of decoded) if (m.thumbnail) set_thumbnail(oenv, st, uuidText(m.id), m.thumbnail);
  return null;
}

/** Keeps the source's commit time on the imported asset (the upload path stamps its own). */
function keepCommitTime(st: State, owner: Uint8Array, info: AssetInfo): void {
  const key = memoryKey(owner, uuidBytes(info.memory_id, 'memory_id'));
  const ab = st.t.assets.get(key);
  if (!ab) return;
  const a = decodeAsset(ab);
  if (a.committedAt !== info.committed_at) st.t.assets.insert(key, encodeAsset({ ...a, committedAt: info.committed_at }));
}

function liveSessionFor(env: Env, st: State, owner: Uint8Array, memoryId: string) {
  const id = uuidBytes(memoryId, 'memory_id');
  return st.liveSessions(env, st.owner(owner)).find((s) => bytesEqual(s.memoryId, id));
}

/**
 * Starts or resumes an asset's upload session: `Stored` when the asset is
 * here (or the owner's identical bytes are, and it now points at them),
 * else the chunks still to send.
 */
export function import_asset_begin(env: Env, st: State, p: Principal, info: AssetInfo): { Stored: null } | { Missing: number[] } {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  const c = st.config();
  if (info.chunk_count > 1 && info.chunk_size !== c.chunkSize) {
    throw invalid(`the asset has chunks of ${info.chunk_size} bytes, this bucket takes ${c.chunkSize}`);
  }
  let received: ArrayLike<number>;
  try {
    received = begin_asset_upload(asOwner(env, owner), st, info.memory_id, info.sha256, info.chunk_count, info.size).received_chunks;
  } catch (e) {
    if (e instanceof Fail && 'AlreadyExists' in e.error) {
      keepCommitTime(st, owner, info);
      return { Stored: null };
    }
    throw e;
  }
  const have = new Set(Array.from(received));
  const missing: number[] = [];
  for (let i = 0; i < info.chunk_count; i++) if (!have.has(i)) missing.push(i);
  return { Missing: missing };
}

/** One chunk of the asset being imported, written as put_chunk writes it (a chunk sent again is a no-op). */
export function import_chunk(env: Env, st: State, p: Principal, memoryId: string, index: number, data: Bytes): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  const s = liveSessionFor(env, st, owner, memoryId);
  if (!s) throw notFound();
  put_chunk(asOwner(env, owner), st, uuidText(s.id), index, data);
  return null;
}

/** Commits the imported asset: the native SHA-256 of its bytes must be the one the source recorded. */
export function import_asset_commit(env: Env, st: State, p: Principal, info: AssetInfo): AssetInfo {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  const key = memoryKey(owner, uuidBytes(info.memory_id, 'memory_id'));
  const existing = st.t.assets.get(key);
  let committed: AssetInfo;
  if (existing) {
    const a = decodeAsset(existing);
    if (!bytesEqual(a.sha256, Uint8Array.from(info.sha256))) throw new Fail({ InvalidHash: null });
    committed = { memory_id: info.memory_id, sha256: a.sha256, size: a.size, chunk_count: a.chunkCount, chunk_size: a.chunkSize, committed_at: a.committedAt };
  } else {
    const s = liveSessionFor(env, st, owner, info.memory_id);
    if (!s) throw notFound();
    committed = commit_asset(asOwner(env, owner), st, uuidText(s.id), info.sha256);
  }
  keepCommitTime(st, owner, info);
  return { ...committed, committed_at: info.committed_at };
}

export function import_galleries(env: Env, st: State, p: Principal, items: { id: string; record: Bytes }[]): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  if (items.length > PAGE_ITEMS) throw invalid(`at most ${PAGE_ITEMS} galleries per page`);
  const decoded = items.map((g) => {
    const id = uuidBytes(g.id, 'gallery id');
    const record = Uint8Array.from(g.record);
    try {
      decodeGallery(record);
    } catch (e) {
      throw invalid(`gallery ${g.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { id, record };
  });
  const o = st.owner(owner);
  for (const g of decoded) {
    const key = memoryKey(owner, g.id);
    if (st.t.galleries.has(key)) continue;
    st.t.galleries.insert(key, g.record);
    st.t.galleryIndex.insert(indexKey(owner, o.galleryCount), g.id);
    o.galleryCount++;
  }
  st.saveOwner(owner, o);
  return null;
}

export function import_proofs(env: Env, st: State, p: Principal, items: { nonce: string; expires_at: bigint }[]): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  require(st, owner, TRANSFER.incoming);
  if (items.length > PROOF_SCAN) throw invalid(`at most ${PROOF_SCAN} proofs per page`);
  for (const item of items) checkNonce(item.nonce);
  for (const item of items) {
    const key = utf8(item.nonce);
    // A nonce names one principal once: one already here (of anyone) is kept.
    if (st.t.proofs.has(key) || item.expires_at <= env.now) continue;
    st.t.proofs.insert(key, encodeProof({ principal: owner, expiresAt: item.expires_at }));
    st.t.proofExpiry.insert(proofExpiryKey(item.expires_at, item.nonce), new Uint8Array(0));
  }
  return null;
}

/**
 * Ends the import when this bucket counts for the owner exactly what the
 * source counted (usage, memories, galleries, assets, no upload left open):
 * restores the owner's quota and lifts the freeze. Idempotent.
 */
export function finish_import(env: Env, st: State, p: Principal, expected: TransferSummary): null {
  st.requireAdmin(env);
  const owner = ownerArg(p);
  const state = stateOf(st, owner);
  if (state === TRANSFER.outgoing) throw invalid('this bucket is the source of this owner');
  const got = summaryOf(st, owner);
  const differs: string[] = [];
  if (got.used_bytes !== expected.used_bytes) differs.push(`used_bytes ${got.used_bytes} != ${expected.used_bytes}`);
  if (got.memories !== expected.memories) differs.push(`memories ${got.memories} != ${expected.memories}`);
  if (got.galleries !== expected.galleries) differs.push(`galleries ${got.galleries} != ${expected.galleries}`);
  if (got.assets !== expected.assets) differs.push(`assets ${got.assets} != ${expected.assets}`);
  if (differs.length) throw invalid(`the import is incomplete: ${differs.join(', ')}`);
  if (state === undefined) return null;
  const o = st.owner(owner);
  if (st.liveSessions(env, o).length > 0) throw invalid('an imported asset is still uncommitted');
  o.quota = expected.quota[0];
  st.saveOwner(owner, o);
  st.t.transfers.remove(ownerKey(owner));
  return null;
}
