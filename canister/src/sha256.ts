// Incremental SHA-256 (FIPS 180-4) whose whole state fits in 105 bytes, so an
// upload's running hash can be saved in stable memory after every chunk and
// resumed by a later message or after an upgrade.
//
// The block function is pluggable. Inside the canister it is the module's
// native one (native-hash.ts, installed by index.ts); the JavaScript one
// (sha256-compress.ts, generated fully unrolled for QuickJS, see
// canister/scripts/gen-sha256-compress.ts) is the fallback the unit tests run
// under Node.
import { compress as jsCompress } from './sha256-compress';

/** Compresses the 64-byte blocks of `d[off, off + 64 * blocks)` into the state `h` (eight int32 words). */
export type BlockFunction = (h: Int32Array, d: Uint8Array, off: number, blocks: number) => void;

let compress: BlockFunction = jsCompress;

/** Replaces the block function every Sha256 uses from now on. */
export function useBlockFunction(f: BlockFunction): void {
  compress = f;
}

export { jsCompress };

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Serialized state: 8 words, the byte count (u64) and up to 63 buffered bytes (length u8 + bytes). */
export const SHA256_STATE_MAX_BYTES = 32 + 8 + 1 + 63;

export class Sha256 {
  private readonly h = new Int32Array(IV);
  private readonly buf = new Uint8Array(64);
  private bufLen = 0;
  private total = 0;

  /** Bytes hashed so far. */
  get length(): number {
    return this.total;
  }

  update(data: Uint8Array): this {
    let off = 0;
    const n = data.length;
    this.total += n;
    if (this.bufLen > 0) {
      const take = Math.min(64 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      off = take;
      if (this.bufLen < 64) return this;
      compress(this.h, this.buf, 0, 1);
      this.bufLen = 0;
    }
    const blocks = ((n - off) / 64) | 0;
    if (blocks > 0) {
      compress(this.h, data, off, blocks);
      off += blocks * 64;
    }
    if (off < n) {
      this.buf.set(data.subarray(off), 0);
      this.bufLen = n - off;
    }
    return this;
  }

  /** The digest of everything so far; the state itself is left unchanged. */
  digest(): Uint8Array {
    const h = new Int32Array(this.h);
    const tail = new Uint8Array(this.bufLen < 56 ? 64 : 128);
    tail.set(this.buf.subarray(0, this.bufLen));
    tail[this.bufLen] = 0x80;
    const bits = this.total * 8;
    const end = tail.length;
    // Message length in bits, big-endian u64 (split: JS bit ops are 32-bit).
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    tail[end - 8] = hi >>> 24;
    tail[end - 7] = (hi >>> 16) & 0xff;
    tail[end - 6] = (hi >>> 8) & 0xff;
    tail[end - 5] = hi & 0xff;
    tail[end - 4] = lo >>> 24;
    tail[end - 3] = (lo >>> 16) & 0xff;
    tail[end - 2] = (lo >>> 8) & 0xff;
    tail[end - 1] = lo & 0xff;
    compress(h, tail, 0, end / 64);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      out[i * 4] = h[i] >>> 24;
      out[i * 4 + 1] = (h[i] >>> 16) & 0xff;
      out[i * 4 + 2] = (h[i] >>> 8) & 0xff;
      out[i * 4 + 3] = h[i] & 0xff;
    }
    return out;
  }

  save(): Uint8Array {
    const out = new Uint8Array(41 + this.bufLen);
    const v = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) v.setInt32(i * 4, this.h[i]);
    v.setBigUint64(32, BigInt(this.total));
    out[40] = this.bufLen;
    out.set(this.buf.subarray(0, this.bufLen), 41);
    return out;
  }

  static restore(state: Uint8Array): Sha256 {
    const s = new Sha256();
    if (state.length < 41 || state.length !== 41 + state[40] || state[40] > 63) throw new Error('invalid SHA-256 state');
    const v = new DataView(state.buffer, state.byteOffset, state.byteLength);
    for (let i = 0; i < 8; i++) s.h[i] = v.getInt32(i * 4);
    s.total = Number(v.getBigUint64(32));
    s.bufLen = state[40];
    s.buf.set(state.subarray(41));
    return s;
  }
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Sha256().update(data).digest();
}
