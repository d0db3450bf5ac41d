// The canister's invariants over all of stable memory, for tests and audits
// (controllers only; the cost grows with the data): usage equals the bytes
// each owner stores once, every chunk belongs to a blob, a session or a blob
// being freed, the chunk space's slots in use and free tile it exactly,
// indexes are dense and point at records, live sessions are within their limits.
import { chunksLeft } from './blobs';
import { bytesEqual, fromHex, readU32be, toHex } from './bytes';
import type { InvariantReport } from './candid-types';
import { decodeAsset, decodeBlob, decodeOwner, decodeSession, SessionStatus } from './records';
import type { Env, State } from './state';
import { decodeSlot, hasChunk, type Slot, spaceViolations } from './chunk-slots';
import { indexKey, memoryKey, WORK } from './store';
import { hasBit, popcount } from './upload-rules';

export function check_invariants(env: Env, st: State): InvariantReport {
  st.requireAdmin(env);
  const t = st.t;
  const violations: string[] = [];
  const c = st.config();
  const chunkOwners = new Map<string, { has: (i: number) => boolean }>();
  const ownerUsed = new Map<string, bigint>();
  const ownerAssets = new Map<string, number>();
  /** Blob id -> [size, references found, owner]. */
  const blobs = new Map<string, { size: bigint; refs: number; owner: string }>();
  let storedBytes = 0n;
  let assets = 0n;
  for (const [k, v] of t.assets.items()) {
    const a = decodeAsset(v);
    const owner = toHex(k.subarray(1, 1 + k[0]));
    ownerAssets.set(owner, (ownerAssets.get(owner) ?? 0) + 1);
    assets++;
    if (!t.memories.has(k)) violations.push(`asset without memory ${toHex(k)}`);
    const bid = toHex(a.blob);
    const seen = blobs.get(bid);
    if (seen) {
      seen.refs++;
      if (seen.owner !== owner) violations.push(`blob ${bid} shared across owners`);
      continue;
    }
    blobs.set(bid, { size: a.size, refs: 1, owner });
    ownerUsed.set(owner, (ownerUsed.get(owner) ?? 0n) + a.size);
    storedBytes += a.size;
    chunkOwners.set(bid, { has: (i) => i < a.chunkCount });
    for (let i = 0; i < a.chunkCount; i++) {
      if (!hasChunk(st, a.blob, i)) violations.push(`asset ${bid} lacks chunk ${i}`);
    }
  }
  for (const [id, v] of t.blobs.items()) {
    const b = decodeBlob(v);
    const found = blobs.get(toHex(id));
    if (!found) violations.push(`blob ${toHex(id)} without assets`);
    else if (found.refs !== b.refs) violations.push(`blob ${toHex(id)} counts ${b.refs} references, assets ${found.refs}`);
  }
  for (const [bid, found] of blobs) {
    if (found.refs > 1 && !t.blobs.has(fromHex(bid))) violations.push(`blob ${bid} shared without its record`);
  }
  if (storedBytes !== c.storedBytes) violations.push(`stored bytes ${c.storedBytes} != sum of blobs ${storedBytes}`);
  if (assets !== c.assets) violations.push(`asset count ${c.assets} != ${assets}`);
  for (const [k] of t.thumbnails.items()) if (!t.memories.has(k)) violations.push(`thumbnail without memory ${toHex(k)}`);
  for (const [id, w] of t.work.items()) {
    if (w[0] === WORK.freeBlob) {
      if (blobs.has(toHex(id))) violations.push(`blob ${toHex(id)} in use is being freed`);
      const left = chunksLeft(w);
      chunkOwners.set(toHex(id), { has: (i) => i < left });
    }
  }
  let sessions = 0n;
  const liveByOwner = new Map<string, number>();
  for (const [sid, v] of t.sessions.items()) {
    sessions++;
    const s = decodeSession(v);
    if (!bytesEqual(sid, s.id)) violations.push(`session key mismatch ${toHex(sid)}`);
    const work = t.work.get(sid);
    if (s.status === SessionStatus.Committed) {
      // A committed session's chunks are its asset's blob, or (a second copy of bytes already stored) being freed.
      if (work && work[0] === WORK.free) chunkOwners.set(toHex(sid), { has: (i) => hasBit(s.received, i) });
      else if (work && work[0] === WORK.live) violations.push(`committed session ${toHex(sid)} still has work`);
      continue;
    }
    const count = popcount(s.received);
    if (s.status === SessionStatus.Live) {
      if (!work || work[0] !== WORK.live) violations.push(`live session ${toHex(sid)} not in the work map`);
      if (count !== s.chunksReceived) violations.push(`session ${toHex(sid)} counts ${s.chunksReceived} chunks, bitmap ${count}`);
      if (s.totalSize > c.maxFileSize && s.chunkSize === c.chunkSize) violations.push(`session ${toHex(sid)} over the file size limit`);
      if (s.chunkCount !== Math.ceil(Number(s.totalSize) / s.chunkSize)) violations.push(`session ${toHex(sid)} chunk count inconsistent`);
      if (s.hashedChunks > s.chunkCount) violations.push(`session ${toHex(sid)} hashed past its end`);
      if (s.expiresAt > env.now) {
        const ho = toHex(s.owner);
        liveByOwner.set(ho, (liveByOwner.get(ho) ?? 0) + 1);
      }
    } else if (count > 0 && (!work || work[0] !== WORK.free)) {
      violations.push(`ended session ${toHex(sid)} holds ${count} chunks and nothing frees them`);
    }
    chunkOwners.set(toHex(sid), { has: (i) => hasBit(s.received, i) });
  }
  let chunks = 0n;
  const orphan = (k: Uint8Array): void => {
    chunks++;
    const blob = toHex(k.subarray(0, 16));
    const index = readU32be(k, 16);
    const o = chunkOwners.get(blob);
    if (!o || !o.has(index)) violations.push(`orphan chunk ${blob}/${index}`);
  };
  // Chunks of the old map, keys only: loading every chunk into the JS heap would not fit a query.
  // Chunk lengths are checked at put_chunk.
  for (const k of t.chunks.keys()) orphan(k);
  const used: Slot[] = [];
  for (const [k, v] of t.chunkSlots.items()) {
    orphan(k);
    if (t.chunks.has(k)) violations.push(`chunk ${toHex(k)} stored twice`);
    used.push(decodeSlot(v));
  }
  violations.push(...spaceViolations(st, used));
  let principals = 0n;
  for (const [k, v] of t.owners.items()) {
    principals++;
    const o = decodeOwner(v);
    const hex = toHex(k);
    if (o.usedBytes !== (ownerUsed.get(hex) ?? 0n)) violations.push(`owner ${hex} uses ${o.usedBytes}, its blobs sum to ${ownerUsed.get(hex) ?? 0n}`);
    if (o.assetCount !== (ownerAssets.get(hex) ?? 0)) violations.push(`owner ${hex} asset count ${o.assetCount} != ${ownerAssets.get(hex) ?? 0}`);
    const live = liveByOwner.get(hex) ?? 0;
    if (live > c.maxLiveSessions) violations.push(`owner ${hex} has ${live} live sessions (max ${c.maxLiveSessions})`);
    for (let i = 0; i < o.memoryCount; i++) {
      const id = t.memoryIndex.get(indexKey(k, i));
      if (!id || !t.memories.has(memoryKey(k, id))) violations.push(`owner ${hex} memory index ${i} broken`);
      const seq = id && t.memorySeq.get(memoryKey(k, id));
      if (seq && readU32be(seq) !== i) violations.push(`owner ${hex} memory ${toHex(id)} records slot ${readU32be(seq)}, is at ${i}`);
    }
    if (t.memoryIndex.has(indexKey(k, o.memoryCount))) violations.push(`owner ${hex} memory index longer than ${o.memoryCount}`);
  }
  for (const [ho, n] of liveByOwner) if (!t.owners.has(fromHex(ho)) && n > 0) violations.push(`live sessions of unknown owner ${ho}`);
  return { ok: violations.length === 0, violations: violations.slice(0, 100), checked_chunks: chunks, checked_sessions: sessions, checked_principals: principals };
}
