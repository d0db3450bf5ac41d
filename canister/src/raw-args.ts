// A direct reader for the two arguments that carry megabytes:
// put_chunk's `(text, nat32, blob)` and sha256_parts' `(opt blob, vec blob)`.
// @dfinity/candid copies a blob into a new array byte by byte in the
// interpreter (about 28 million instructions per MiB); this reader returns
// views into the message's own argument bytes. It accepts only the plain
// encoding of exactly those types (what agents send) and returns undefined
// for anything else, so the caller falls back to the full decoder, which
// keeps every typed error for malformed arguments.

const MAGIC = [0x44, 0x49, 0x44, 0x4c]; // "DIDL"
const T_TEXT = -15;
const T_NAT32 = -7;
const T_NAT8 = -5;
const T_VEC = -19;
const T_OPT = -18;

class Cursor {
  pos = 0;
  constructor(readonly b: Uint8Array) {}

  uleb(): number | undefined {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.b.length) return undefined;
      const byte = this.b[this.pos++];
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    return undefined;
  }

  sleb(): number | undefined {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.b.length) return undefined;
      const byte = this.b[this.pos++];
      v += (byte & 0x7f) * mul;
      mul *= 128;
      if (byte < 0x80) return byte & 0x40 ? v - mul : v;
    }
    return undefined;
  }

  take(n: number): Uint8Array | undefined {
    if (this.pos + n > this.b.length) return undefined;
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** The type table (only `vec T` and `opt T` entries) and the argument types, or undefined. */
function header(c: Cursor): { table: number[]; kinds: number[]; args: number[] } | undefined {
  for (let i = 0; i < 4; i++) if (c.b[i] !== MAGIC[i]) return undefined;
  c.pos = 4;
  const n = c.uleb();
  if (n === undefined || n > 8) return undefined;
  const table: number[] = [];
  const kinds: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = c.sleb();
    if (kind !== T_VEC && kind !== T_OPT) return undefined;
    const t = c.sleb();
    if (t === undefined || (t >= 0 && t >= n)) return undefined;
    kinds.push(kind);
    table.push(t);
  }
  const argc = c.uleb();
  if (argc === undefined || argc > 8) return undefined;
  const args: number[] = [];
  for (let i = 0; i < argc; i++) {
    const t = c.sleb();
    if (t === undefined || (t >= 0 && t >= n)) return undefined;
    args.push(t);
  }
  return { table, kinds, args };
}

type Header = NonNullable<ReturnType<typeof header>>;
const isBlob = (h: Header, t: number): boolean => t >= 0 && h.kinds[t] === T_VEC && h.table[t] === T_NAT8;
const isVecBlob = (h: Header, t: number): boolean => t >= 0 && h.kinds[t] === T_VEC && isBlob(h, h.table[t]);
const isOptBlob = (h: Header, t: number): boolean => t >= 0 && h.kinds[t] === T_OPT && isBlob(h, h.table[t]);

/** ASCII text only (ids are ASCII); anything else goes to the full decoder. */
function asciiText(c: Cursor): string | undefined {
  const len = c.uleb();
  if (len === undefined || len > 256) return undefined;
  const bytes = c.take(len);
  if (!bytes) return undefined;
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 0x7f) return undefined;
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** put_chunk's `(text, nat32, blob)`; the blob is a view into `arg`, with its offset. */
export function readPutChunkArgs(arg: Uint8Array): [string, number, Uint8Array] | undefined {
  const c = new Cursor(arg);
  const h = header(c);
  if (!h || h.args.length !== 3 || h.args[0] !== T_TEXT || h.args[1] !== T_NAT32 || !isBlob(h, h.args[2])) return undefined;
  const sessionId = asciiText(c);
  if (sessionId === undefined) return undefined;
  const nat = c.take(4);
  if (!nat) return undefined;
  const index = (nat[0] | (nat[1] << 8) | (nat[2] << 16) | (nat[3] << 24)) >>> 0;
  const len = c.uleb();
  if (len === undefined) return undefined;
  const data = c.take(len);
  if (!data || c.pos !== arg.length) return undefined;
  return [sessionId, index, data];
}

/** `(opt blob, vec blob)`, each blob a view into `arg`. */
export function readHashPartsArgs(arg: Uint8Array): [[] | [Uint8Array], Uint8Array[]] | undefined {
  const c = new Cursor(arg);
  const h = header(c);
  if (!h || h.args.length !== 2 || !isOptBlob(h, h.args[0]) || !isVecBlob(h, h.args[1])) return undefined;
  const present = c.take(1);
  if (!present || present[0] > 1) return undefined;
  let state: [] | [Uint8Array] = [];
  if (present[0] === 1) {
    const len = c.uleb();
    const b = len === undefined ? undefined : c.take(len);
    if (!b) return undefined;
    state = [b];
  }
  const n = c.uleb();
  if (n === undefined || n > 100_000) return undefined;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = c.uleb();
    if (len === undefined) return undefined;
    const part = c.take(len);
    if (!part) return undefined;
    parts.push(part);
  }
  if (c.pos !== arg.length) return undefined;
  return [state, parts];
}
