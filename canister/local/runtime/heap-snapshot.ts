// The committed copy of a canister's Wasm heap and mutable globals, kept so a
// message that traps (or any query) can be undone in place. After a message
// commits, only the 64 KiB pages that differ are copied into the snapshot;
// undoing copies back only the pages that differ. Both cost one memcmp pass
// over the heap instead of a full copy before every message.
//
// The snapshot also remembers which committed pages changed since they were
// last taken (`takeDelta`), so a query replica on another thread can follow
// the committed state by copying only those pages (`loadDelta`).
//
// A heap that grows (azle's grows by about 1 MiB per 1 MiB `put_chunk`) does
// not copy the whole snapshot on every growth: the snapshot's buffer has
// room to spare (its size again), so a growth copies only the new pages
// and reallocates now and then, like a growable array.

const PAGE = 65536;
/** Wasm32's largest memory; a snapshot never needs room beyond it. */
const MAX_HEAP = 4 * 1024 * 1024 * 1024;

export type GlobalValue = number | bigint;

/** Committed heap pages that changed, with the heap's size and the globals. */
export interface HeapDelta {
  byteLength: number;
  /** Every page (a full image) rather than only changed ones. */
  full: boolean;
  pages: [number, Uint8Array][];
  globals: GlobalValue[];
}

export class HeapSnapshot {
  /** The committed heap: the first `byteLength` bytes of `room`. */
  private committed: Buffer;
  private room: Buffer;
  private globals: GlobalValue[];
  /** Pages committed since the last takeDelta; `full` when the whole heap must be sent. */
  private dirty = new Set<number>();
  private full = true;

  constructor(memory: WebAssembly.Memory, globals: WebAssembly.Global[]) {
    this.room = Buffer.from(new Uint8Array(memory.buffer));
    this.committed = this.room;
    this.globals = globals.map((g) => g.value as GlobalValue);
  }

  /** The committed pages changed since the last call (copies, safe to transfer). */
  takeDelta(): HeapDelta | undefined {
    if (!this.full && this.dirty.size === 0) return undefined;
    const indices = this.full
      ? Array.from({ length: Math.ceil(this.committed.length / PAGE) }, (_, i) => i)
      : [...this.dirty].sort((a, b) => a - b);
    const pages = indices.map((i): [number, Uint8Array] => [
      i,
      new Uint8Array(this.committed.subarray(i * PAGE, Math.min((i + 1) * PAGE, this.committed.length))),
    ]);
    const delta = { byteLength: this.committed.length, full: this.full, pages, globals: [...this.globals] };
    this.dirty.clear();
    this.full = false;
    return delta;
  }

  /**
   * Makes a delta taken from another canister's snapshot the committed state
   * here and in `memory` (grown to its size first): a query replica following
   * its canister.
   */
  loadDelta(memory: WebAssembly.Memory, globals: WebAssembly.Global[], delta: HeapDelta): void {
    if (memory.buffer.byteLength < delta.byteLength) memory.grow((delta.byteLength - memory.buffer.byteLength) / PAGE);
    if (this.committed.length !== delta.byteLength) {
      const keep = this.committed.length;
      this.resize(delta.byteLength);
      // Past the old length the room may hold stale bytes; the heap's new pages are zero until the delta fills them.
      if (delta.byteLength > keep) this.committed.fill(0, keep);
    }
    const live = new Uint8Array(memory.buffer);
    for (const [i, page] of delta.pages) {
      this.committed.set(page, i * PAGE);
      live.set(page, i * PAGE);
    }
    for (let i = 0; i < globals.length; i++) {
      this.globals[i] = delta.globals[i];
      globals[i].value = delta.globals[i];
    }
  }

  get byteLength(): number {
    return this.committed.length;
  }

  /** Makes the current heap and globals the committed state. */
  commit(memory: WebAssembly.Memory, globals: WebAssembly.Global[]): void {
    const live = Buffer.from(memory.buffer);
    const before = this.committed.length;
    if (live.length < before) {
      // Only a query replica's loadDelta could shrink it; send everything.
      this.resize(live.length);
      live.copy(this.committed);
      this.full = true;
    } else {
      if (live.length > before) {
        // Memory grew: the new pages are new in the delta, whatever they hold.
        this.resize(live.length);
        live.copy(this.committed, before, before);
        for (let at = before; at < live.length; at += PAGE) this.dirty.add(at / PAGE);
      }
      copyChangedPages(live, this.committed, before, this.dirty);
    }
    for (let i = 0; i < globals.length; i++) this.globals[i] = globals[i].value as GlobalValue;
  }

  /**
   * Makes the committed heap `length` bytes long, keeping its bytes; the
   * buffer keeps room to grow into. Bytes past the old length are left as
   * they are: the caller fills them.
   */
  private resize(length: number): void {
    if (length > this.room.length) {
      const room = Buffer.allocUnsafeSlow(Math.min(MAX_HEAP, Math.max(length, Math.ceil((this.room.length * 2) / PAGE) * PAGE)));
      this.committed.copy(room);
      this.room = room;
    }
    this.committed = this.room.subarray(0, length);
  }

  /**
   * Puts the committed heap and globals back into `memory`. Returns false when
   * the memory grew since the commit: Wasm memory cannot shrink, so the caller
   * must make a fresh instance and call `restoreInto` on it.
   */
  restore(memory: WebAssembly.Memory, globals: WebAssembly.Global[]): boolean {
    const live = Buffer.from(memory.buffer);
    if (live.length !== this.committed.length) return false;
    // One comparison of the whole heap first: the common case for queries.
    if (!live.equals(this.committed)) copyChangedPages(this.committed, live, live.length);
    this.restoreGlobals(globals);
    return true;
  }

  /** Fills a fresh instance's memory (no larger than the snapshot) with the committed state. */
  restoreInto(memory: WebAssembly.Memory, globals: WebAssembly.Global[]): void {
    const have = memory.buffer.byteLength;
    if (have > this.committed.length) throw new Error('fresh instance memory larger than the snapshot');
    if (have < this.committed.length) memory.grow((this.committed.length - have) / PAGE);
    new Uint8Array(memory.buffer).set(this.committed);
    this.restoreGlobals(globals);
  }

  private restoreGlobals(globals: WebAssembly.Global[]): void {
    for (let i = 0; i < globals.length; i++) globals[i].value = this.globals[i];
  }
}

/** Copies the 64 KiB pages of `from` that differ from `to`, within the first `len` bytes. */
function copyChangedPages(from: Buffer, to: Buffer, len: number, changed?: Set<number>): void {
  for (let at = 0; at < len; at += PAGE) {
    const end = Math.min(at + PAGE, len);
    if (from.compare(to, at, end, at, end) !== 0) {
      from.copy(to, at, at, end);
      changed?.add(at / PAGE);
    }
  }
}
