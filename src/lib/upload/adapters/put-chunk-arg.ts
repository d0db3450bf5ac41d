// put_chunk's Candid argument `(text, nat32, blob)`, written by hand. Why not
// IDL.encode: it walks the blob as a `vec nat8` through its generic encoder
// and pipe, and the chunk is the whole message; this writes the fixed
// header, the two small fields and the chunk with one copy. The bytes are
// exactly IDL.encode's (tests/client/put-chunk-arg.test.ts checks them
// against the generated declarations' type and IDL.decode for edge cases).

// "DIDL", one type in the table (0: vec nat8 = 0x6d 0x7b), three arguments:
// text (0x71), nat32 (0x79), type 0.
const HEADER = [0x44, 0x49, 0x44, 0x4c, 0x01, 0x6d, 0x7b, 0x03, 0x71, 0x79, 0x00];
const MAX_NAT32 = 0xffff_ffff;

const utf8 = new TextEncoder();

function lebLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeLeb(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** IDL.encode([IDL.Text, IDL.Nat32, IDL.Vec(IDL.Nat8)], [sessionId, index, bytes]), with one copy of `bytes`. */
export function encodePutChunkArg(sessionId: string, index: number, bytes: Uint8Array): Uint8Array {
  // The same refusals as IDL.encode's, so a bad value fails before anything is sent.
  if (typeof sessionId !== 'string') throw new Error(`Invalid text argument: ${String(sessionId)}`);
  if (!Number.isInteger(index) || index < 0 || index > MAX_NAT32) throw new Error(`Invalid nat32 argument: ${String(index)}`);
  if (!(bytes instanceof Uint8Array)) throw new Error('Invalid vec nat8 argument: not a Uint8Array');
  const text = utf8.encode(sessionId);
  const size = HEADER.length + lebLength(text.length) + text.length + 4 + lebLength(bytes.length) + bytes.length;
  const out = new Uint8Array(size);
  out.set(HEADER, 0);
  let at = writeLeb(out, HEADER.length, text.length);
  out.set(text, at);
  at += text.length;
  new DataView(out.buffer).setUint32(at, index, true);
  at = writeLeb(out, at + 4, bytes.length);
  out.set(bytes, at);
  return out;
}
