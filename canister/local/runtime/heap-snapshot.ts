// The committed copy of a canister's Wasm heap and mutable globals, kept so a
// message that traps (or any query) can be undone in place. After a message
// commits, only the 64 KiB pages that differ are copied into the snapshot;
// undoing copies back only the pages that differ. Both cost one memcmp pass
// over the heap instead of a full copy before every message.

const PAGE = 65536;

export type GlobalValue = number | bigint;

export class HeapSnapshot {
  private committed: Buffer;
  private globals: GlobalValue[];

  constructor(memory: WebAssembly.Memory, globals: WebAssembly.Global[]) {
    this.committed = Buffer.from(new Uint8Array(memory.buffer));
    this.globals = globals.map((g) => g.value as GlobalValue);
  }

  get byteLength(): number {
    return this.committed.length;
  }

  /** Makes the current heap and globals the committed state. */
  commit(memory: WebAssembly.Memory, globals: WebAssembly.Global[]): void {
    const live = Buffer.from(memory.buffer);
    if (live.length !== this.committed.length) {
      // Memory grew: copy everything once into a buffer of the new size.
      this.committed = Buffer.from(new Uint8Array(live));
    } else {
      copyChangedPages(live, this.committed);
    }
    for (let i = 0; i < globals.length; i++) this.globals[i] = globals[i].value as GlobalValue;
  }

  /**
   * Puts the committed heap and globals back into `memory`. Returns false when
   * the memory grew since the commit: Wasm memory cannot shrink, so the caller
   * must make a fresh instance and call `restoreInto` on it.
   */
  restore(memory: WebAssembly.Memory, globals: WebAssembly.Global[]): boolean {
    const live = Buffer.from(memory.buffer);
    if (live.length !== this.committed.length) return false;
    copyChangedPages(this.committed, live);
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

function copyChangedPages(from: Buffer, to: Buffer): void {
  const len = from.length;
  // One comparison of the whole heap first: the common case for queries.
  if (from.equals(to)) return;
  for (let at = 0; at < len; at += PAGE) {
    const end = Math.min(at + PAGE, len);
    if (from.compare(to, at, end, at, end) !== 0) from.copy(to, at, at, end);
  }
}
