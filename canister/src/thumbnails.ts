// A memory's thumbnail (or poster frame): a small image of its own, at most
// MAX_THUMBNAIL_BYTES, with the SHA-256 the canister computed. Its type is
// read from the bytes' signature, so it cannot disagree with them.
import { MAX_THUMBNAIL_BYTES } from '../../contract';
import { bytesEqual } from './bytes';
import type { Thumbnail } from './candid-types';
import { invalid, notFound } from './errors';
import { decodeThumbnail, encodeThumbnail } from './records';
import { sha256 } from './sha256';
import { asBytes, type Bytes, type Env, type State } from './state';
import { memoryKey } from './store';
import { uuidBytes } from './validate';

const startsWith = (b: Uint8Array, sig: number[], at = 0): boolean => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string): number[] => Array.from(s, (ch) => ch.charCodeAt(0));

/** The image type of `b` by its signature, or undefined. */
export function sniffImage(b: Uint8Array): string | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) return 'image/gif';
  if (b.length >= 12 && startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) return 'image/webp';
  return undefined;
}

export function set_thumbnail(env: Env, st: State, memoryId: string, data: Bytes): null {
  const owner = st.writer(env);
  const id = uuidBytes(memoryId, 'memory_id');
  const bytes = asBytes(data);
  if (bytes.length === 0 || bytes.length > MAX_THUMBNAIL_BYTES) throw invalid(`a thumbnail is 1 to ${MAX_THUMBNAIL_BYTES} bytes, got ${bytes.length}`);
  const mimeType = sniffImage(bytes);
  if (!mimeType) throw invalid('a thumbnail must be a JPEG, PNG, WebP or GIF image');
  const key = memoryKey(owner, id);
  if (!st.t.memories.has(key)) throw notFound();
  const old = st.t.thumbnails.get(key);
  // The same thumbnail again writes nothing.
  if (old && bytesEqual(decodeThumbnail(old).bytes, bytes)) return null;
  st.t.thumbnails.insert(key, encodeThumbnail({ mimeType, sha256: sha256(bytes), bytes }));
  return null;
}

export function get_thumbnail(env: Env, st: State, memoryId: string): [] | [Thumbnail] {
  const key = memoryKey(env.caller.toUint8Array(), uuidBytes(memoryId, 'memory_id'));
  if (!st.t.memories.has(key)) throw notFound();
  const b = st.t.thumbnails.get(key);
  if (!b) return [];
  const t = decodeThumbnail(b);
  return [{ bytes: t.bytes, sha256: t.sha256, mime_type: t.mimeType }];
}
