// Where each chunk's bytes are: a slot of the chunk space (chunk-space.ts),
// recorded as (blob, index) -> (offset, length) in the `chunkSlots` map; or,
// for chunks written before the chunk space existed, the value of the
// `chunks` map itself (read and freed as before, never written any more).
//
// Slots come in size classes of 4 KiB (a chunk of n bytes takes
// ceil(n / 4 KiB) x 4 KiB). A freed slot goes on its class's stack and the
// next chunk of that class takes it; only when the stack is empty does the
// space's end move. Every operation is a handful of exact-key map operations
// on small values (the maps give no range queries), whatever the stored
// total. Slots are never split or merged, so the slots in use and the free
// ones tile [0, end) exactly (check_invariants checks it).
import { concatBytes, readU32be, u32be, u64be } from './bytes';
import { internal } from './errors';
import type { State } from './state';
import { chunkKey } from './store';

export const SLOT_UNIT = 4096;

/** `regions` map keys: the end of the used space; per class, its free-stack size and entries. */
const END_KEY = new Uint8Array([0]);
const stackSizeKey = (cls: number): Uint8Array => concatBytes(new Uint8Array([1]), u32be(cls));
const stackEntryKey = (cls: number, i: number): Uint8Array => concatBytes(new Uint8Array([2]), u32be(cls), u32be(i));

export const slotClass = (length: number): number => Math.ceil(length / SLOT_UNIT);

const u64 = (v: number): Uint8Array => u64be(BigInt(v));
const readU64 = (b: Uint8Array, off = 0): number => Number(new DataView(b.buffer, b.byteOffset + off, 8).getBigUint64(0));

export interface Slot {
  offset: number;
  length: number;
}

export const encodeSlot = (s: Slot): Uint8Array => concatBytes(u64(s.offset), u32be(s.length));
export const decodeSlot = (b: Uint8Array): Slot => ({ offset: readU64(b), length: readU32be(b, 8) });

/** End of the used part of the chunk space. */
export function spaceEnd(st: State): number {
  const b = st.t.regions.get(END_KEY);
  return b ? readU64(b) : 0;
}

function stackSize(st: State, cls: number): number {
  const b = st.t.regions.get(stackSizeKey(cls));
  return b ? readU32be(b) : 0;
}

function allocate(st: State, cls: number): number {
  const n = stackSize(st, cls);
  if (n > 0) {
    const k = stackEntryKey(cls, n - 1);
    const off = readU64(st.t.regions.get(k)!);
    st.t.regions.remove(k);
    if (n === 1) st.t.regions.remove(stackSizeKey(cls));
    else st.t.regions.insert(stackSizeKey(cls), u32be(n - 1));
    return off;
  }
  const off = spaceEnd(st);
  const end = off + cls * SLOT_UNIT;
  if (!st.space.ensure(end)) throw internal('stable memory cannot grow: the canister is full');
  st.t.regions.insert(END_KEY, u64(end));
  return off;
}

function release(st: State, slot: Slot): void {
  const cls = slotClass(slot.length);
  const n = stackSize(st, cls);
  st.t.regions.insert(stackEntryKey(cls, n), u64(slot.offset));
  st.t.regions.insert(stackSizeKey(cls), u32be(n + 1));
}

/** Stores a new chunk (the caller knows it is not stored yet). */
export function putChunk(st: State, blob: Uint8Array, index: number, bytes: Uint8Array): void {
  const offset = allocate(st, slotClass(bytes.length));
  st.t.chunkSlots.insert(chunkKey(blob, index), encodeSlot({ offset, length: bytes.length }));
  st.space.write(offset, bytes);
}

export function getChunk(st: State, blob: Uint8Array, index: number): Uint8Array | undefined {
  const key = chunkKey(blob, index);
  const s = st.t.chunkSlots.get(key);
  if (s) {
    const slot = decodeSlot(s);
    return st.space.read(slot.offset, slot.length);
  }
  return st.t.chunks.get(key);
}

export function hasChunk(st: State, blob: Uint8Array, index: number): boolean {
  const key = chunkKey(blob, index);
  return st.t.chunkSlots.has(key) || st.t.chunks.has(key);
}

/** Frees a chunk's slot (or removes an old map entry); nothing when absent. */
export function removeChunk(st: State, blob: Uint8Array, index: number): void {
  const key = chunkKey(blob, index);
  const s = st.t.chunkSlots.get(key);
  if (s) {
    release(st, decodeSlot(s));
    st.t.chunkSlots.remove(key);
    return;
  }
  if (st.t.chunks.has(key)) st.t.chunks.remove(key);
}

/**
 * The chunk space's bookkeeping against itself, for check_invariants: the
 * slots in use and the free ones tile [0, end) exactly, each stack is dense,
 * the end is within the capacity.
 */
export function spaceViolations(st: State, used: Slot[]): string[] {
  const out: string[] = [];
  const end = spaceEnd(st);
  if (end > st.space.capacity()) out.push(`chunk space end ${end} beyond its capacity ${st.space.capacity()}`);
  const spans: Array<[number, number, string]> = used.map((s) => [s.offset, slotClass(s.length) * SLOT_UNIT, 'chunk']);
  const sizes = new Map<number, number>();
  const entries = new Map<number, number[]>();
  for (const [k, v] of st.t.regions.items()) {
    if (k[0] === 0) continue;
    const cls = readU32be(k, 1);
    if (k[0] === 1) sizes.set(cls, readU32be(v));
    else if (k[0] === 2) {
      const list = entries.get(cls) ?? [];
      list.push(readU32be(k, 5));
      entries.set(cls, list);
      spans.push([readU64(v), cls * SLOT_UNIT, 'free']);
    } else out.push(`unknown chunk space key ${k[0]}`);
  }
  for (const cls of new Set([...sizes.keys(), ...entries.keys()])) {
    const n = sizes.get(cls) ?? 0;
    const list = (entries.get(cls) ?? []).sort((a, b) => a - b);
    if (list.length !== n || list.some((x, i) => x !== i)) out.push(`free slots of class ${cls}: size ${n}, entries ${list.length}`);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [off, len, what] of spans) {
    if (off !== at) out.push(off < at ? `${what} slot at ${off} overlaps the one before (ends ${at})` : `chunk space gap [${at}, ${off})`);
    at = Math.max(at, off + len);
  }
  if (at !== end) out.push(`chunk space slots end at ${at}, its end is ${end}`);
  return out;
}
