// The module's native SHA-256: the digests it computes in the local IC equal
// Node's (NIST's vectors, then 1,000 random lengths from 0 to 3 MiB split at
// random boundaries and carried across calls as saved states, as uploads
// carry them across chunks), and a module built without the native path
// never installs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallCodeError, LocalIC } from '../../canister/local/index';
import { unpatchedWasmPath } from '../../canister/scripts/build';
import { NIST_VECTORS, splitAt } from '../../canister/scripts/self-check';
import { blob, err, foreverFuncs, ok } from './support/actor';
import { ADMIN, type Forever, foreverWasm, MiB, principal, seededBytes, startForever } from './support/forever';

let f: Forever;

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

const nodeSha = (parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const hex = (b: Uint8Array | number[]): string => Buffer.from(blob(b)).toString('hex');

/** A small PRNG so a failing case can be replayed (FOREVER_HASH_SEED). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/**
 * sha256_parts through the admin actor with its argument encoded here: the
 * Candid library copies a blob byte by byte (about 90 ms per MiB in Node),
 * which would be most of this test's time. The bytes are the plain encoding
 * of `(opt blob, vec blob)`.
 */
async function hashParts(state: [] | [Uint8Array], parts: Uint8Array[]): Promise<{ state: Uint8Array; digest: Uint8Array }> {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return out;
  };
  const head = [0x44, 0x49, 0x44, 0x4c, 3, 0x6d, 0x7b, 0x6e, 0x00, 0x6d, 0x00, 2, 1, 2];
  const pieces: Uint8Array[] = [Uint8Array.from(head)];
  pieces.push(state.length ? Uint8Array.from([1, ...leb(state[0].length)]) : Uint8Array.from([0]));
  if (state.length) pieces.push(state[0]);
  pieces.push(Uint8Array.from(leb(parts.length)));
  for (const p of parts) pieces.push(Uint8Array.from(leb(p.length)), p);
  const r = await f.admin.raw('sha256_parts', Buffer.concat(pieces));
  if (r.status !== 'replied') throw new Error(`sha256_parts rejected: ${r.rejectMessage}`);
  const func = foreverFuncs.get('sha256_parts')!;
  return ok(IDL.decode(func.retTypes, r.reply)[0] as { Ok: { state: Uint8Array; digest: Uint8Array } } | { Err: unknown });
}

/** Bytes of one call's parts, below the 2 MiB ingress limit with room for Candid's framing. */
const CALL_BYTES = 2 * MiB - 64 * 1024;

describe('native SHA-256', () => {
  it('gives NIST’s published digests, whole and split', async () => {
    for (const v of NIST_VECTORS) {
      expect(nodeSha([v.data])).toBe(v.sha256);
      for (const cuts of [[], [0], [3], [55, 56, 63, 64], [64, 128, 192]]) {
        const r = ok(await f.admin.sha256_parts([], splitAt(v.data, cuts)));
        expect(hex(r.digest)).toBe(v.sha256);
      }
    }
  });

  it('equals Node’s digest for 1,000 random lengths from 0 to 3 MiB split at random chunk boundaries', async () => {
    const seed = Number(process.env.FOREVER_HASH_SEED ?? 20261201);
    const random = rng(seed);
    const pool = seededBytes(4 * MiB, seed);
    // Log-uniform lengths: short ones (where block and padding boundaries lie) are as common as long
    // ones, and the run hashes about 200 MB instead of 1.5 GB. Both ends are always included.
    const MAX = 3 * MiB;
    const lengthOf = (n: number): number => (n === 0 ? 0 : n === 1 ? MAX : Math.min(MAX, Math.floor(Math.exp(random() * Math.log(MAX + 1))) - 1));
    for (let n = 0; n < 1000; n++) {
      const length = lengthOf(n);
      const start = Math.floor(random() * (pool.length - length + 1));
      const data = pool.subarray(start, start + length);
      const cuts = Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * (length + 1)));
      const parts = splitAt(data, cuts);
      // Parts go in calls that fit a message; each call continues from the last one's saved state.
      let state: [] | [Uint8Array] = [];
      let digest = '';
      for (let i = 0; i < parts.length || i === 0; ) {
        const batch: Uint8Array[] = [];
        let bytes = 0;
        while (i < parts.length && (batch.length === 0 || bytes + parts[i].length <= CALL_BYTES)) {
          // A part larger than one call is split once more at the call boundary.
          const p = parts[i];
          if (bytes + p.length > CALL_BYTES) {
            batch.push(p.subarray(0, CALL_BYTES - bytes));
            parts[i] = p.subarray(CALL_BYTES - bytes);
            bytes = CALL_BYTES;
            break;
          }
          batch.push(p);
          bytes += p.length;
          i++;
        }
        const r = await hashParts(state, batch);
        state = [blob(r.state)];
        digest = hex(r.digest);
        if (i >= parts.length) break;
      }
      if (digest !== nodeSha([data])) throw new Error(`length ${length} (case ${n}, seed ${seed}): canister ${digest}, Node ${nodeSha([data])}`);
    }
  }, 300_000);

  it('is for controllers only and refuses a state that is not one', async () => {
    expect(err(await f.actor(principal(5)).sha256_parts([], [new Uint8Array(3)]))).toEqual({ Unauthorized: null });
    expect(err(await f.admin.sha256_parts([new Uint8Array(7)], []))).toMatchObject({ InvalidArgument: expect.any(String) });
  });
});

describe('a module without the native SHA-256', () => {
  it('refuses to install: init traps, and the canister keeps no module', async () => {
    const ic = await LocalIC.create({ clock: 'manual' });
    try {
      const id = await ic.createCanister({ controllers: [ADMIN] });
      const unpatched = new Uint8Array(readFileSync(unpatchedWasmPath()));
      expect(unpatched.length).toBeGreaterThan(1_000_000);
      const install = ic.installCode(id, unpatched, { mode: 'install', sender: ADMIN });
      await expect(install).rejects.toBeInstanceOf(InstallCodeError);
      await expect(install).rejects.toThrow(/certified data/);
      expect(ic.moduleHash(id)).toBeUndefined();
      // The shipped module installs on the same canister.
      await ic.installCode(id, foreverWasm(), { mode: 'install', sender: ADMIN });
      expect(ic.moduleHash(id)).toBeDefined();
      const r = await ic.query(id, 'get_limits', new Uint8Array(IDL.encode([], [])), { caller: ADMIN });
      expect(r.status).toBe('replied');
    } finally {
      await ic.close();
    }
  });

  it('cannot replace the native module by an upgrade either (post_upgrade traps, the old module stays)', async () => {
    const before = f.ic.moduleHash(f.canisterId);
    const upgrade = f.ic.installCode(f.canisterId, new Uint8Array(readFileSync(unpatchedWasmPath())), { mode: 'upgrade', sender: ADMIN });
    await expect(upgrade).rejects.toBeInstanceOf(InstallCodeError);
    expect(Buffer.from(f.ic.moduleHash(f.canisterId)!).equals(Buffer.from(before!))).toBe(true);
    expect(hex(ok(await f.admin.sha256_parts([], [new TextEncoder().encode('abc')])).digest)).toBe(NIST_VECTORS[1].sha256);
  });
});
