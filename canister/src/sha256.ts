// Incremental SHA-256 (FIPS 180-4) whose whole state fits in 105 bytes, so an
// upload's running hash can be saved in stable memory after every chunk and
// resumed by a later message or after an upgrade.
//
// Written for QuickJS (an interpreter, no JIT): all arithmetic stays in int32
// (`| 0`, never `>>>` results kept), the message schedule is one preallocated
// Int32Array, and big-endian words are read straight from the byte array.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const W = new Int32Array(64);

/** Compresses the 64-byte blocks of `data[off, off + 64 * blocks)` into `h`. */
function compress(h: Int32Array, data: Uint8Array, off: number, blocks: number): void {
  const w = W;
  const k = K;
  let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
  for (let blk = 0; blk < blocks; blk++) {
    let p = off + blk * 64;
    for (let i = 0; i < 16; i++, p += 4) {
      w[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (s0 + s1 + w[i - 7] + w[i - 16]) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + k[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + hh) | 0;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
}

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
