// A memory's thumbnail (an image's, or a video's poster frame) as a small
// WebP (JPEG where the browser cannot encode WebP) of at most `maxBytes`:
// decoded with createImageBitmap and drawn on an OffscreenCanvas, so it runs
// in the hash worker and in the service worker, never on the main thread.
// Smaller edges and lower qualities are tried until one fits.

/** Longest edge of a thumbnail, in pixels: enough for a grid cell on a dense screen. */
export const THUMBNAIL_EDGE = 320;
const SMALLEST_EDGE = 48;
const QUALITIES = [0.82, 0.65, 0.45];
const TYPES = ['image/webp', 'image/jpeg'];

/** Whether this context can make thumbnails at all (Node has neither API). */
export function canMakeThumbnails(): boolean {
  return typeof OffscreenCanvas !== 'undefined' && typeof createImageBitmap !== 'undefined';
}

/** The thumbnail of `source`, or null when it cannot be decoded here or nothing fits in `maxBytes`. */
export async function makeThumbnail(source: Blob | ImageBitmap, maxBytes: number, edge = THUMBNAIL_EDGE): Promise<Blob | null> {
  if (!canMakeThumbnails()) return null;
  let bitmap: ImageBitmap;
  try {
    bitmap = source instanceof Blob ? await createImageBitmap(source) : source;
  } catch {
    // Not an image this browser decodes (HEIC in Chromium, a damaged file): no thumbnail, the type icon shows.
    return null;
  }
  try {
    if (bitmap.width === 0 || bitmap.height === 0) return null;
    for (let e = edge; e >= SMALLEST_EDGE; e = Math.floor(e * 0.7)) {
      const scale = Math.min(1, e / Math.max(bitmap.width, bitmap.height));
      const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
      const g = canvas.getContext('2d');
      if (!g) return null;
      g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      for (const type of TYPES) {
        for (const quality of QUALITIES) {
          const blob = await canvas.convertToBlob({ type, quality });
          // A browser without the encoder answers PNG: try the next type.
          if (blob.type !== type) break;
          if (blob.size <= maxBytes) return blob;
        }
      }
    }
    return null;
  } finally {
    bitmap.close();
  }
}
