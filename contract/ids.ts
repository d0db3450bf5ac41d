// The one id form of memories, galleries, folders and uploads: a lowercase,
// hyphenated UUID with the RFC 9562 variant and a version from 1 to 8 (the
// client makes v7). Ids are made by the client; every tier refuses any other
// form with its own InvalidArgument.

/** The same rule as a regular expression, for schema libraries. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Value of a lowercase hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The 16 bytes of a canonical UUID, or undefined. One pass with no regex or
 * parseInt: the canister runs it for every id of every presence query, and
 * each interpreted operation there costs instructions.
 */
export function parseUuid(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || s.length !== 36) return undefined;
  const out = new Uint8Array(16);
  let j = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return undefined;
      continue;
    }
    const v = hexValue(c);
    if (v < 0) return undefined;
    if (j & 1) out[j >> 1] |= v;
    else out[j >> 1] = v << 4;
    j++;
  }
  const version = out[6] >> 4;
  if (version < 1 || version > 8 || (out[8] & 0xc0) !== 0x80) return undefined;
  return out;
}

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && parseUuid(s) !== undefined;
}

/** Lowercase hex SHA-256: 64 characters. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
