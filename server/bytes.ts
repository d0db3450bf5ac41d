// Byte helpers for the server tier, in one place: hex, SHA-256, equality and
// concatenation. Node's Buffer and crypto do the work.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Lowercase hex of raw bytes. */
export const toHex = (bytes: Uint8Array | readonly number[]): string =>
  Buffer.from(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)).toString('hex');

/** SHA-256 of raw bytes (or of a string's UTF-8) as lowercase hex: the content address everywhere. */
export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** Constant-time equality of two byte arrays (false when the lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** One array holding `parts` back to back. */
export const concatBytes = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
