// The build's check of the native SHA-256: the finished `forever` module is
// installed in a fresh local IC (its `init` checks two known digests itself)
// and hashes NIST's test vectors, whole and split at awkward boundaries,
// through `sha256_parts`. Any wrong digest fails the build.
import { createHash } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { LocalIC } from '../local/index.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** FIPS 180-4 / NIST CAVS examples with their published digests. */
export const NIST_VECTORS: Array<{ name: string; data: Uint8Array; sha256: string }> = [
  { name: 'empty', data: new Uint8Array(0), sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { name: '"abc"', data: ascii('abc'), sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  {
    name: '448 bits',
    data: ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    sha256: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
  {
    name: '896 bits',
    data: ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    sha256: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  },
  { name: 'one million "a"', data: new Uint8Array(1_000_000).fill(0x61), sha256: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0' },
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Splits `data` at the given offsets (clamped, sorted). */
export function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(data.subarray(from, p));
    from = p;
  }
  parts.push(data.subarray(from));
  return parts;
}

const CONTROLLER = Principal.fromUint8Array(new Uint8Array([...new Array(28).fill(7), 0x02]));

export async function checkNativeSha256(wasm: Uint8Array): Promise<void> {
  const ic = await LocalIC.create({ clock: 'manual' });
  try {
    const id = await ic.createCanister({ controllers: [CONTROLLER] });
    // init traps unless the module's block function gives the known digests.
    await ic.installCode(id, wasm, { mode: 'install', sender: CONTROLLER });
    const ret = IDL.Variant({ Ok: IDL.Record({ state: IDL.Vec(IDL.Nat8), digest: IDL.Vec(IDL.Nat8) }), Err: IDL.Reserved });
    const Bytes = IDL.Vec(IDL.Nat8);
    for (const v of NIST_VECTORS) {
      if (hex(createHash('sha256').update(v.data).digest()) !== v.sha256) throw new Error(`self-check: the vector ${v.name} is wrong`);
      for (const cuts of [[], [1], [55, 56, 64], [63, 64, 65, 127, 128, 129], [1000, 1001, 4096, 65_536, 999_999]]) {
        const parts = splitAt(v.data, cuts);
        const r = await ic.query(id, 'sha256_parts', new Uint8Array(IDL.encode([IDL.Opt(Bytes), IDL.Vec(Bytes)], [[], parts])), { caller: CONTROLLER });
        if (r.status !== 'replied') throw new Error(`self-check: sha256_parts rejected: ${r.rejectMessage}`);
        const out = IDL.decode([ret], r.reply)[0] as { Ok?: { digest: Uint8Array } };
        const got = out.Ok ? hex(new Uint8Array(out.Ok.digest)) : 'an error';
        if (got !== v.sha256) throw new Error(`self-check: SHA-256 of ${v.name} in ${parts.length} parts is ${got}, expected ${v.sha256}`);
      }
    }
  } finally {
    await ic.close();
  }
}
