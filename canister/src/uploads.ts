// Chunked uploads: begin (or resume, or find the bytes already stored),
// put chunks in any order, commit once the running hash matches; cancel,
// progress, and reading a committed asset back. The session's SHA-256 state
// lives in its record, so an upgrade in the middle loses nothing.
import { addBlob, addReference, findBlob } from './blobs';
import { bytesEqual } from './bytes';
import type { AssetInfo, ChunkReceipt, UploadSession } from './candid-types';
import { alreadyExists, Fail, internal, invalid, invalidHash, notFound, quotaExceeded, tooManyUploads, unauthorized } from './errors';
import { type AssetRecord, decodeAsset, encodeAsset, type OwnerRecord, type SessionRecord, SessionStatus } from './records';
import { Sha256 } from './sha256';
import { asBytes, assetView, type Bytes, type Env, type State, WORK_BUDGET } from './state';
import { getChunk, putChunk, removeChunk } from './chunk-slots';
import { finishedKey, memoryKey, WORK } from './store';
import {
  bitIndices,
  chunkLength,
  clearBit,
  firstMissing,
  hasBit,
  newBitmap,
  newSessionId,
  NS_PER_SECOND,
  setBit,
  validateUploadShape,
} from './upload-rules';
import { sha256Arg, uuidBytes, uuidText } from './validate';

export function sessionView(s: SessionRecord): UploadSession {
  return {
    session_id: uuidText(s.id),
    memory_id: uuidText(s.memoryId),
    expected_sha256: s.expectedSha256,
    total_size: s.totalSize,
    chunk_count: s.chunkCount,
    chunk_size: s.chunkSize,
    received_chunks: bitIndices(s.received, s.chunkCount),
    bytes_received: s.bytesReceived,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
  };
}

export function begin_asset_upload(env: Env, st: State, memoryId: string, expectedSha256: Bytes, chunkCount: number, totalSize: bigint): UploadSession {
  const owner = st.writer(env);
  const id = uuidBytes(memoryId, 'memory_id');
  const expected = sha256Arg(expectedSha256, 'expected_sha256');
  const c = st.config();
  validateUploadShape(c, chunkCount, totalSize);
  const key = memoryKey(owner, id);
  if (!st.t.memories.has(key)) throw notFound();
  const ab = st.t.assets.get(key);
  if (ab) {
    // Assets are permanent: the same file again is success for the client, another file is refused.
    if (bytesEqual(decodeAsset(ab).sha256, expected)) throw alreadyExists();
    throw invalid('this memory already has a committed asset with a different SHA-256; assets cannot be replaced');
  }
  const o = st.owner(owner);
  const live = st.liveSessions(env, o);
  const stored = findBlob(st, owner, expected, totalSize);
  if (stored) {
    // The owner already stored these bytes under another memory: this memory's asset points at
    // them at once. AlreadyExists is the answer clients take as "stored, nothing to send".
    for (const s of live) if (bytesEqual(s.memoryId, id)) finish(env, st, s, o, SessionStatus.Cancelled);
    const a: AssetRecord = {
      sha256: expected,
      size: totalSize,
      chunkCount: stored.blob.chunkCount,
      chunkSize: stored.blob.chunkSize,
      committedAt: env.now,
      blob: stored.id,
    };
    st.t.assets.insert(key, encodeAsset(a));
    addReference(st, stored.id, stored.blob);
    o.assetCount++;
    st.saveOwner(owner, o);
    const cc = st.config();
    cc.assets++;
    st.saveConfig(cc);
    throw new Fail({ AlreadyExists: null }, true);
  }
  for (const s of live) {
    if (!bytesEqual(s.memoryId, id)) continue;
    if (bytesEqual(s.expectedSha256, expected) && s.totalSize === totalSize && s.chunkCount === chunkCount) {
      // Resume: the same upload again returns the live session with what it already holds.
      s.expiresAt = env.now + BigInt(c.sessionTtlSeconds) * NS_PER_SECOND;
      st.saveSession(s);
      return sessionView(s);
    }
    throw invalid(`another upload for this memory is in progress (session ${uuidText(s.id)}); cancel it first`);
  }
  if (live.length >= c.maxLiveSessions) throw tooManyUploads(live.length, c.maxLiveSessions);
  let reserved = 0n;
  for (const s of live) reserved += s.totalSize;
  const quota = st.quotaOf(o, c);
  if (o.usedBytes + reserved + totalSize > quota) throw quotaExceeded(o.usedBytes + reserved, quota);

  c.sessionCounter++;
  const s: SessionRecord = {
    id: newSessionId(env.now, c.sessionCounter),
    owner,
    memoryId: id,
    expectedSha256: expected,
    totalSize,
    chunkCount,
    chunkSize: c.chunkSize,
    status: SessionStatus.Live,
    createdAt: env.now,
    expiresAt: env.now + BigInt(c.sessionTtlSeconds) * NS_PER_SECOND,
    finishedAt: 0n,
    chunksReceived: 0,
    bytesReceived: 0n,
    received: newBitmap(chunkCount),
    hashedChunks: 0,
    hashState: new Sha256().save(),
  };
  st.saveConfig(c);
  st.saveSession(s);
  st.t.work.insert(s.id, new Uint8Array([WORK.live]));
  // Sessions that expired without the sweeper noticing yet leave the owner's list here already.
  o.liveSessions = [...live.map((x) => x.id), s.id];
  st.saveOwner(owner, o);
  return sessionView(s);
}

export function put_chunk(env: Env, st: State, sessionId: string, index: number, data: Bytes): ChunkReceipt {
  const s = st.ownedSession(env, sessionId);
  st.requireLive(env, s);
  if (index >= s.chunkCount) throw invalid(`chunk index ${index} is out of range (chunk_count ${s.chunkCount})`);
  const bytes = asBytes(data);
  const want = chunkLength(s, index);
  if (bytes.length !== want) throw invalid(`chunk ${index} must be ${want} bytes, got ${bytes.length} (chunk_size ${s.chunkSize})`);
  const ttl = BigInt(st.config().sessionTtlSeconds) * NS_PER_SECOND;
  env.phase('validate');
  if (hasBit(s.received, index)) {
    // A re-sent chunk: success if it is the same bytes, so retries are safe.
    const stored = getChunk(st, s.id, index);
    if (!stored || !bytesEqual(stored, bytes)) throw invalid(`chunk ${index} was already received with different bytes`);
    s.expiresAt = env.now + ttl;
    st.saveSession(s);
    return { chunks_received: s.chunksReceived, bytes_received: s.bytesReceived, expires_at: s.expiresAt };
  }
  putChunk(st, s.id, index, bytes);
  env.phase('store');
  setBit(s.received, index);
  s.chunksReceived++;
  s.bytesReceived += BigInt(bytes.length);
  s.expiresAt = env.now + ttl;
  advanceHash(env, st, s, index, bytes);
  env.phase('hash');
  st.saveSession(s);
  env.phase('record');
  return { chunks_received: s.chunksReceived, bytes_received: s.bytesReceived, expires_at: s.expiresAt };
}

/**
 * Folds the contiguous received chunks after the hashed prefix into the
 * running hash, within the message's work budget. `fresh` is the chunk this
 * message received (not read back). Leaves a backlog to the sweeper when the
 * budget runs out; returns whether the file is fully hashed.
 */
export function advanceHash(env: Env, st: State, s: SessionRecord, freshIndex = -1, fresh?: Uint8Array): boolean {
  if (s.hashedChunks >= s.chunkCount) return true;
  if (!hasBit(s.received, s.hashedChunks)) return false;
  const h = Sha256.restore(s.hashState);
  let last = env.instructions();
  let perChunk = 0n;
  while (s.hashedChunks < s.chunkCount && hasBit(s.received, s.hashedChunks)) {
    if (perChunk > 0n && last + perChunk > WORK_BUDGET) {
      env.requestSweep();
      break;
    }
    const i = s.hashedChunks;
    const bytes = i === freshIndex && fresh ? fresh : getChunk(st, s.id, i);
    if (!bytes) throw internal(`chunk ${i} of session ${uuidText(s.id)} is missing`);
    h.update(bytes);
    s.hashedChunks++;
    const now = env.instructions();
    if (now - last > perChunk) perChunk = now - last;
    last = now;
  }
  s.hashState = h.save();
  if (s.hashedChunks === s.chunkCount) {
    s.digest = h.digest();
    return true;
  }
  return false;
}

export function commit_asset(env: Env, st: State, sessionId: string, finalSha256: Bytes): AssetInfo {
  const s = st.ownedSession(env, sessionId);
  const final = sha256Arg(finalSha256, 'final_sha256');
  if (s.status === SessionStatus.Committed) {
    // Committing again reports the asset: retries after a lost reply are safe.
    const ab = st.t.assets.get(memoryKey(s.owner, s.memoryId));
    if (!ab) throw notFound(); // the memory was deleted since
    const a = decodeAsset(ab);
    if (!bytesEqual(a.sha256, final)) throw invalidHash();
    return assetView(uuidText(s.memoryId), a);
  }
  st.requireLive(env, s);
  if (!bytesEqual(final, s.expectedSha256)) throw invalidHash();
  if (s.chunksReceived < s.chunkCount) {
    const missing = s.chunkCount - s.chunksReceived;
    throw invalid(`${missing} of ${s.chunkCount} chunks are missing (first missing: ${firstMissing(s.received, s.chunkCount)})`);
  }
  env.phase('validate');
  if (!advanceHash(env, st, s)) {
    // Only after a pathological order of chunks: keep the progress, ask the client to retry.
    st.saveSession(s);
    env.requestSweep();
    throw new Fail({ Internal: 'the file is still being hashed; retry commit_asset shortly' }, true);
  }
  env.phase('hash');
  const owner = st.owner(s.owner);
  if (!s.digest || !bytesEqual(s.digest, s.expectedSha256)) {
    // The bytes are not the file the client announced: end the session and free its chunks.
    finish(env, st, s, owner, SessionStatus.Failed);
    throw new Fail({ InvalidHash: null }, true);
  }
  const key = memoryKey(s.owner, s.memoryId);
  if (st.t.assets.has(key)) throw internal('memory already has an asset');
  const twin = findBlob(st, s.owner, s.expectedSha256, s.totalSize);
  if (twin) {
    // Another upload of the owner committed the same bytes first: point at them, free this copy.
    const shared: AssetRecord = { ...assetOf(s, env.now), chunkCount: twin.blob.chunkCount, chunkSize: twin.blob.chunkSize, blob: twin.id };
    st.t.assets.insert(key, encodeAsset(shared));
    addReference(st, twin.id, twin.blob);
    owner.assetCount++;
    const c = st.config();
    c.assets++;
    st.saveConfig(c);
    finish(env, st, s, owner, SessionStatus.Committed, true);
    return assetView(uuidText(s.memoryId), shared);
  }
  // The chunks stay where the session wrote them: commit copies nothing.
  const a = assetOf(s, env.now);
  st.t.assets.insert(key, encodeAsset(a));
  addBlob(st, s.id, { owner: s.owner, sha256: a.sha256, size: a.size, chunkCount: a.chunkCount, chunkSize: a.chunkSize, refs: 1 });
  owner.usedBytes += s.totalSize;
  owner.assetCount++;
  const c = st.config();
  c.storedBytes += s.totalSize;
  c.assets++;
  st.saveConfig(c);
  finish(env, st, s, owner, SessionStatus.Committed);
  env.phase('store');
  return assetView(uuidText(s.memoryId), a);
}

function assetOf(s: SessionRecord, now: bigint): AssetRecord {
  return { sha256: s.expectedSha256, size: s.totalSize, chunkCount: s.chunkCount, chunkSize: s.chunkSize, committedAt: now, blob: s.id };
}

/**
 * Ends a live session: records why, drops it from the owner's live list,
 * queues its chunks to be freed unless they became the committed asset
 * (`freeCopy`: committed, but the asset points at an earlier copy).
 */
export function finish(env: Env, st: State, s: SessionRecord, owner: OwnerRecord, status: SessionStatus, freeCopy = false): void {
  s.status = status;
  s.finishedAt = env.now;
  owner.liveSessions = owner.liveSessions.filter((x) => !bytesEqual(x, s.id));
  st.saveOwner(s.owner, owner);
  st.t.finished.insert(finishedKey(s.finishedAt, s.id), new Uint8Array(0));
  if (status === SessionStatus.Committed && !freeCopy) {
    // The bitmap and hash state are no longer needed; the tombstone stays small.
    s.received = new Uint8Array(0);
    s.hashState = new Uint8Array(0);
    st.t.work.remove(s.id);
    st.saveSession(s);
    return;
  }
  st.t.work.insert(s.id, new Uint8Array([WORK.free]));
  freeChunks(env, st, s);
}

/** Removes the chunks of an ended session within the work budget; the sweeper finishes the rest. */
export function freeChunks(env: Env, st: State, s: SessionRecord): void {
  let last = env.instructions();
  let perChunk = 0n;
  let done = true;
  for (const i of bitIndices(s.received, s.chunkCount)) {
    if (perChunk > 0n && last + perChunk > WORK_BUDGET) {
      done = false;
      env.requestSweep();
      break;
    }
    removeChunk(st, s.id, i);
    clearBit(s.received, i);
    const now = env.instructions();
    if (now - last > perChunk) perChunk = now - last;
    last = now;
  }
  if (done) {
    st.t.work.remove(s.id);
    s.hashState = new Uint8Array(0);
  }
  st.saveSession(s);
}

export function cancel_upload(env: Env, st: State, sessionId: string): null {
  const sid = uuidBytes(sessionId, 'session_id');
  const s = st.session(sid);
  // Idempotent: an unknown (or long purged) session is already cancelled.
  if (!s) return null;
  if (env.caller.isAnonymous() || !bytesEqual(s.owner, env.caller.toUint8Array())) throw unauthorized();
  if (s.status === SessionStatus.Committed) throw invalid('the upload was already committed; committed assets are permanent');
  if (s.status !== SessionStatus.Live) return null;
  finish(env, st, s, st.owner(s.owner), SessionStatus.Cancelled);
  return null;
}

export function get_upload_progress(env: Env, st: State, sessionId: string): UploadSession {
  const s = st.ownedSession(env, sessionId);
  st.requireLive(env, s);
  return sessionView(s);
}

export function list_my_uploads(env: Env, st: State): UploadSession[] {
  if (env.caller.isAnonymous()) return [];
  return st.liveSessions(env, st.owner(env.caller.toUint8Array())).map(sessionView);
}

export function read_chunk(env: Env, st: State, memoryId: string, index: number): Uint8Array {
  const owner = env.caller.toUint8Array();
  const id = uuidBytes(memoryId, 'memory_id');
  const ab = st.t.assets.get(memoryKey(owner, id));
  if (!ab) throw notFound();
  const a = decodeAsset(ab);
  if (index >= a.chunkCount) throw invalid(`chunk index ${index} is out of range (chunk_count ${a.chunkCount})`);
  const bytes = getChunk(st, a.blob, index);
  if (!bytes) throw internal(`chunk ${index} of memory ${memoryId} is missing`);
  return bytes;
}
