// Limits every tier enforces: the canister refuses past them, the server
// refuses past them, the client refuses before queueing. Binary units.

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Largest file a memory can hold: 100 MiB. */
export const MAX_FILE_BYTES = 100 * MiB;
/** Largest chunk the canister takes in one put_chunk: 1 MiB. */
export const MAX_CHUNK_BYTES = 1 * MiB;
/** The IC refuses an ingress message whose argument is larger than this. */
export const MAX_INGRESS_BYTES = 2 * MiB;
/** A memory's thumbnail or poster frame, a small artifact of its own. */
export const MAX_THUMBNAIL_BYTES = 64 * KiB;

/** Text limits, in UTF-8 bytes (not characters: "é" is 2, an emoji 4). */
export const TEXT_LIMITS = {
  title: 512,
  description: 8192,
  fileName: 255,
  mimeType: 255,
  tag: 64,
  tags: 50,
  idempotencyKey: 128,
} as const;

/** Memories one gallery may list. */
export const MAX_GALLERY_MEMORIES = 10_000;

/** Live upload sessions per principal on the canister. */
export const MAX_ACTIVE_UPLOADS = 3;
/** An upload session expires this long after its last activity. */
export const UPLOAD_SESSION_TTL_MS = 30 * 60 * 1000;

/** UTF-8 length of a string without allocating where the runtime lacks TextEncoder (azle's QuickJS has it; kept portable). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
