// The forever canister's behaviour, free of azle I/O: every method takes
// decoded Candid arguments, reads and writes the byte maps in `Tables`, and
// returns the `Ok` value or throws `Fail`. index.ts adapts it to azle (stable
// maps, caller, time, timers); Node tests run it over in-memory maps.
//
// Rule: everything is validated before the first write. The adapter replies
// `Err` only if no write happened; a Fail after a write (a bug) traps, and the
// IC rolls the message back. Fails marked `keep` are the deliberate exception:
// their writes are a consistent state of their own (e.g. a failed upload freed).
import { Principal } from '@dfinity/principal';
import type {
  AssetInfo,
  ChunkReceipt,
  Gallery,
  GalleryPage,
  InvariantReport,
  Limits,
  Memory,
  MemoryMetadata,
  MemoryPage,
  MemoryPresence,
  MemoryType,
  PresencePage,
  ProofReceipt,
  Stats,
  StoredGallery,
  StoreGalleryResult,
  UploadSession,
  UpsertResult,
  Usage,
} from '../../src/declarations/forever/forever.did';
import { bytesEqual, concatBytes, toHex, utf8 } from './codec';
import { alreadyExists, Fail, internal, invalid, invalidHash, notFound, quotaExceeded, tooManyUploads, unauthorized, uploadExpired } from './errors';
import {
  type AssetRecord,
  type ConfigRecord,
  decodeAsset,
  decodeConfig,
  decodeGallery,
  decodeMemory,
  decodeOwner,
  decodeProof,
  decodeSession,
  defaultConfig,
  encodeAsset,
  encodeConfig,
  encodeGallery,
  encodeMemory,
  encodeOwner,
  encodeProof,
  encodeSession,
  type GalleryRecord,
  MEMORY_TYPES,
  type MemoryRecord,
  type MemoryTypeName,
  type MetadataRecord,
  newOwner,
  type OwnerRecord,
  type SessionRecord,
  SessionStatus,
} from './records';
import { Sha256 } from './sha256';
import {
  chunkKey,
  CONFIG_KEY,
  finishedKey,
  idempotencyKey,
  indexKey,
  type KV,
  memoryKey,
  ownerKey,
  proofExpiryKey,
  type Tables,
  WORK,
} from './store';
import {
  bitIndices,
  chunkLength,
  clearBit,
  FINISHED_RETENTION_NS,
  firstMissing,
  hasBit,
  newBitmap,
  newSessionId,
  NS_PER_SECOND,
  popcount,
  PROOF_TTL_NS,
  setBit,
  validateLimits,
  validateUploadShape,
} from './uploads';
import { checkMime, checkNonce, checkText, isUuid, LIMITS, page, sha256Arg, uuidBytes, uuidText } from './validate';

export interface Env {
  caller: Principal;
  /** Canister time, ns since epoch. */
  now: bigint;
  isController(p: Principal): boolean;
  /** Instructions this message has executed so far (ic0.performance_counter 0); 0 outside the IC. */
  instructions(): bigint;
  /** Profiling: the phase that just ended. */
  phase(name: string): void;
  /** Asks for a sweep soon (a timer), to finish hashing or freeing that hit the budget. */
  requestSweep(): void;
}

/**
 * Instructions one message may spend on optional work (hashing a backlog of
 * out-of-order chunks, freeing chunks) before leaving the rest to a timer:
 * half the IC's 40 billion limit for updates.
 */
export const WORK_BUDGET = 20_000_000_000n;

/** Reply bytes one page may fill: the IC refuses replies over 2 MiB; the rest is room for Candid's framing. */
const PAGE_REPLY_BUDGET = 1024 * 1024;

/** Work-map entries the sweeper reads per batch. */
const SWEEP_BATCH = 100;

type Bytes = Uint8Array | number[];
const asBytes = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : Uint8Array.from(b));

export class ForeverService {
  /** Set by the first insert or remove of the current message. */
  wrote = false;
  /** Heap only (an upgrade restarts at 0): the work-map index where the next sweep resumes. */
  private sweepFrom = 0;
  private readonly t: Tables;

  constructor(tables: Tables) {
    // Wrapping the maps lets the adapter know whether an error may still be replied (no write yet).
    const mark = (): void => {
      this.wrote = true;
    };
    this.t = Object.fromEntries(
      Object.entries(tables).map(([name, kv]) => [
        name,
        {
          get: (k: Uint8Array) => kv.get(k),
          has: (k: Uint8Array) => kv.has(k),
          insert: (k: Uint8Array, v: Uint8Array) => {
            mark();
            kv.insert(k, v);
          },
          remove: (k: Uint8Array) => {
            mark();
            kv.remove(k);
          },
          items: (s?: number, l?: number) => kv.items(s, l),
          keys: (s?: number, l?: number) => kv.keys(s, l),
          len: () => kv.len(),
        } satisfies KV,
      ]),
    ) as Tables;
  }

  // ---------------------------------------------------------------- helpers

  config(): ConfigRecord {
    const b = this.t.config.get(CONFIG_KEY);
    return b ? decodeConfig(b) : defaultConfig();
  }

  private saveConfig(c: ConfigRecord): void {
    this.t.config.insert(CONFIG_KEY, encodeConfig(c));
  }

  private owner(p: Uint8Array): OwnerRecord {
    const b = this.t.owners.get(p);
    return b ? decodeOwner(b) : newOwner();
  }

  private saveOwner(p: Uint8Array, o: OwnerRecord): void {
    this.t.owners.insert(p, encodeOwner(o));
  }

  private writer(env: Env): Uint8Array {
    if (env.caller.isAnonymous()) throw unauthorized();
    return env.caller.toUint8Array();
  }

  private requireAdmin(env: Env): void {
    if (env.caller.isAnonymous() || !env.isController(env.caller)) throw unauthorized();
  }

  private session(sid: Uint8Array): SessionRecord | undefined {
    const b = this.t.sessions.get(sid);
    return b ? decodeSession(b) : undefined;
  }

  private saveSession(s: SessionRecord): void {
    this.t.sessions.insert(s.id, encodeSession(s));
  }

  /** The caller's session, live and not past its expiry; the typed error otherwise. */
  private ownedSession(env: Env, sessionId: string): SessionRecord {
    const sid = uuidBytes(sessionId, 'session_id');
    const s = this.session(sid);
    if (!s) throw notFound();
    if (env.caller.isAnonymous() || !bytesEqual(s.owner, env.caller.toUint8Array())) throw unauthorized();
    return s;
  }

  private requireLive(env: Env, s: SessionRecord): void {
    switch (s.status) {
      case SessionStatus.Live:
        if (s.expiresAt <= env.now) throw uploadExpired();
        return;
      case SessionStatus.Committed:
        throw alreadyExists();
      case SessionStatus.Expired:
        throw uploadExpired();
      case SessionStatus.Failed:
        throw invalidHash();
      default:
        throw notFound();
    }
  }

  /** The owner's sessions that still count as live (status Live, not past expiry). */
  private liveSessions(env: Env, o: OwnerRecord): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const sid of o.liveSessions) {
      const s = this.session(sid);
      if (s && s.status === SessionStatus.Live && s.expiresAt > env.now) out.push(s);
    }
    return out;
  }

  private quotaOf(o: OwnerRecord, c: ConfigRecord): bigint {
    return o.quota ?? c.defaultQuotaBytes;
  }

  private memoryType(t: MemoryType): MemoryTypeName {
    const keys = Object.keys(t);
    const name = keys[0] as MemoryTypeName;
    if (keys.length !== 1 || !MEMORY_TYPES.includes(name)) throw invalid('memory_type must be one of Image, Video, Audio, Document, Note');
    return name;
  }

  private metadata(m: MemoryMetadata): MetadataRecord {
    checkText(m.title, 'metadata.title', LIMITS.title, { allowEmpty: true });
    if (m.description.length) checkText(m.description[0], 'metadata.description', LIMITS.description, { allowEmpty: true, multiline: true });
    if (m.tags.length > LIMITS.tags) throw invalid(`metadata.tags has more than ${LIMITS.tags} tags`);
    for (const tag of m.tags) checkText(tag, 'metadata.tags[]', LIMITS.tag);
    if (m.file_name.length) checkText(m.file_name[0], 'metadata.file_name', LIMITS.fileName);
    if (m.mime_type.length) checkMime(m.mime_type[0]);
    return {
      title: m.title,
      description: m.description[0],
      tags: [...m.tags],
      fileName: m.file_name[0],
      mimeType: m.mime_type[0],
      takenAtMs: m.taken_at_ms[0],
    };
  }

  private memoryView(owner: Uint8Array, id: Uint8Array, m: MemoryRecord, a: AssetRecord | undefined): Memory {
    const memoryId = uuidText(id);
    return {
      id: memoryId,
      owner: Principal.fromUint8Array(owner),
      memory_type: { [m.memoryType]: null } as MemoryType,
      metadata: {
        title: m.metadata.title,
        description: opt(m.metadata.description),
        tags: m.metadata.tags,
        file_name: opt(m.metadata.fileName),
        mime_type: opt(m.metadata.mimeType),
        taken_at_ms: opt(m.metadata.takenAtMs),
      },
      created_at: m.createdAt,
      updated_at: m.updatedAt,
      asset: a ? [assetView(memoryId, a)] : [],
    };
  }

  private sessionView(s: SessionRecord): UploadSession {
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

  /** Presence of each id in one owner's namespace; the key prefix and owner principal are built once. */
  private presenceOf(owner: Uint8Array, memoryIds: string[]): MemoryPresence[] {
    const prefix = ownerKey(owner);
    const ownerPrincipal = Principal.fromUint8Array(owner);
    return memoryIds.map((memoryId) => {
      const key = concatBytes(prefix, uuidBytes(memoryId, 'memory id'));
      const present = this.t.memories.has(key);
      const ab = present ? this.t.assets.get(key) : undefined;
      const a = ab ? decodeAsset(ab) : undefined;
      return {
        memory_id: memoryId,
        owner: present ? [ownerPrincipal] : [],
        metadata_present: present,
        asset_present: a !== undefined,
        sha256: a ? [a.sha256] : [],
        size: a ? [a.size] : [],
      };
    });
  }

  // --------------------------------------------------------------- memories

  upsert_metadata(env: Env, memoryId: string, memoryType: MemoryType, metadata: MemoryMetadata, idemKey: string): UpsertResult {
    const owner = this.writer(env);
    const id = uuidBytes(memoryId, 'memory_id');
    const type = this.memoryType(memoryType);
    const meta = this.metadata(metadata);
    checkText(idemKey, 'idempotency_key', LIMITS.idempotencyKey);
    const ik = idempotencyKey(owner, idemKey);
    const seen = this.t.idempotency.get(ik);
    if (seen) {
      if (!bytesEqual(seen, id)) throw invalid('idempotency_key was already used for another memory');
      // The same request again: report the memory without writing anything.
      return { memory_id: memoryId, created: false };
    }
    const key = memoryKey(owner, id);
    const existing = this.t.memories.get(key);
    let created = false;
    if (!existing) {
      const o = this.owner(owner);
      this.t.memories.insert(key, encodeMemory({ memoryType: type, metadata: meta, createdAt: env.now, updatedAt: env.now }));
      this.t.memoryIndex.insert(indexKey(owner, o.memoryCount), id);
      o.memoryCount++;
      this.saveOwner(owner, o);
      created = true;
    } else {
      const old = decodeMemory(existing);
      const next = encodeMemory({ memoryType: type, metadata: meta, createdAt: old.createdAt, updatedAt: old.updatedAt });
      if (!bytesEqual(next, existing)) {
        this.t.memories.insert(key, encodeMemory({ memoryType: type, metadata: meta, createdAt: old.createdAt, updatedAt: env.now }));
      }
    }
    this.t.idempotency.insert(ik, id);
    return { memory_id: memoryId, created };
  }

  get_memory(env: Env, memoryId: string): Memory {
    const owner = env.caller.toUint8Array();
    const id = uuidBytes(memoryId, 'memory_id');
    const key = memoryKey(owner, id);
    const m = this.t.memories.get(key);
    if (!m) throw notFound();
    const a = this.t.assets.get(key);
    return this.memoryView(owner, id, decodeMemory(m), a ? decodeAsset(a) : undefined);
  }

  list_memories(env: Env, cursor: [] | [string], limit: [] | [number]): MemoryPage {
    const owner = env.caller.toUint8Array();
    const p = page(cursor, limit);
    const o = this.owner(owner);
    const items: Memory[] = [];
    const end = Math.min(o.memoryCount, p.start + p.limit);
    for (let seq = p.start; seq < end; seq++) {
      const id = this.t.memoryIndex.get(indexKey(owner, seq));
      if (!id) throw internal(`memory index ${seq} missing`);
      const key = memoryKey(owner, id);
      const m = this.t.memories.get(key);
      if (!m) throw internal(`memory ${uuidText(id)} missing`);
      const a = this.t.assets.get(key);
      items.push(this.memoryView(owner, id, decodeMemory(m), a ? decodeAsset(a) : undefined));
    }
    return { items, next_cursor: end < o.memoryCount ? [String(end)] : [] };
  }

  get_memory_presence(env: Env, memoryId: string): MemoryPresence {
    return this.presenceOf(env.caller.toUint8Array(), [memoryId])[0];
  }

  get_memory_list_presence(env: Env, ids: string[], cursor: [] | [string], limit: [] | [number]): PresencePage {
    if (ids.length > LIMITS.presenceIds) throw invalid(`at most ${LIMITS.presenceIds} ids per call`);
    for (const id of ids) if (!isUuid(id)) throw invalid(`memory id ${JSON.stringify(id.slice(0, 40))} is not a lowercase canonical UUID`);
    const p = page(cursor, limit);
    const owner = env.caller.toUint8Array();
    const end = Math.min(ids.length, p.start + p.limit);
    const items = this.presenceOf(owner, ids.slice(p.start, end));
    return { items, next_cursor: end < ids.length ? [String(end)] : [] };
  }

  verify_presence(env: Env, owner: Principal, ids: string[]): MemoryPresence[] {
    if (env.caller.isAnonymous()) throw unauthorized();
    const caller = env.caller.toUint8Array();
    if (!env.isController(env.caller) && !this.config().verifiers.some((v) => bytesEqual(v, caller))) throw unauthorized();
    if (ids.length > LIMITS.verifyIds) throw invalid(`at most ${LIMITS.verifyIds} ids per call`);
    for (const id of ids) if (!isUuid(id)) throw invalid(`memory id ${JSON.stringify(id.slice(0, 40))} is not a lowercase canonical UUID`);
    const o = owner.toUint8Array();
    return this.presenceOf(o, ids);
  }

  // ---------------------------------------------------------------- uploads

  begin_asset_upload(env: Env, memoryId: string, expectedSha256: Bytes, chunkCount: number, totalSize: bigint): UploadSession {
    const owner = this.writer(env);
    const id = uuidBytes(memoryId, 'memory_id');
    const expected = sha256Arg(expectedSha256, 'expected_sha256');
    const c = this.config();
    validateUploadShape(c, chunkCount, totalSize);
    const key = memoryKey(owner, id);
    if (!this.t.memories.has(key)) throw notFound();
    const ab = this.t.assets.get(key);
    if (ab) {
      // Assets are permanent: the same file again is success for the client, another file is refused.
      if (bytesEqual(decodeAsset(ab).sha256, expected)) throw alreadyExists();
      throw invalid('this memory already has a committed asset with a different SHA-256; assets cannot be replaced');
    }
    const o = this.owner(owner);
    const live = this.liveSessions(env, o);
    for (const s of live) {
      if (!bytesEqual(s.memoryId, id)) continue;
      if (bytesEqual(s.expectedSha256, expected) && s.totalSize === totalSize && s.chunkCount === chunkCount) {
        // Resume: the same upload again returns the live session with what it already holds.
        s.expiresAt = env.now + BigInt(c.sessionTtlSeconds) * NS_PER_SECOND;
        this.saveSession(s);
        return this.sessionView(s);
      }
      throw invalid(`another upload for this memory is in progress (session ${uuidText(s.id)}); cancel it first`);
    }
    if (live.length >= c.maxLiveSessions) throw tooManyUploads(live.length, c.maxLiveSessions);
    let reserved = 0n;
    for (const s of live) reserved += s.totalSize;
    const quota = this.quotaOf(o, c);
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
    this.saveConfig(c);
    this.saveSession(s);
    this.t.work.insert(s.id, new Uint8Array([WORK.live]));
    // Sessions that expired without the sweeper noticing yet leave the owner's list here already.
    o.liveSessions = [...live.map((x) => x.id), s.id];
    this.saveOwner(owner, o);
    return this.sessionView(s);
  }

  put_chunk(env: Env, sessionId: string, index: number, data: Bytes): ChunkReceipt {
    const s = this.ownedSession(env, sessionId);
    this.requireLive(env, s);
    if (index >= s.chunkCount) throw invalid(`chunk index ${index} is out of range (chunk_count ${s.chunkCount})`);
    const bytes = asBytes(data);
    const want = chunkLength(s, index);
    if (bytes.length !== want) throw invalid(`chunk ${index} must be ${want} bytes, got ${bytes.length} (chunk_size ${s.chunkSize})`);
    const ttl = BigInt(this.config().sessionTtlSeconds) * NS_PER_SECOND;
    env.phase('validate');
    if (hasBit(s.received, index)) {
      // A re-sent chunk: success if it is the same bytes, so retries are safe.
      const stored = this.t.chunks.get(chunkKey(s.id, index));
      if (!stored || !bytesEqual(stored, bytes)) throw invalid(`chunk ${index} was already received with different bytes`);
      s.expiresAt = env.now + ttl;
      this.saveSession(s);
      return { chunks_received: s.chunksReceived, bytes_received: s.bytesReceived, expires_at: s.expiresAt };
    }
    this.t.chunks.insert(chunkKey(s.id, index), bytes);
    env.phase('store');
    setBit(s.received, index);
    s.chunksReceived++;
    s.bytesReceived += BigInt(bytes.length);
    s.expiresAt = env.now + ttl;
    this.advanceHash(env, s, index, bytes);
    env.phase('hash');
    this.saveSession(s);
    env.phase('record');
    return { chunks_received: s.chunksReceived, bytes_received: s.bytesReceived, expires_at: s.expiresAt };
  }

  /**
   * Folds the contiguous received chunks after the hashed prefix into the
   * running hash, within the message's work budget. `fresh` is the chunk this
   * message received (not read back). Leaves a backlog to the sweeper when the
   * budget runs out; returns whether the file is fully hashed.
   */
  private advanceHash(env: Env, s: SessionRecord, freshIndex = -1, fresh?: Uint8Array): boolean {
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
      const bytes = i === freshIndex && fresh ? fresh : this.t.chunks.get(chunkKey(s.id, i));
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

  commit_asset(env: Env, sessionId: string, finalSha256: Bytes): AssetInfo {
    const s = this.ownedSession(env, sessionId);
    const final = sha256Arg(finalSha256, 'final_sha256');
    if (s.status === SessionStatus.Committed) {
      // Committing again reports the asset: retries after a lost reply are safe.
      const key = memoryKey(s.owner, s.memoryId);
      const ab = this.t.assets.get(key);
      if (!ab) throw internal('committed session without its asset');
      const a = decodeAsset(ab);
      if (!bytesEqual(a.sha256, final)) throw invalidHash();
      return assetView(uuidText(s.memoryId), a);
    }
    this.requireLive(env, s);
    if (!bytesEqual(final, s.expectedSha256)) throw invalidHash();
    if (s.chunksReceived < s.chunkCount) {
      const missing = s.chunkCount - s.chunksReceived;
      throw invalid(`${missing} of ${s.chunkCount} chunks are missing (first missing: ${firstMissing(s.received, s.chunkCount)})`);
    }
    env.phase('validate');
    if (!this.advanceHash(env, s)) {
      // Only after a pathological order of chunks: keep the progress, ask the client to retry.
      this.saveSession(s);
      env.requestSweep();
      throw new Fail({ Internal: 'the file is still being hashed; retry commit_asset shortly' }, true);
    }
    env.phase('hash');
    const owner = this.owner(s.owner);
    if (!s.digest || !bytesEqual(s.digest, s.expectedSha256)) {
      // The bytes are not the file the client announced: end the session and free its chunks.
      this.finish(env, s, owner, SessionStatus.Failed);
      throw new Fail({ InvalidHash: null }, true);
    }
    const key = memoryKey(s.owner, s.memoryId);
    if (this.t.assets.has(key)) throw internal('memory already has an asset');
    const a: AssetRecord = {
      sha256: s.expectedSha256,
      size: s.totalSize,
      chunkCount: s.chunkCount,
      chunkSize: s.chunkSize,
      committedAt: env.now,
      // The chunks stay where the session wrote them: commit copies nothing.
      blob: s.id,
    };
    this.t.assets.insert(key, encodeAsset(a));
    owner.usedBytes += s.totalSize;
    owner.assetCount++;
    const c = this.config();
    c.storedBytes += s.totalSize;
    c.assets++;
    this.saveConfig(c);
    this.finish(env, s, owner, SessionStatus.Committed);
    env.phase('store');
    return assetView(uuidText(s.memoryId), a);
  }

  /** Ends a live session: records why, drops it from the owner's live list, queues its chunks to be freed. */
  private finish(env: Env, s: SessionRecord, owner: OwnerRecord, status: SessionStatus): void {
    s.status = status;
    s.finishedAt = env.now;
    owner.liveSessions = owner.liveSessions.filter((x) => !bytesEqual(x, s.id));
    this.saveOwner(s.owner, owner);
    this.t.finished.insert(finishedKey(s.finishedAt, s.id), new Uint8Array(0));
    if (status === SessionStatus.Committed) {
      // The bitmap and hash state are no longer needed; the tombstone stays small.
      s.received = new Uint8Array(0);
      s.hashState = new Uint8Array(0);
      this.t.work.remove(s.id);
      this.saveSession(s);
      return;
    }
    this.t.work.insert(s.id, new Uint8Array([WORK.free]));
    this.freeChunks(env, s);
  }

  /** Removes the chunks of an ended session within the work budget; the sweeper finishes the rest. */
  private freeChunks(env: Env, s: SessionRecord): void {
    let last = env.instructions();
    let perChunk = 0n;
    let done = true;
    for (const i of bitIndices(s.received, s.chunkCount)) {
      if (perChunk > 0n && last + perChunk > WORK_BUDGET) {
        done = false;
        env.requestSweep();
        break;
      }
      this.t.chunks.remove(chunkKey(s.id, i));
      clearBit(s.received, i);
      const now = env.instructions();
      if (now - last > perChunk) perChunk = now - last;
      last = now;
    }
    if (done) {
      this.t.work.remove(s.id);
      s.hashState = new Uint8Array(0);
    }
    this.saveSession(s);
  }

  cancel_upload(env: Env, sessionId: string): null {
    const sid = uuidBytes(sessionId, 'session_id');
    const s = this.session(sid);
    // Idempotent: an unknown (or long purged) session is already cancelled.
    if (!s) return null;
    if (env.caller.isAnonymous() || !bytesEqual(s.owner, env.caller.toUint8Array())) throw unauthorized();
    if (s.status === SessionStatus.Committed) throw invalid('the upload was already committed; committed assets are permanent');
    if (s.status !== SessionStatus.Live) return null;
    this.finish(env, s, this.owner(s.owner), SessionStatus.Cancelled);
    return null;
  }

  get_upload_progress(env: Env, sessionId: string): UploadSession {
    const s = this.ownedSession(env, sessionId);
    this.requireLive(env, s);
    return this.sessionView(s);
  }

  list_my_uploads(env: Env): UploadSession[] {
    if (env.caller.isAnonymous()) return [];
    return this.liveSessions(env, this.owner(env.caller.toUint8Array())).map((s) => this.sessionView(s));
  }

  read_chunk(env: Env, memoryId: string, index: number): Uint8Array {
    const owner = env.caller.toUint8Array();
    const id = uuidBytes(memoryId, 'memory_id');
    const ab = this.t.assets.get(memoryKey(owner, id));
    if (!ab) throw notFound();
    const a = decodeAsset(ab);
    if (index >= a.chunkCount) throw invalid(`chunk index ${index} is out of range (chunk_count ${a.chunkCount})`);
    const bytes = this.t.chunks.get(chunkKey(a.blob, index));
    if (!bytes) throw internal(`chunk ${index} of memory ${memoryId} is missing`);
    return bytes;
  }

  // -------------------------------------------------------------- galleries

  store_gallery(env: Env, g: Gallery): StoreGalleryResult {
    const owner = this.writer(env);
    const id = uuidBytes(g.id, 'gallery.id');
    checkText(g.title, 'gallery.title', LIMITS.title, { allowEmpty: true });
    if (g.description.length) checkText(g.description[0], 'gallery.description', LIMITS.description, { allowEmpty: true, multiline: true });
    if (g.memory_ids.length > LIMITS.galleryMemories) throw invalid(`a gallery holds at most ${LIMITS.galleryMemories} memories`);
    const seen = new Set<string>();
    const memoryIds = g.memory_ids.map((m) => {
      if (seen.has(m)) throw invalid(`gallery.memory_ids lists ${m} twice`);
      seen.add(m);
      return uuidBytes(m, 'gallery.memory_ids[]');
    });
    const key = memoryKey(owner, id);
    const existing = this.t.galleries.get(key);
    if (existing) {
      const old = decodeGallery(existing);
      const same = { ...old, title: g.title, description: g.description[0], memoryIds };
      // Storing the same gallery again writes nothing; a changed one is updated in place.
      if (!bytesEqual(encodeGallery(same), existing)) this.t.galleries.insert(key, encodeGallery({ ...same, updatedAt: env.now }));
      return { gallery_id: g.id, created: false };
    }
    const o = this.owner(owner);
    const rec: GalleryRecord = { title: g.title, description: g.description[0], memoryIds, createdAt: env.now, updatedAt: env.now };
    this.t.galleries.insert(key, encodeGallery(rec));
    this.t.galleryIndex.insert(indexKey(owner, o.galleryCount), id);
    o.galleryCount++;
    this.saveOwner(owner, o);
    return { gallery_id: g.id, created: true };
  }

  private galleryView(owner: Uint8Array, id: Uint8Array, g: GalleryRecord): StoredGallery {
    return {
      id: uuidText(id),
      owner: Principal.fromUint8Array(owner),
      title: g.title,
      description: opt(g.description),
      memory_ids: g.memoryIds.map(uuidText),
      created_at: g.createdAt,
      updated_at: g.updatedAt,
    };
  }

  get_gallery(env: Env, galleryId: string): StoredGallery {
    const owner = env.caller.toUint8Array();
    const id = uuidBytes(galleryId, 'gallery_id');
    const g = this.t.galleries.get(memoryKey(owner, id));
    if (!g) throw notFound();
    return this.galleryView(owner, id, decodeGallery(g));
  }

  list_galleries(env: Env, cursor: [] | [string], limit: [] | [number]): GalleryPage {
    const owner = env.caller.toUint8Array();
    const p = page(cursor, limit);
    const o = this.owner(owner);
    const last = Math.min(o.galleryCount, p.start + p.limit);
    const items: StoredGallery[] = [];
    let replyBytes = 0;
    let pageIds = 0;
    let end = p.start;
    for (; end < last; end++) {
      const id = this.t.galleryIndex.get(indexKey(owner, end));
      const g = id && this.t.galleries.get(memoryKey(owner, id));
      if (!id || !g) throw internal(`gallery index ${end} broken`);
      const rec = decodeGallery(g);
      // A gallery holds up to 10,000 ids. Replying one costs about 390 thousand instructions per id
      // (3.9 billion for a full gallery, of the 5 billion a query may use) and 37 bytes (of the 2 MiB
      // a reply may hold), so a page of 20 full galleries would trap: the page ends early instead.
      const size = g.length + 21 * rec.memoryIds.length + 128;
      const ids = pageIds + rec.memoryIds.length;
      if (items.length > 0 && (replyBytes + size > PAGE_REPLY_BUDGET || ids > LIMITS.galleryMemories)) break;
      replyBytes += size;
      pageIds = ids;
      items.push(this.galleryView(owner, id, rec));
    }
    return { items, next_cursor: end < o.galleryCount ? [String(end)] : [] };
  }

  // ------------------------------------------------------ principal proofs

  prove_principal(env: Env, nonce: string): ProofReceipt {
    const caller = this.writer(env);
    const key = utf8(checkNonce(nonce));
    const existing = this.t.proofs.get(key);
    if (existing) {
      const p = decodeProof(existing);
      // Single use: a nonce names one principal, once; the same caller retrying gets the same receipt.
      if (!bytesEqual(p.principal, caller)) throw unauthorized();
      if (p.expiresAt <= env.now) throw invalid('nonce expired');
      return { principal: env.caller, expires_at: p.expiresAt };
    }
    const expiresAt = env.now + PROOF_TTL_NS;
    this.t.proofs.insert(key, encodeProof({ principal: caller, expiresAt }));
    this.t.proofExpiry.insert(proofExpiryKey(expiresAt, nonce), new Uint8Array(0));
    return { principal: env.caller, expires_at: expiresAt };
  }

  nonce_principal(env: Env, nonce: string): [] | [Principal] {
    if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) return [];
    const b = this.t.proofs.get(utf8(nonce));
    if (!b) return [];
    const p = decodeProof(b);
    return p.expiresAt > env.now ? [Principal.fromUint8Array(p.principal)] : [];
  }

  // ------------------------------------------------------- usage and admin

  private usage(env: Env, p: Uint8Array): Usage {
    const c = this.config();
    const o = this.owner(p);
    const live = this.liveSessions(env, o);
    let reserved = 0n;
    for (const s of live) reserved += s.totalSize;
    return {
      used_bytes: o.usedBytes,
      reserved_bytes: reserved,
      limit_bytes: this.quotaOf(o, c),
      memories: BigInt(o.memoryCount),
      galleries: BigInt(o.galleryCount),
      assets: BigInt(o.assetCount),
      active_uploads: live.length,
      max_active_uploads: c.maxLiveSessions,
    };
  }

  get_usage(env: Env): Usage {
    return this.usage(env, env.caller.toUint8Array());
  }

  get_limits(): Limits {
    return limitsView(this.config());
  }

  set_limits(env: Env, l: Limits): Limits {
    this.requireAdmin(env);
    validateLimits(l);
    const c = this.config();
    c.maxFileSize = l.max_file_size;
    c.chunkSize = l.chunk_size;
    c.sessionTtlSeconds = l.session_ttl_seconds;
    c.maxLiveSessions = l.max_live_sessions;
    c.defaultQuotaBytes = l.default_quota_bytes;
    this.saveConfig(c);
    return limitsView(c);
  }

  set_quota(env: Env, p: Principal, quota: [] | [bigint]): Usage {
    this.requireAdmin(env);
    if (p.isAnonymous()) throw invalid('the anonymous principal cannot store anything');
    const key = p.toUint8Array();
    const o = this.owner(key);
    o.quota = quota[0];
    this.saveOwner(key, o);
    return this.usage(env, key);
  }

  set_presence_verifiers(env: Env, verifiers: Principal[]): Principal[] {
    this.requireAdmin(env);
    if (verifiers.length > LIMITS.verifiers) throw invalid(`at most ${LIMITS.verifiers} presence verifiers`);
    if (verifiers.some((v) => v.isAnonymous())) throw invalid('the anonymous principal cannot be a presence verifier');
    const c = this.config();
    c.verifiers = [];
    for (const v of verifiers) {
      const b = v.toUint8Array();
      if (!c.verifiers.some((x) => bytesEqual(x, b))) c.verifiers.push(b);
    }
    this.saveConfig(c);
    return c.verifiers.map((b) => Principal.fromUint8Array(b));
  }

  get_presence_verifiers(env: Env): Principal[] {
    this.requireAdmin(env);
    return this.config().verifiers.map((b) => Principal.fromUint8Array(b));
  }

  get_stats(env: Env): Stats {
    this.requireAdmin(env);
    const c = this.config();
    let live = 0n;
    let freeing = 0n;
    for (const [, kind] of this.t.work.items()) {
      if (kind[0] === WORK.live) live++;
      else freeing++;
    }
    return {
      principals: BigInt(this.t.owners.len()),
      memories: BigInt(this.t.memories.len()),
      galleries: BigInt(this.t.galleries.len()),
      assets: c.assets,
      stored_bytes: c.storedBytes,
      live_sessions: live,
      chunks: BigInt(this.t.chunks.len()),
      session_records: BigInt(this.t.sessions.len()),
      pending_proofs: BigInt(this.t.proofs.len()),
      sessions_freeing: freeing,
    };
  }

  // ------------------------------------------------------------- sweeping

  /**
   * Timer work: expires sessions past their expiry, frees the chunks of ended
   * sessions, finishes hashing backlogs, purges old tombstones and proofs.
   * Returns true when work is left for another round (budget reached).
   */
  sweep(env: Env): boolean {
    // Bounded housekeeping first (100 entries each), so it runs even when the work map is long.
    // Tombstones, oldest first; stop at the first one still freeing chunks or not yet due.
    for (const [k] of this.t.finished.items(0, 100)) {
      const finishedAt = new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0);
      if (finishedAt + FINISHED_RETENTION_NS > env.now) break;
      const sid = k.slice(8);
      if (this.t.work.has(sid)) break;
      this.t.sessions.remove(sid);
      this.t.finished.remove(k);
    }
    for (const [k] of this.t.proofExpiry.items(0, 100)) {
      const expiresAt = new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0);
      if (expiresAt > env.now) break;
      this.t.proofs.remove(k.slice(8));
      this.t.proofExpiry.remove(k);
    }
    // The work map is read in batches from where the last sweep ran out of budget: restarting at
    // its front each time would spend every round on the same live sessions and never reach the
    // rest (which then never expire nor free their chunks), and reading it whole would not fit a
    // message once it is long.
    const owners = new Map<string, OwnerRecord>();
    const start = this.sweepFrom;
    let pos = start;
    for (;;) {
      const batch = this.t.work.items(pos, SWEEP_BATCH);
      for (const [sid, kind] of batch) {
        if (env.instructions() > WORK_BUDGET) {
          this.sweepFrom = pos;
          return true;
        }
        this.sweepOne(env, sid, kind, owners);
        // An entry that left the map shifts the ones after it down by one.
        if (this.t.work.has(sid)) pos++;
      }
      if (batch.length < SWEEP_BATCH) break;
    }
    this.sweepFrom = 0;
    // Started in the middle: the front of the map is due for another pass.
    return start > 0 || env.instructions() > WORK_BUDGET;
  }

  private sweepOne(env: Env, sid: Uint8Array, kind: Uint8Array, owners: Map<string, OwnerRecord>): void {
    const s = this.session(sid);
    if (!s) {
      this.t.work.remove(sid);
      return;
    }
    if (kind[0] === WORK.live) {
      if (s.status !== SessionStatus.Live) {
        this.t.work.remove(sid);
      } else if (s.expiresAt <= env.now) {
        const hex = toHex(s.owner);
        const o = owners.get(hex) ?? this.owner(s.owner);
        owners.set(hex, o);
        this.finish(env, s, o, SessionStatus.Expired);
      } else if (s.hashedChunks < s.chunkCount && hasBit(s.received, s.hashedChunks)) {
        this.advanceHash(env, s);
        this.saveSession(s);
      }
    } else {
      this.freeChunks(env, s);
    }
  }

  // ----------------------------------------------------------- invariants

  /** Checks the canister's invariants over all of stable memory (tests, audits; cost grows with data). */
  check_invariants(env: Env): InvariantReport {
    this.requireAdmin(env);
    const violations: string[] = [];
    const c = this.config();
    const chunkOwners = new Map<string, { has: (i: number) => boolean }>();
    const ownerUsed = new Map<string, bigint>();
    const ownerAssets = new Map<string, number>();
    let storedBytes = 0n;
    let assets = 0n;
    for (const [k, v] of this.t.assets.items()) {
      const a = decodeAsset(v);
      const owner = toHex(k.subarray(1, 1 + k[0]));
      ownerUsed.set(owner, (ownerUsed.get(owner) ?? 0n) + a.size);
      ownerAssets.set(owner, (ownerAssets.get(owner) ?? 0) + 1);
      storedBytes += a.size;
      assets++;
      if (!this.t.memories.has(k)) violations.push(`asset without memory ${toHex(k)}`);
      chunkOwners.set(toHex(a.blob), { has: (i) => i < a.chunkCount });
      for (let i = 0; i < a.chunkCount; i++) {
        if (!this.t.chunks.has(chunkKey(a.blob, i))) violations.push(`asset ${toHex(a.blob)} lacks chunk ${i}`);
      }
    }
    if (storedBytes !== c.storedBytes) violations.push(`stored bytes ${c.storedBytes} != sum of assets ${storedBytes}`);
    if (assets !== c.assets) violations.push(`asset count ${c.assets} != ${assets}`);
    let sessions = 0n;
    const liveByOwner = new Map<string, number>();
    for (const [sid, v] of this.t.sessions.items()) {
      sessions++;
      const s = decodeSession(v);
      if (!bytesEqual(sid, s.id)) violations.push(`session key mismatch ${toHex(sid)}`);
      const work = this.t.work.get(sid);
      if (s.status === SessionStatus.Committed) {
        if (work) violations.push(`committed session ${toHex(sid)} still has work`);
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
    // Keys only: loading every chunk into the JS heap would not fit a query. Chunk lengths are checked at put_chunk.
    for (const k of this.t.chunks.keys()) {
      chunks++;
      const blob = toHex(k.subarray(0, 16));
      const index = new DataView(k.buffer, k.byteOffset + 16, 4).getUint32(0);
      const o = chunkOwners.get(blob);
      if (!o || !o.has(index)) violations.push(`orphan chunk ${blob}/${index}`);
    }
    let principals = 0n;
    for (const [k, v] of this.t.owners.items()) {
      principals++;
      const o = decodeOwner(v);
      const hex = toHex(k);
      if (o.usedBytes !== (ownerUsed.get(hex) ?? 0n)) violations.push(`owner ${hex} uses ${o.usedBytes}, assets sum to ${ownerUsed.get(hex) ?? 0n}`);
      if (o.assetCount !== (ownerAssets.get(hex) ?? 0)) violations.push(`owner ${hex} asset count ${o.assetCount} != ${ownerAssets.get(hex) ?? 0}`);
      const live = liveByOwner.get(hex) ?? 0;
      if (live > c.maxLiveSessions) violations.push(`owner ${hex} has ${live} live sessions (max ${c.maxLiveSessions})`);
      for (let i = 0; i < o.memoryCount; i++) {
        const id = this.t.memoryIndex.get(indexKey(k, i));
        if (!id || !this.t.memories.has(memoryKey(k, id))) violations.push(`owner ${hex} memory index ${i} broken`);
      }
    }
    for (const [ho, n] of liveByOwner) if (!this.t.owners.has(hexBytes(ho)) && n > 0) violations.push(`live sessions of unknown owner ${ho}`);
    return { ok: violations.length === 0, violations: violations.slice(0, 100), checked_chunks: chunks, checked_sessions: sessions, checked_principals: principals };
  }
}

function opt<T>(v: T | undefined): [] | [T] {
  return v === undefined ? [] : [v];
}

function assetView(memoryId: string, a: AssetRecord): AssetInfo {
  return { memory_id: memoryId, sha256: a.sha256, size: a.size, chunk_count: a.chunkCount, chunk_size: a.chunkSize, committed_at: a.committedAt };
}

function limitsView(c: ConfigRecord): Limits {
  return {
    max_file_size: c.maxFileSize,
    chunk_size: c.chunkSize,
    session_ttl_seconds: c.sessionTtlSeconds,
    max_live_sessions: c.maxLiveSessions,
    default_quota_bytes: c.defaultQuotaBytes,
  };
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
