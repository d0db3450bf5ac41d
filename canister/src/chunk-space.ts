// The chunk space: a growable byte region of raw stable memory that holds
// chunk bytes (chunk-slots.ts allocates it). In the canister it is the
// module's own region (native-chunk-space.ts); for Node unit tests, an
// in-memory one.

export interface ChunkSpace {
  /** Bytes the region holds (addresses below it are readable and writable). */
  capacity(): number;
  /** Grows the region to at least `bytes`; false when stable memory cannot grow. */
  ensure(bytes: number): boolean;
  /** Writes `data` at `addr` (a view into a larger buffer is written where it lies). */
  write(addr: number, data: Uint8Array): void;
  read(addr: number, length: number): Uint8Array;
  /** All of the canister's stable memory, in bytes (the maps' part and the chunk space). */
  stableBytes(): number;
  /** Timer work: keeps a free slot for the maps' next growth (true when bytes were moved). */
  keepHeadroom(): boolean;
}

/** An in-memory chunk space growing in 8 MiB frames like the module's; for Node tests. */
export class MemoryChunkSpace implements ChunkSpace {
  private bytes = new Uint8Array(0);

  capacity(): number {
    return this.bytes.length;
  }

  ensure(n: number): boolean {
    if (n <= this.bytes.length) return true;
    const frame = 8 * 1024 * 1024;
    const next = new Uint8Array(Math.ceil(n / frame) * frame);
    next.set(this.bytes);
    this.bytes = next;
    return true;
  }

  write(addr: number, data: Uint8Array): void {
    if (addr + data.length > this.bytes.length) throw new Error('chunk space: write past its capacity');
    this.bytes.set(data, addr);
  }

  stableBytes(): number {
    return this.bytes.length;
  }

  keepHeadroom(): boolean {
    return false;
  }

  read(addr: number, length: number): Uint8Array {
    if (addr + length > this.bytes.length) throw new Error('chunk space: read past its capacity');
    return this.bytes.slice(addr, addr + length);
  }
}
