// Validation of everything a caller sends, before any write. Pure functions.
import { isUuid as isContractUuid, MAX_GALLERY_MEMORIES, parseUuid, TEXT_LIMITS } from '../../contract';
import { utf8 } from './codec';
import { invalid } from './errors';

export { parseUuid };

export function isUuid(s: string): boolean {
  return isContractUuid(s);
}

/** The 16 bytes of a canonical UUID, or InvalidArgument. */
export function uuidBytes(s: string, what: string): Uint8Array {
  const b = parseUuid(s);
  if (!b) throw invalid(`${what} must be a lowercase canonical UUID`);
  return b;
}

const HEX = '0123456789abcdef';

export function uuidText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  }
  return s;
}

export function sha256Arg(b: Uint8Array | number[], what: string): Uint8Array {
  const bytes = b instanceof Uint8Array ? b : Uint8Array.from(b);
  if (bytes.length !== 32) throw invalid(`${what} must be 32 bytes (SHA-256), got ${bytes.length}`);
  return bytes;
}

/** Text with a byte limit (UTF-8) and no control characters. */
export function checkText(s: string, what: string, maxBytes: number, opts: { allowEmpty?: boolean; multiline?: boolean } = {}): string {
  if (!opts.allowEmpty && s.length === 0) throw invalid(`${what} must not be empty`);
  if (utf8(s).length > maxBytes) throw invalid(`${what} is longer than ${maxBytes} bytes`);
  // eslint-disable-next-line no-control-regex
  const control = opts.multiline ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/;
  if (control.test(s)) throw invalid(`${what} contains control characters`);
  return s;
}

export const LIMITS = {
  title: TEXT_LIMITS.title,
  description: TEXT_LIMITS.description,
  tags: TEXT_LIMITS.tags,
  tag: TEXT_LIMITS.tag,
  fileName: TEXT_LIMITS.fileName,
  mimeType: TEXT_LIMITS.mimeType,
  idempotencyKey: TEXT_LIMITS.idempotencyKey,
  galleryMemories: MAX_GALLERY_MEMORIES,
  presenceIds: 1_000,
  verifyIds: 100,
  pageDefault: 20,
  pageMax: 100,
  verifiers: 32,
} as const;

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export function checkNonce(nonce: string): string {
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) throw invalid('nonce must be 16 to 128 characters of [A-Za-z0-9_-]');
  return nonce;
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(;.*)?$/i;

export function checkMime(s: string): string {
  checkText(s, 'metadata.mime_type', LIMITS.mimeType);
  if (!MIME.test(s)) throw invalid('metadata.mime_type must look like type/subtype');
  return s;
}

/** Page cursor (a decimal offset we handed out) and limit (default 20, at most 100). */
export function page(cursor: [] | [string], limit: [] | [number]): { start: number; limit: number } {
  let start = 0;
  if (cursor.length) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(cursor[0])) throw invalid('cursor is not one this canister handed out');
    start = Number(cursor[0]);
  }
  let n: number = LIMITS.pageDefault;
  if (limit.length) {
    if (limit[0] < 1 || limit[0] > LIMITS.pageMax) throw invalid(`limit must be between 1 and ${LIMITS.pageMax}`);
    n = limit[0];
  }
  return { start, limit: n };
}
