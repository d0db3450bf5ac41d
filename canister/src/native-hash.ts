// The SHA-256 block function native to this canister's module. The build
// (canister/scripts/native-sha256.ts) replaces the module's import of
// `ic0.certified_data_set` by a function that, for more than 32 bytes, reads
// the first 32 as the state (big-endian words), compresses the 64-byte blocks
// after them in place and writes the state back. azle's `certifiedDataSet`
// hands the Uint8Array's own memory to that function, so the block function
// reads the bytes where they are. Without the build step the same call traps
// (the IC refuses certified data over 32 bytes): a module without the native
// path cannot hash, and `selfCheck` makes `init` fail on it.
import { certifiedDataSet } from 'azle';
import type { BlockFunction } from './sha256';
import { Sha256 } from './sha256';

/** Scratch buffer reused by every call that fits (state + blocks); larger inputs get their own. */
let scratch = new Uint8Array(32 + 64);

function writeState(buf: Uint8Array, h: Int32Array): void {
  for (let i = 0; i < 8; i++) {
    const v = h[i];
    buf[i * 4] = v >>> 24;
    buf[i * 4 + 1] = (v >>> 16) & 0xff;
    buf[i * 4 + 2] = (v >>> 8) & 0xff;
    buf[i * 4 + 3] = v & 0xff;
  }
}

function readState(buf: Uint8Array, h: Int32Array): void {
  for (let i = 0; i < 8; i++) h[i] = (buf[i * 4] << 24) | (buf[i * 4 + 1] << 16) | (buf[i * 4 + 2] << 8) | buf[i * 4 + 3];
}

export const nativeCompress: BlockFunction = (h, d, off, blocks) => {
  const n = blocks * 64;
  if (scratch.length < 32 + n) scratch = new Uint8Array(32 + n);
  const work = scratch.length === 32 + n ? scratch : scratch.subarray(0, 32 + n);
  writeState(work, h);
  work.set(d.subarray(off, off + n), 32);
  certifiedDataSet(work);
  readState(work, h);
};

/** FIPS 180-4's one- and two-block examples: the known answers `init` checks. */
const KNOWN: Array<[string, string]> = [
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
];

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** Whether the installed block function gives the known digest (a wrong or missing native path fails or traps). */
export function selfCheck(): boolean {
  return KNOWN.every(([text, digest]) => hex(new Sha256().update(Uint8Array.from(text, (c) => c.charCodeAt(0))).digest()) === digest);
}
