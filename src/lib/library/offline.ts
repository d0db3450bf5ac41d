// What the library keeps for offline use, in Cache Storage (shared with the
// service worker): the last list the server gave this user (a snapshot per
// principal) and the thumbnails already seen (the service worker caches
// them stale-while-revalidate). Sign-out deletes both, so the next person
// on this browser finds neither.
import type { MemoryPresence, ServerFolder, ServerMemory } from '../api/types';

/** The service worker's cache of `GET /api/memories/:id/thumbnail`. */
export const THUMBNAIL_CACHE = 'forever-thumbnails';
const LIBRARY_CACHE = 'forever-library';

export interface LibrarySnapshot {
  principal: string;
  /** When the server gave this list (ms since the epoch). */
  at: number;
  server: ServerMemory[];
  presence: MemoryPresence[];
  folders: ServerFolder[];
}

const keyFor = (principal: string) => `/offline/library/${encodeURIComponent(principal)}`;
const available = () => typeof caches !== 'undefined';

export async function saveSnapshot(s: LibrarySnapshot): Promise<void> {
  if (!available()) return;
  const cache = await caches.open(LIBRARY_CACHE);
  await cache.put(keyFor(s.principal), new Response(JSON.stringify(s), { headers: { 'content-type': 'application/json' } }));
}

export async function readSnapshot(principal: string): Promise<LibrarySnapshot | null> {
  if (!available()) return null;
  const r = await (await caches.open(LIBRARY_CACHE)).match(keyFor(principal));
  if (!r) return null;
  const s = (await r.json()) as LibrarySnapshot;
  return s.principal === principal ? s : null;
}

export async function clearOfflineCopies(): Promise<void> {
  if (!available()) return;
  await Promise.all([caches.delete(LIBRARY_CACHE), caches.delete(THUMBNAIL_CACHE)]);
}
