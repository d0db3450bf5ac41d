// The request id: the representation-independent hash of a request's
// content (interface specification, "Request ids"), over the values as CBOR
// decoded them. The agent's `requestIdOf` computes the same hash with a
// SHA-256 written in JavaScript, which costs about 12 ms per MiB of
// argument; the replica hashes natively, and so does this (node:crypto).
// Values the hash has no representation for (floats, negative numbers,
// booleans, null) throw, as the agent's does. Pure.
import { createHash } from 'node:crypto';
import { lebEncode } from '@dfinity/candid';

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

export class NoRepresentationIndependentHash extends Error {
  constructor(what: string) {
    super(`no representation-independent hash for ${what}`);
    this.name = 'NoRepresentationIndependentHash';
  }
}

function hashValue(v: unknown): Buffer {
  if (typeof v === 'string') return sha256(Buffer.from(v, 'utf8'));
  // lebEncode refuses fractions and negative values, as the hash does.
  if (typeof v === 'number' || typeof v === 'bigint') return sha256(lebEncode(v));
  if (v instanceof Uint8Array) return sha256(v);
  if (Array.isArray(v)) {
    const h = createHash('sha256');
    for (const x of v) h.update(hashValue(x));
    return h.digest();
  }
  if (typeof v === 'object' && v !== null) return hashOfMap(v as Record<string, unknown>);
  throw new NoRepresentationIndependentHash(v === null ? 'null' : typeof v);
}

/** The hash of a map: its fields' (key hash, value hash) pairs sorted and concatenated; undefined fields are absent. */
export function hashOfMap(map: Record<string, unknown>): Buffer {
  const pairs: [Buffer, Buffer][] = [];
  for (const [k, v] of Object.entries(map)) if (v !== undefined) pairs.push([sha256(Buffer.from(k, 'utf8')), hashValue(v)]);
  pairs.sort(([a], [b]) => Buffer.compare(a, b));
  const h = createHash('sha256');
  for (const [k, v] of pairs) h.update(k).update(v);
  return h.digest();
}

export const requestIdOf = (content: Record<string, unknown>): Uint8Array => new Uint8Array(hashOfMap(content));
