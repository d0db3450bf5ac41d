// Memories: metadata (created or updated idempotently), reading and listing
// the caller's own, presence answers for the client and the server's
// verifier, and deleting a memory with everything that hangs off it.
import { Principal } from '@dfinity/principal';
import { releaseBlob } from './blobs';
import { bytesEqual, concatBytes, readU32be, u32be } from './bytes';
import type { DeleteResult, Memory, MemoryMetadata, MemoryPage, MemoryPresence, MemoryType, PresencePage, UpsertResult } from './candid-types';
import { internal, invalid, notFound, unauthorized } from './errors';
import { removeFromGalleries } from './galleries';
import {
  type AssetRecord,
  decodeAsset,
  decodeMemory,
  encodeMemory,
  MEMORY_TYPES,
  type MemoryRecord,
  type MemoryTypeName,
  type MetadataRecord,
  SessionStatus,
} from './records';
import { assetView, type Env, opt, type State } from './state';
import { idempotencyKey, indexKey, memoryKey, ownerKey } from './store';
import { finish } from './uploads';
import { checkMime, checkText, isUuid, LIMITS, page, uuidBytes, uuidText } from './validate';

function memoryType(t: MemoryType): MemoryTypeName {
  const keys = Object.keys(t);
  const name = keys[0] as MemoryTypeName;
  if (keys.length !== 1 || !MEMORY_TYPES.includes(name)) throw invalid('memory_type must be one of Image, Video, Audio, Document, Note');
  return name;
}

function metadataRecord(m: MemoryMetadata): MetadataRecord {
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

function memoryView(owner: Uint8Array, id: Uint8Array, m: MemoryRecord, a: AssetRecord | undefined): Memory {
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

/** Presence of each id in one owner's namespace; the key prefix and owner principal are built once. */
function presenceOf(st: State, owner: Uint8Array, memoryIds: string[]): MemoryPresence[] {
  const prefix = ownerKey(owner);
  const ownerPrincipal = Principal.fromUint8Array(owner);
  return memoryIds.map((memoryId) => {
    const key = concatBytes(prefix, uuidBytes(memoryId, 'memory id'));
    const present = st.t.memories.has(key);
    const ab = present ? st.t.assets.get(key) : undefined;
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

export function upsert_metadata(env: Env, st: State, memoryId: string, memoryTypeArg: MemoryType, metadata: MemoryMetadata, idemKey: string): UpsertResult {
  const owner = st.writer(env);
  const id = uuidBytes(memoryId, 'memory_id');
  const type = memoryType(memoryTypeArg);
  const meta = metadataRecord(metadata);
  checkText(idemKey, 'idempotency_key', LIMITS.idempotencyKey);
  const ik = idempotencyKey(owner, idemKey);
  const seen = st.t.idempotency.get(ik);
  if (seen) {
    if (!bytesEqual(seen, id)) throw invalid('idempotency_key was already used for another memory');
    // The same request again: report the memory without writing anything.
    return { memory_id: memoryId, created: false };
  }
  const key = memoryKey(owner, id);
  const existing = st.t.memories.get(key);
  let created = false;
  if (!existing) {
    const o = st.owner(owner);
    st.t.memories.insert(key, encodeMemory({ memoryType: type, metadata: meta, createdAt: env.now, updatedAt: env.now }));
    st.t.memoryIndex.insert(indexKey(owner, o.memoryCount), id);
    st.t.memorySeq.insert(key, u32be(o.memoryCount));
    o.memoryCount++;
    st.saveOwner(owner, o);
    created = true;
  } else {
    const old = decodeMemory(existing);
    const next = encodeMemory({ memoryType: type, metadata: meta, createdAt: old.createdAt, updatedAt: old.updatedAt });
    if (!bytesEqual(next, existing)) {
      st.t.memories.insert(key, encodeMemory({ memoryType: type, metadata: meta, createdAt: old.createdAt, updatedAt: env.now }));
    }
  }
  st.t.idempotency.insert(ik, id);
  return { memory_id: memoryId, created };
}

export function get_memory(env: Env, st: State, memoryId: string): Memory {
  const owner = env.caller.toUint8Array();
  const id = uuidBytes(memoryId, 'memory_id');
  const key = memoryKey(owner, id);
  const m = st.t.memories.get(key);
  if (!m) throw notFound();
  const a = st.t.assets.get(key);
  return memoryView(owner, id, decodeMemory(m), a ? decodeAsset(a) : undefined);
}

export function list_memories(env: Env, st: State, cursor: [] | [string], limit: [] | [number]): MemoryPage {
  const owner = env.caller.toUint8Array();
  const p = page(cursor, limit);
  const o = st.owner(owner);
  const items: Memory[] = [];
  const end = Math.min(o.memoryCount, p.start + p.limit);
  for (let seq = p.start; seq < end; seq++) {
    const id = st.t.memoryIndex.get(indexKey(owner, seq));
    if (!id) throw internal(`memory index ${seq} missing`);
    const key = memoryKey(owner, id);
    const m = st.t.memories.get(key);
    if (!m) throw internal(`memory ${uuidText(id)} missing`);
    const a = st.t.assets.get(key);
    items.push(memoryView(owner, id, decodeMemory(m), a ? decodeAsset(a) : undefined));
  }
  return { items, next_cursor: end < o.memoryCount ? [String(end)] : [] };
}

export function get_memory_presence(env: Env, st: State, memoryId: string): MemoryPresence {
  return presenceOf(st, env.caller.toUint8Array(), [memoryId])[0];
}

function requireUuids(ids: string[]): void {
  for (const id of ids) if (!isUuid(id)) throw invalid(`memory id ${JSON.stringify(id.slice(0, 40))} is not a lowercase canonical UUID`);
}

export function get_memory_list_presence(env: Env, st: State, ids: string[], cursor: [] | [string], limit: [] | [number]): PresencePage {
  if (ids.length > LIMITS.presenceIds) throw invalid(`at most ${LIMITS.presenceIds} ids per call`);
  requireUuids(ids);
  const p = page(cursor, limit);
  const end = Math.min(ids.length, p.start + p.limit);
  const items = presenceOf(st, env.caller.toUint8Array(), ids.slice(p.start, end));
  return { items, next_cursor: end < ids.length ? [String(end)] : [] };
}

export function verify_presence(env: Env, st: State, owner: Principal, ids: string[]): MemoryPresence[] {
  if (env.caller.isAnonymous()) throw unauthorized();
  const caller = env.caller.toUint8Array();
  if (!env.isController(env.caller) && !st.config().verifiers.some((v) => bytesEqual(v, caller))) throw unauthorized();
  if (ids.length > LIMITS.verifyIds) throw invalid(`at most ${LIMITS.verifyIds} ids per call`);
  requireUuids(ids);
  return presenceOf(st, owner.toUint8Array(), ids);
}

/** Where the memory sits in the owner's index (recorded at creation; older memories are looked up). */
function indexSlot(st: State, owner: Uint8Array, id: Uint8Array, memoryCount: number): number {
  const seq = st.t.memorySeq.get(memoryKey(owner, id));
  if (seq) return readU32be(seq);
  for (let i = 0; i < memoryCount; i++) {
    const at = st.t.memoryIndex.get(indexKey(owner, i));
    if (at && bytesEqual(at, id)) return i;
  }
  throw internal(`memory ${uuidText(id)} is not in its owner's index`);
}

/**
 * Deletes one of the caller's memories: metadata, thumbnail, asset (its bytes
 * freed when no other memory of the caller holds them), its place in the
 * caller's galleries and any live upload for it. Another principal's id is
 * not in the caller's namespace: it is simply absent. Idempotent.
 */
export function delete_memory(env: Env, st: State, memoryId: string): DeleteResult {
  const owner = st.writer(env);
  const id = uuidBytes(memoryId, 'memory_id');
  const key = memoryKey(owner, id);
  if (!st.t.memories.has(key)) return { deleted: false, freed_bytes: 0n };
  const o = st.owner(owner);
  const c = st.config();
  for (const s of st.liveSessions(env, o)) {
    if (bytesEqual(s.memoryId, id)) finish(env, st, s, o, SessionStatus.Cancelled);
  }
  let freed = 0n;
  const ab = st.t.assets.get(key);
  if (ab) {
    st.t.assets.remove(key);
    freed = releaseBlob(env, st, owner, decodeAsset(ab), o, c);
    o.assetCount--;
    c.assets--;
  }
  if (st.t.thumbnails.has(key)) st.t.thumbnails.remove(key);
  removeFromGalleries(env, st, owner, o, id);
  // The index stays dense (list_memories pages over it): the last memory takes the freed slot.
  const slot = indexSlot(st, owner, id, o.memoryCount);
  const lastSlot = o.memoryCount - 1;
  if (slot !== lastSlot) {
    const lastId = st.t.memoryIndex.get(indexKey(owner, lastSlot));
    if (!lastId) throw internal(`memory index ${lastSlot} missing`);
    st.t.memoryIndex.insert(indexKey(owner, slot), lastId);
    st.t.memorySeq.insert(memoryKey(owner, lastId), u32be(slot));
  }
  st.t.memoryIndex.remove(indexKey(owner, lastSlot));
  if (st.t.memorySeq.has(key)) st.t.memorySeq.remove(key);
  st.t.memories.remove(key);
  o.memoryCount--;
  st.saveOwner(owner, o);
  st.saveConfig(c);
  return { deleted: true, freed_bytes: freed };
}
