// The canister's chunk space: the module's own region of stable memory
// (canister/scripts/native-chunk-space.ts builds it), reached through the
// same zero-copy call as the native SHA-256: azle's `certifiedDataSet(u8)`
// with a command header before the data. Without the build step the call
// traps (the IC refuses certified data over 32 bytes).
import { certifiedDataSet } from 'azle';
import type { ChunkSpace } from './chunk-space';

const OP_WRITE = 1;
const OP_READ = 2;
const OP_ENSURE = 3;
const OP_INFO = 4;
const OP_HEADROOM = 5;

/**
 * The header length for `n` data bytes: 40, or 48 when 40 would make the
 * call look like a hash (32 bytes of state + whole 64-byte blocks).
 */
export function headerLength(n: number): number {
  return (n + 40 - 32) % 64 === 0 ? 48 : 40;
}

function header(b: Uint8Array, op: number, h: number, addr: number, arg = 0): void {
  const v = new DataView(b.buffer, b.byteOffset, h);
  v.setUint32(0, op, true);
  v.setUint32(4, h, true);
  v.setBigUint64(8, BigInt(addr), true);
  v.setBigUint64(16, BigInt(arg), true);
  for (let i = 24; i < h; i++) b[i] = 0;
}

const saved = new Uint8Array(48);

/** The canister's chunk space (the module's stable-memory region). */
export function nativeChunkSpace(): ChunkSpace {
  // Heap only: rolled back with the message on a trap, read again after an upgrade.
  let cap = -1;
  const info = (): Uint8Array => {
    const b = new Uint8Array(40);
    header(b, OP_INFO, 40, 0);
    certifiedDataSet(b);
    return b;
  };
  const space: ChunkSpace = {
    capacity() {
      if (cap < 0) cap = Number(new DataView(info().buffer).getBigUint64(8, true));
      return cap;
    },
    ensure(bytes) {
      if (space.capacity() >= bytes) return true;
      const b = new Uint8Array(40);
      header(b, OP_ENSURE, 40, 0, bytes);
      certifiedDataSet(b);
      cap = Number(new DataView(b.buffer).getBigUint64(16, true));
      return cap >= bytes;
    },
    write(addr, data) {
      const h = headerLength(data.length);
      if (data.byteOffset >= h) {
        // The bytes before the data (in a message argument: its Candid header) hold the command
        // for the call and are put back after it, so a chunk is written where it lies.
        const work = new Uint8Array(data.buffer, data.byteOffset - h, h + data.length);
        saved.set(work.subarray(0, h));
        header(work, OP_WRITE, h, addr);
        certifiedDataSet(work);
        work.set(saved.subarray(0, h));
        return;
      }
      const work = new Uint8Array(h + data.length);
      work.set(data, h);
      header(work, OP_WRITE, h, addr);
      certifiedDataSet(work);
    },
    read(addr, length) {
      const h = headerLength(length);
      const work = new Uint8Array(h + length);
      header(work, OP_READ, h, addr);
      certifiedDataSet(work);
      // At least 32 bytes before the data: the native hash can use them for its state (native-hash.ts).
      return work.subarray(h);
    },
    stableBytes() {
      return Number(nativeSpaceInfo().physicalPages) * 65536;
    },
    keepHeadroom() {
      const b = new Uint8Array(40);
      header(b, OP_HEADROOM, 40, 0);
      certifiedDataSet(b);
      return new DataView(b.buffer).getBigUint64(16, true) === 1n;
    },
  };
  return space;
}

/** Stable memory as the module sees it: chunk space capacity, the maps' pages, all pages (for tests and stats). */
export function nativeSpaceInfo(): { capacity: bigint; mapPages: bigint; physicalPages: bigint } {
  const b = new Uint8Array(40);
  header(b, OP_INFO, 40, 0);
  certifiedDataSet(b);
  const v = new DataView(b.buffer);
  return { capacity: v.getBigUint64(8, true), mapPages: v.getBigUint64(16, true), physicalPages: v.getBigUint64(24, true) };
}

