// CBOR as the IC HTTP interface uses it, through the agent's own codec
// (@dfinity/cbor): bodies carry the self-describe tag 55799, maps have text
// keys, integers of 64 bits decode as bigint. Pure.
import { decode, encodeWithSelfDescribedTag, type CborValue } from '@dfinity/cbor';
import { Principal } from '@dfinity/principal';
import { HttpRejection } from './errors.js';

export function encodeCbor(value: unknown): Uint8Array {
  return encodeWithSelfDescribedTag(value as CborValue, (v) => (Principal.isPrincipal(v) ? v.toUint8Array() : v));
}

/** Decodes a request body; malformed input is a 400 as on the IC. */
export function decodeCbor(bytes: Uint8Array, what = 'request'): unknown {
  try {
    return decode(bytes);
  } catch (error) {
    throw new HttpRejection(400, `Could not parse body as ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
