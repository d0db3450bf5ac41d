// Galleries: an owner's ordered lists of memory ids with a title, stored or
// updated idempotently, read one at a time or in pages that fit a reply.
import { Principal } from '@dfinity/principal';
import { bytesEqual } from './bytes';
import type { Gallery, GalleryPage, StoredGallery, StoreGalleryResult } from './candid-types';
import { internal, invalid, notFound } from './errors';
import { decodeGallery, encodeGallery, type GalleryRecord, type OwnerRecord } from './records';
import { type Env, opt, type State } from './state';
import { indexKey, memoryKey } from './store';
import { checkText, LIMITS, page, uuidBytes, uuidText } from './validate';

/** Reply bytes one page may fill: the IC refuses replies over 2 MiB; the rest is room for Candid's framing. */
const PAGE_REPLY_BUDGET = 1024 * 1024;

export function store_gallery(env: Env, st: State, g: Gallery): StoreGalleryResult {
  const owner = st.writer(env);
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
  const existing = st.t.galleries.get(key);
  if (existing) {
    const old = decodeGallery(existing);
    const same = { ...old, title: g.title, description: g.description[0], memoryIds };
    // Storing the same gallery again writes nothing; a changed one is updated in place.
    if (!bytesEqual(encodeGallery(same), existing)) st.t.galleries.insert(key, encodeGallery({ ...same, updatedAt: env.now }));
    return { gallery_id: g.id, created: false };
  }
  const o = st.owner(owner);
  const rec: GalleryRecord = { title: g.title, description: g.description[0], memoryIds, createdAt: env.now, updatedAt: env.now };
  st.t.galleries.insert(key, encodeGallery(rec));
  st.t.galleryIndex.insert(indexKey(owner, o.galleryCount), id);
  o.galleryCount++;
  st.saveOwner(owner, o);
  return { gallery_id: g.id, created: true };
}

function galleryView(owner: Uint8Array, id: Uint8Array, g: GalleryRecord): StoredGallery {
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

export function get_gallery(env: Env, st: State, galleryId: string): StoredGallery {
  const owner = env.caller.toUint8Array();
  const id = uuidBytes(galleryId, 'gallery_id');
  const g = st.t.galleries.get(memoryKey(owner, id));
  if (!g) throw notFound();
  return galleryView(owner, id, decodeGallery(g));
}

export function list_galleries(env: Env, st: State, cursor: [] | [string], limit: [] | [number]): GalleryPage {
  const owner = env.caller.toUint8Array();
  const p = page(cursor, limit);
  const o = st.owner(owner);
  const last = Math.min(o.galleryCount, p.start + p.limit);
  const items: StoredGallery[] = [];
  let replyBytes = 0;
  let pageIds = 0;
  let end = p.start;
  for (; end < last; end++) {
    const id = st.t.galleryIndex.get(indexKey(owner, end));
    const g = id && st.t.galleries.get(memoryKey(owner, id));
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
    items.push(galleryView(owner, id, rec));
  }
  return { items, next_cursor: end < o.galleryCount ? [String(end)] : [] };
}

/** Drops a deleted memory from every gallery of its owner that lists it. */
export function removeFromGalleries(env: Env, st: State, owner: Uint8Array, o: OwnerRecord, memoryId: Uint8Array): void {
  for (let i = 0; i < o.galleryCount; i++) {
    const gid = st.t.galleryIndex.get(indexKey(owner, i));
    const key = gid && memoryKey(owner, gid);
    const b = key && st.t.galleries.get(key);
    if (!key || !b) continue;
    const g = decodeGallery(b);
    const kept = g.memoryIds.filter((m) => !bytesEqual(m, memoryId));
    if (kept.length !== g.memoryIds.length) st.t.galleries.insert(key, encodeGallery({ ...g, memoryIds: kept, updatedAt: env.now }));
  }
}
