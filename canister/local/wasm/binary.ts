// Minimal reader/writer for the WebAssembly binary format: LEB128 numbers and
// the section list. Pure functions over bytes; the instrumentation and the
// metadata helpers build on it.

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;

/** Canonical order of the known sections (custom sections may sit anywhere). */
const SECTION_ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

export function sectionRank(id: number): number {
  const rank = SECTION_ORDER.indexOf(id);
  return rank === -1 ? Number.MAX_SAFE_INTEGER : rank;
}

/** Cursor over a byte array with the LEB128 decoders the format needs. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    readonly end = bytes.length,
  ) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError('unexpected end of Wasm data');
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128 up to 32 bits (indices, counts, sizes). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new WasmFormatError('LEB128 number too long');
    }
    return result >>> 0;
  }

  /** Skips a LEB128 number of any width (signed or unsigned). */
  skipLeb(): void {
    let b: number;
    let n = 0;
    do {
      b = this.byte();
      if (++n > 10) throw new WasmFormatError('LEB128 number too long');
    } while (b & 0x80);
  }

  /** Signed LEB128 up to 32 bits (i32.const). */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result;
  }

  bytesN(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new WasmFormatError('unexpected end of Wasm data');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    const len = this.u32();
    return new TextDecoder().decode(this.bytesN(len));
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 for i64.const immediates. */
export function encodeS64(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (b & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...encodeU32(bytes.length), ...bytes];
}

export interface Section {
  id: number;
  /** Section payload (without id and size). */
  payload: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function readSections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || MAGIC.some((b, i) => wasm[i] !== b)) {
    throw new WasmFormatError('not a WebAssembly module (bad magic or version)');
  }
  const r = new Reader(wasm, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, payload: r.bytesN(size) });
  }
  return sections;
}

export function writeSections(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  let total = 8;
  for (const s of sections) {
    const head = Uint8Array.from([s.id, ...encodeU32(s.payload.length)]);
    parts.push(head, s.payload);
    total += head.length + s.payload.length;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Name of a custom section (its payload starts with the name). */
export function customSectionName(section: Section): string {
  return new Reader(section.payload).name();
}

/** Concatenates byte chunks. */
export function concatBytes(chunks: ArrayLike<number>[] | Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c as ArrayLike<number>, off);
    off += c.length;
  }
  return out;
}

/** Re-encodes a vector section payload: `count` followed by the concatenated items. */
export function vectorPayload(count: number, items: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.from(encodeU32(count)), items]);
}
