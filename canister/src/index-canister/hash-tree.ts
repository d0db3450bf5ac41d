// The IC's hash tree (interface specification, "Certification": HashTree,
// its reconstruct() hash and its CBOR form), as far as the index needs it to
// certify assignments. Written out rather than taken from a library: the
// canister-side choices (agent-js verifies, it does not build witnesses) are
// few lines, and they run inside QuickJS where small is cheap. Pure.
import { concatBytes } from '../bytes';
import { sha256 } from '../sha256';

export type HashTree =
  | [0]
  | [1, HashTree, HashTree]
  | [2, Uint8Array, HashTree]
  | [3, Uint8Array]
  | [4, Uint8Array];

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const sep = (s: string): Uint8Array => concatBytes(new Uint8Array([s.length]), utf8(s));
const EMPTY_SEP = sep('ic-hashtree-empty');
const FORK_SEP = sep('ic-hashtree-fork');
const LABELED_SEP = sep('ic-hashtree-labeled');
const LEAF_SEP = sep('ic-hashtree-leaf');

export const emptyHash = (): Uint8Array => sha256(EMPTY_SEP);
export const forkHash = (l: Uint8Array, r: Uint8Array): Uint8Array => sha256(concatBytes(FORK_SEP, l, r));
export const labeledHash = (label: Uint8Array, sub: Uint8Array): Uint8Array => sha256(concatBytes(LABELED_SEP, label, sub));
export const leafHash = (v: Uint8Array): Uint8Array => sha256(concatBytes(LEAF_SEP, v));

/** The root hash of a (possibly pruned) tree. */
export function reconstruct(t: HashTree): Uint8Array {
  switch (t[0]) {
    case 0:
      return emptyHash();
    case 1:
      return forkHash(reconstruct(t[1]), reconstruct(t[2]));
    case 2:
      return labeledHash(t[1], reconstruct(t[2]));
    case 3:
      return leafHash(t[1]);
    case 4:
      return t[1];
  }
}

// ------------------------------------------------------------------ CBOR

function head(major: number, n: number): Uint8Array {
  if (n < 24) return new Uint8Array([(major << 5) | n]);
  if (n < 0x100) return new Uint8Array([(major << 5) | 24, n]);
  if (n < 0x10000) return new Uint8Array([(major << 5) | 25, n >> 8, n & 0xff]);
  return new Uint8Array([(major << 5) | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function encodeInto(t: HashTree, out: Uint8Array[]): void {
  out.push(head(4, t.length), head(0, t[0]));
  for (let i = 1; i < t.length; i++) {
    const v = t[i] as HashTree | Uint8Array;
    if (v instanceof Uint8Array) out.push(head(2, v.length), v);
    else encodeInto(v, out);
  }
}

/** CBOR with the self-describing tag (55799), as the replica sends trees. */
export function encodeCbor(t: HashTree): Uint8Array {
  const out: Uint8Array[] = [new Uint8Array([0xd9, 0xd9, 0xf7])];
  encodeInto(t, out);
  return concatBytes(...out);
}
