// A canister's stable memory: sparse 64 KiB Wasm pages held in memory, an
// undo log of the 4 KiB blocks a message overwrites (so a trap restores them
// without copying the whole memory), and the list of blocks each committed
// message changed (what the persistence layer writes). No I/O here.
//
// The undo log keeps the old blocks in one reused arena rather than a fresh
// 4 KiB copy each: azle's stable BTreeMap rewrites several MiB of a node per
// 1 MiB put_chunk, and thousands of small allocations per message fed the
// garbage collector.

export const WASM_PAGE = 65536;
export const BLOCK = 4096;
const BLOCKS_PER_PAGE = WASM_PAGE / BLOCK;

/** Default cap on stable memory: the IC allows 500 GiB; a development machine far less. */
export const DEFAULT_MAX_STABLE_PAGES = (64 * 1024 ** 3) / WASM_PAGE;

const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** Largest undo arena kept between messages; one grown beyond it by a big message is dropped at its end. */
const ARENA_KEPT = 32 * 1024 * 1024;

function isZero(data: Uint8Array): boolean {
  return data.length === BLOCK && Buffer.from(data.buffer, data.byteOffset, data.length).equals(ZERO_BLOCK);
}

export class StableMemoryOutOfBounds extends Error {
  constructor(offset: number, size: number, limit: number) {
    super(`stable memory out of bounds: access at ${offset} of ${size} bytes, size is ${limit}`);
    this.name = 'StableMemoryOutOfBounds';
  }
}

export class StableMemory {
  private pages: (Uint8Array | undefined)[] = [];
  private size = 0; // in Wasm pages
  /** Block → its slot in `arena` holding the content before the message, or -1 when its page did not exist (zeros). */
  private undo = new Map<number, number>();
  private arena = Buffer.alloc(0);
  private arenaSlots = 0;
  private sizeBefore = 0;
  private inMessage = false;
  /** Blocks committed since the last takeDelta; `deltaFull` when all content must be sent. */
  private deltaBlocks = new Set<number>();
  private deltaFull = true;
  private deltaSentSize = -1;

  constructor(readonly maxPages = DEFAULT_MAX_STABLE_PAGES) {}

  get sizePages(): number {
    return this.size;
  }

  get sizeBytes(): number {
    return this.size * WASM_PAGE;
  }

  /** Starts recording undo information for a message. */
  begin(): void {
    this.clearUndo();
    this.sizeBefore = this.size;
    this.inMessage = true;
  }

  /** Ends the message keeping its writes; returns the blocks it changed (sorted). */
  commit(): { blocks: number[]; sizeChanged: boolean } {
    const blocks = [...this.undo.keys()].sort((a, b) => a - b);
    for (const b of blocks) this.deltaBlocks.add(b);
    const sizeChanged = this.size !== this.sizeBefore;
    this.clearUndo();
    this.inMessage = false;
    return { blocks, sizeChanged };
  }

  /** Ends the message undoing its writes and growth. */
  rollback(): void {
    for (const [block, slot] of this.undo) {
      const page = this.pages[Math.floor(block / BLOCKS_PER_PAGE)];
      if (!page) continue;
      const at = (block % BLOCKS_PER_PAGE) * BLOCK;
      if (slot >= 0) page.set(this.arena.subarray(slot * BLOCK, (slot + 1) * BLOCK), at);
      else page.fill(0, at, at + BLOCK);
    }
    this.size = this.sizeBefore;
    this.clearUndo();
    this.inMessage = false;
  }

  /** `stable64_grow`: returns the previous size in pages, or -1 if the memory cannot grow. */
  grow(newPages: number): number {
    const old = this.size;
    if (newPages < 0 || old + newPages > this.maxPages) return -1;
    this.size = old + newPages;
    return old;
  }

  private check(offset: number, size: number): void {
    if (offset < 0 || size < 0 || offset + size > this.size * WASM_PAGE) {
      throw new StableMemoryOutOfBounds(offset, size, this.size * WASM_PAGE);
    }
  }

  read(dst: Uint8Array, dstOffset: number, offset: number, size: number): void {
    this.check(offset, size);
    let off = offset;
    let d = dstOffset;
    let remaining = size;
    while (remaining > 0) {
      const pageIdx = Math.floor(off / WASM_PAGE);
      const inPage = off - pageIdx * WASM_PAGE;
      const n = Math.min(remaining, WASM_PAGE - inPage);
      const page = this.pages[pageIdx];
      if (page) dst.set(page.subarray(inPage, inPage + n), d);
      else dst.fill(0, d, d + n);
      off += n;
      d += n;
      remaining -= n;
    }
  }

  write(src: Uint8Array, srcOffset: number, offset: number, size: number): void {
    this.check(offset, size);
    let off = offset;
    let s = srcOffset;
    let remaining = size;
    while (remaining > 0) {
      const pageIdx = Math.floor(off / WASM_PAGE);
      const inPage = off - pageIdx * WASM_PAGE;
      const n = Math.min(remaining, WASM_PAGE - inPage);
      let page = this.pages[pageIdx];
      if (this.inMessage) {
        const first = Math.floor(off / BLOCK);
        const last = Math.floor((off + n - 1) / BLOCK);
        for (let b = first; b <= last; b++) {
          if (!this.undo.has(b)) this.saveUndo(b, page);
        }
      }
      if (!page) {
        page = new Uint8Array(WASM_PAGE);
        this.pages[pageIdx] = page;
      }
      page.set(src.subarray(s, s + n), inPage);
      off += n;
      s += n;
      remaining -= n;
    }
  }

  /** Keeps block `b`'s content before the message's first write to it. */
  private saveUndo(b: number, page: Uint8Array | undefined): void {
    if (!page) {
      this.undo.set(b, -1);
      return;
    }
    const slot = this.arenaSlots++;
    if (this.arenaSlots * BLOCK > this.arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(64 * BLOCK, this.arena.length * 2));
      this.arena.copy(grown, 0, 0, slot * BLOCK);
      this.arena = grown;
    }
    const at = (b % BLOCKS_PER_PAGE) * BLOCK;
    this.arena.set(page.subarray(at, at + BLOCK), slot * BLOCK);
    this.undo.set(b, slot);
  }

  private clearUndo(): void {
    this.undo.clear();
    this.arenaSlots = 0;
    if (this.arena.length > ARENA_KEPT) this.arena = Buffer.alloc(0);
  }

  /** Current content of a 4 KiB block (a view; copy it before keeping it). */
  block(index: number): Uint8Array {
    const page = this.pages[Math.floor(index / BLOCKS_PER_PAGE)];
    if (!page) return new Uint8Array(BLOCK);
    const at = (index % BLOCKS_PER_PAGE) * BLOCK;
    return page.subarray(at, at + BLOCK);
  }

  /** Loads persisted content: sets the size and a block's bytes, outside any message. */
  restoreSize(pages: number): void {
    this.size = pages;
  }

  restoreBlock(index: number, data: Uint8Array): void {
    const pageIdx = Math.floor(index / BLOCKS_PER_PAGE);
    let page = this.pages[pageIdx];
    if (!page) {
      if (isZero(data)) return;
      page = new Uint8Array(WASM_PAGE);
      this.pages[pageIdx] = page;
    }
    page.set(data, (index % BLOCKS_PER_PAGE) * BLOCK);
  }

  /** Pages that hold data (the rest read as zeros), for writing a full image. */
  *allocatedPages(): Generator<[number, Uint8Array]> {
    for (let i = 0; i < this.pages.length; i++) {
      const page = this.pages[i];
      if (page && i < this.size) yield [i, page];
    }
  }

  /**
   * Committed blocks changed since the last call (copies), for a query
   * replica; `full` means the receiver starts from an empty memory.
   */
  takeDelta(): { full: boolean; sizePages: number; blocks: [number, Uint8Array][] } | undefined {
    if (!this.deltaFull && this.deltaBlocks.size === 0 && this.deltaSentSize === this.size) return undefined;
    const blocks: [number, Uint8Array][] = [];
    if (this.deltaFull) {
      for (const [index, page] of this.allocatedPages()) {
        for (let b = 0; b < BLOCKS_PER_PAGE; b++) {
          const data = page.subarray(b * BLOCK, (b + 1) * BLOCK);
          if (!isZero(data)) blocks.push([index * BLOCKS_PER_PAGE + b, new Uint8Array(data)]);
        }
      }
    } else {
      for (const b of [...this.deltaBlocks].sort((x, y) => x - y)) blocks.push([b, new Uint8Array(this.block(b))]);
    }
    const delta = { full: this.deltaFull, sizePages: this.size, blocks };
    this.deltaBlocks.clear();
    this.deltaFull = false;
    this.deltaSentSize = this.size;
    return delta;
  }

  /** Drops all content (reinstall). */
  clear(): void {
    this.deltaFull = true;
    this.pages = [];
    this.size = 0;
    this.clearUndo();
  }

  /** Bytes held in memory (allocated pages). */
  residentBytes(): number {
    let n = 0;
    for (const p of this.pages) if (p) n += WASM_PAGE;
    return n;
  }
}
