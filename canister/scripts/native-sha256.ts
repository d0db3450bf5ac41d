// Gives the azle-built `forever` module a native SHA-256 block function.
//
// azle 0.33 offers no hash to JavaScript, and SHA-256 interpreted by QuickJS
// costs about 9.5 billion instructions per MiB. One of azle's functions hands
// a Uint8Array's own memory to the system without a copy:
// `_azleIc.certifiedDataSet(u8)` calls `ic0.certified_data_set(ptr, len)`.
// This step replaces that import, inside the module, by a function that
//   - for len <= 32 forwards to the real `ic0.certified_data_set` (so
//     certified data still works), and
//   - for len > 32 reads `ptr[0, 32)` as the SHA-256 state (eight big-endian
//     words), compresses the 64-byte blocks that follow in place, and writes
//     the new state back to `ptr[0, 32)`. `len - 32` must be a multiple of 64
//     (it traps otherwise).
// The IC refuses certified data over 32 bytes, so an unpatched module traps
// on the first hash: it fails safe, and `init` checks a known digest.
//
// The block function is written directly in Wasm with binaryen (already
// azle's dependency): 64 rounds unrolled, the eight working variables change
// roles instead of values, Maj reuses the previous round's a ^ b. No
// optimisation passes run over the module (they are not needed here, and
// they broke azle's module in one trial).
import binaryen from 'binaryen';
import { addChunkSpace } from './native-chunk-space.js';

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** Name of the function that replaces the import (and of the re-added real import). */
export const NATIVE_FUNCTION = 'forever_sha256_or_certified_data_set';
const REAL_IMPORT = 'forever_ic0_certified_data_set';

/**
 * Adds the SHA-256 block function to `m` as `name(ptr, len)`, forwarding len <= 32 to `forward`
 * and any other length that is not 32 + whole blocks to `command` (the chunk space's; a trap without it).
 */
function addBlockFunction(m: binaryen.Module, name: string, forward: string, command?: string): void {
  const i32 = binaryen.i32;
  // Locals: 0 ptr, 1 len; then state a..h, working A..H, w0..w15, (34 unused), ab0, ab1, p, end, x.
  const PTR = 0;
  const LEN = 1;
  const S = (i: number): number => 2 + i; // state
  const V = (i: number): number => 10 + i; // working variables
  const W = (i: number): number => 18 + i;
  const AB = [35, 36];
  const P = 37;
  const END = 38;
  const X = 39;
  const vars = Array.from({ length: 38 }, () => i32);

  const get = (l: number) => m.local.get(l, i32);
  const set = (l: number, v: binaryen.ExpressionRef) => m.local.set(l, v);
  const tee = (l: number, v: binaryen.ExpressionRef) => m.local.tee(l, v, i32);
  const c = (v: number) => m.i32.const(v | 0);
  const add = (x: binaryen.ExpressionRef, y: binaryen.ExpressionRef) => m.i32.add(x, y);
  const xor = (x: binaryen.ExpressionRef, y: binaryen.ExpressionRef) => m.i32.xor(x, y);
  const and = (x: binaryen.ExpressionRef, y: binaryen.ExpressionRef) => m.i32.and(x, y);
  const rotr = (x: binaryen.ExpressionRef, n: number) => m.i32.rotr(x, c(n));
  // Big-endian word from memory: load little-endian and swap the bytes.
  const bswap = (x: number) => m.i32.or(rotr(and(get(x), c(0x00ff00ff)), 8), m.i32.rotl(and(get(x), c(0xff00ff00)), c(8)));
  const loadBE = (ptr: number, offset: number, into: number) => [set(X, m.i32.load(offset, 1, get(ptr))), set(into, bswap(X))];
  const storeBE = (ptr: number, offset: number, from: number) => [set(X, get(from)), m.i32.store(offset, 1, get(ptr), bswap(X))];
  // Σ1(e) = rotr(e ^ rotr(e, 5) ^ rotr(e, 19), 6); Σ0(a) = rotr(a ^ rotr(a, 11) ^ rotr(a, 20), 2).
  const bigSigma1 = (e: number) => rotr(xor(xor(get(e), rotr(get(e), 5)), rotr(get(e), 19)), 6);
  const bigSigma0 = (a: number) => rotr(xor(xor(get(a), rotr(get(a), 11)), rotr(get(a), 20)), 2);
  const smallSigma0 = (x: number) => xor(xor(rotr(get(x), 7), rotr(get(x), 18)), m.i32.shr_u(get(x), c(3)));
  const smallSigma1 = (x: number) => xor(xor(rotr(get(x), 17), rotr(get(x), 19)), m.i32.shr_u(get(x), c(10)));

  const block: binaryen.ExpressionRef[] = [];
  for (let i = 0; i < 16; i++) block.push(...loadBE(P, 4 * i, W(i)));
  for (let i = 0; i < 8; i++) block.push(set(V(i), get(S(i))));
  // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); round 0's b ^ c comes from here.
  block.push(set(AB[1], xor(get(V(1)), get(V(2)))));
  for (let i = 0; i < 64; i++) {
    // Role j (a..h) of round i lives in working variable (j - i) mod 8.
    const r = (j: number) => V((((j - i) % 8) + 8) % 8);
    const w = W(i % 16);
    // Rounds 16..63 compute their schedule word inside the round's sum (a tee instead of a set and a get).
    const word =
      i >= 16 ? tee(w, add(add(add(smallSigma1(W((i - 2) % 16)), get(W((i - 7) % 16))), smallSigma0(W((i - 15) % 16))), get(w))) : get(w);
    const ch = xor(get(r(6)), and(get(r(4)), xor(get(r(5)), get(r(6)))));
    // h += Σ1(e) + Ch(e, f, g) + K[i] + W[i]; d += h; h += Σ0(a) + Maj(a, b, c).
    block.push(set(r(3), add(tee(r(7), add(add(add(add(get(r(7)), bigSigma1(r(4))), ch), c(K[i])), word)), get(r(3)))));
    const abNow = AB[i & 1];
    const abPrev = AB[(i + 1) & 1];
    const maj = xor(get(r(1)), and(tee(abNow, xor(get(r(0)), get(r(1)))), get(abPrev)));
    block.push(set(r(7), add(add(get(r(7)), bigSigma0(r(0))), maj)));
  }
  for (let i = 0; i < 8; i++) block.push(set(S(i), add(get(S(i)), get(V(i)))));
  block.push(set(P, add(get(P), c(64))));

  const body = m.block(null, [
    m.if(m.i32.le_u(get(LEN), c(32)), m.block(null, [m.call(forward, [get(PTR), get(LEN)], binaryen.none), m.return()])),
    // Hashing takes whole 64-byte blocks; any other length is a chunk-space command (native-chunk-space.ts).
    m.if(
      and(m.i32.sub(get(LEN), c(32)), c(63)),
      command ? m.block(null, [m.call(command, [get(PTR), get(LEN)], binaryen.none), m.return()]) : m.unreachable(),
    ),
    ...Array.from({ length: 8 }, (_, i) => loadBE(PTR, 4 * i, S(i))).flat(),
    set(P, add(get(PTR), c(32))),
    set(END, add(get(PTR), get(LEN))),
    m.block('done', [m.loop('blocks', m.block(null, [m.br('done', m.i32.ge_u(get(P), get(END))), ...block, m.br('blocks')]))]),
    ...Array.from({ length: 8 }, (_, i) => storeBE(PTR, 4 * i, S(i))).flat(),
  ]);
  m.addFunction(name, binaryen.createType([i32, i32]), binaryen.none, vars, body);
}

/**
 * The module with `ic0.certified_data_set` replaced by the native hashing
 * function, and its stable memory shared with the chunk space
 * (native-chunk-space.ts). Throws when the module does not import them (not an azle module).
 */
export function patchNativeSha256(wasm: Uint8Array): Uint8Array {
  binaryen.setDebugInfo(false);
  const m = binaryen.readBinary(wasm);
  try {
    let importName: string | undefined;
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
      if (info.module === 'ic0' && info.base === 'certified_data_set') importName = info.name;
      if (info.name === NATIVE_FUNCTION) throw new Error('the module already has the native SHA-256 function');
    }
    if (!importName) throw new Error('the module does not import ic0.certified_data_set');
    const i32x2 = binaryen.createType([binaryen.i32, binaryen.i32]);
    // Every call site names the import; removing it and adding a function of
    // the same name points them all at the new body.
    m.removeFunction(importName);
    m.addFunctionImport(REAL_IMPORT, 'ic0', 'certified_data_set', i32x2, binaryen.none);
    const command = addChunkSpace(m);
    addBlockFunction(m, importName, REAL_IMPORT, command);
    if (!m.validate()) throw new Error('the patched module does not validate');
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** A standalone module exporting only the block function as `compress` (memory exported as `memory`), for tests of the generator itself. */
export function standaloneBlockModule(): Uint8Array {
  const m = new binaryen.Module();
  try {
    m.setMemory(1, 65536, 'memory');
    const i32x2 = binaryen.createType([binaryen.i32, binaryen.i32]);
    m.addFunctionImport('forward', 'env', 'forward', i32x2, binaryen.none);
    addBlockFunction(m, 'compress', 'forward');
    m.addFunctionExport('compress', 'compress');
    if (!m.validate()) throw new Error('the block module does not validate');
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
