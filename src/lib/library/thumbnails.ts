// Thumbnails read from the canister (get_thumbnail, at most 64 KiB each),
// for memories the server has no thumbnail for or while it is unreachable.
// Asked only for cards that are on screen (the grid is windowed) and kept
// for the page's life as object URLs, so a card scrolled back into view
// does not ask again.
import type { CanisterReader } from '../api/canister';

const cache = new Map<string, Promise<string | null>>();

export function canisterThumbnail(canister: CanisterReader, memoryId: string): Promise<string | null> {
  let p = cache.get(memoryId);
  if (!p) {
    p = canister
      .thumbnail(memoryId)
      .then((b) => (b ? URL.createObjectURL(b) : null))
      .catch(() => {
        cache.delete(memoryId);
        return null;
      });
    cache.set(memoryId, p);
  }
  return p;
}
