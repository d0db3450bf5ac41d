// A compact binary encoding for the canister's stable records: fixed-width
// big-endian integers, length-prefixed bytes and UTF-8 text. Much cheaper
// inside QuickJS than JSON or Candid, and keys built with it sort by their
// numeric parts (StableBTreeMap orders keys by their bytes).
// Created on first use: inside the canister azle installs these globals when it loads.
let utf8Encoder: TextEncoder | undefined;
let utf8Decoder: TextDecoder | undefined;

/** UTF-8 bytes of a string; ASCII (the common case for ids and keys) skips the encoder polyfill. */
export function utf8(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return (utf8Encoder ??= new TextEncoder()).encode(s);
    out[i] = c;
  }
  return out;
}

export function fromUtf8(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return (utf8Decoder ??= new TextDecoder()).decode(b);
  let s = '';
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode.apply(null, Array.from(b.subarray(i, Math.min(b.length, i + 4096))));
  }
  return s;
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 128) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }

  /** Bytes of a known fixed length (no prefix). */
  raw(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }

  text(s: string): this {
    return this.bytes(utf8(s));
  }

  optText(s: string | undefined): this {
    return s === undefined ? this.u8(0) : this.u8(1).text(s);
  }

  optU64(v: bigint | undefined): this {
    return v === undefined ? this.u8(0) : this.u8(1).u64(v);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class Reader {
  private view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`record truncated at byte ${this.pos} (+${n} of ${this.buf.length})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  bytes(): Uint8Array {
    return this.raw(this.u32());
  }

  text(): string {
    return fromUtf8(this.bytes());
  }

  optText(): string | undefined {
    return this.u8() === 0 ? undefined : this.text();
  }

  optU64(): bigint | undefined {
    return this.u8() === 0 ? undefined : this.u64();
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}
