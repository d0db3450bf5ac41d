// The index canister on the threaded local IC (`thread: 'worker'`, a pool of
// two runtime workers): the index and the buckets it creates execute on
// different workers, so its create_canister, upload_chunk and
// install_chunked_code calls cross workers; the users then call their
// buckets on their workers. Placement is the host's
// (the worker with the fewest canisters, the first on a tie): the index on
// worker 0, bucket A on worker 1, bucket B on worker 0.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANISTER_RANGE_START, canisterIdFromIndex, LocalIC } from '../../canister/local/index.js';
import { buildCanister } from '../../canister/scripts/build.js';
import { actorFor, ok } from '../canister/support/actor.js';
import { ADMIN, foreverWasm, metadata, newId, principal } from '../canister/support/forever.js';
import { PrincipalResult, Settings, UnitResult } from '../../canister/local/index-idl.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());


async function call<T>(ic: LocalIC, id: Principal, caller: Principal, method: string, types: IDL.Type[], args: unknown[], ret: IDL.Type): Promise<T> {
  const r = await ic.update(id, method, new Uint8Array(IDL.encode(types, args)), { caller });
  if (r.status !== 'replied') throw new Error(`${method} rejected: ${r.rejectMessage}`);
  return IDL.decode([ret], r.reply)[0] as T;
}

describe('forever_index creating buckets on other workers', () => {
  let ic: LocalIC;
  let index: Principal;
  const users = [1, 2, 3, 4].map((n) => principal(600 + n));
  const assigned: Principal[] = [];

  beforeAll(async () => {
    ic = await LocalIC.create({ thread: 'worker', workers: 2, clock: 'manual', log: () => undefined });
    index = await ic.createCanister({ controllers: [ADMIN] });
    const settings = { capacity_users: 3, capacity_bytes: 1n << 40n, bucket_controllers: [ADMIN], bucket_cycles: 0n, presence_verifiers: [] };
    await ic.installCode(index, new Uint8Array(readFileSync(buildCanister('forever_index'))), {
      mode: 'install',
      arg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[settings]])),
      sender: ADMIN,
    });
    const wasm = foreverWasm();
    const count = Math.ceil(wasm.length / MiB);
    for (let i = 0; i < count; i++) {
      const chunk = wasm.subarray(i * MiB, (i + 1) * MiB);
      expect(await call(ic, index, ADMIN, 'upload_bucket_module_chunk', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [i, chunk], UnitResult)).toEqual({ Ok: null });
    }
    expect(await call(ic, index, ADMIN, 'set_bucket_module', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [count, sha(wasm)], UnitResult)).toEqual({ Ok: null });
  });
  afterAll(async () => {
    await ic.close();
  });

  it('users 1–3 land in bucket A, user 4 causes bucket B; ids follow the one sequence', async () => {
    for (const u of users) {
      const r = await call<{ Ok: Principal } | { Err: unknown }>(ic, index, u, 'assign_bucket', [], [], PrincipalResult);
      if (!('Ok' in r)) throw new Error(`assign_bucket: ${JSON.stringify(r)}`);
      assigned.push(r.Ok);
    }
    const [a, a2, a3, b] = assigned.map((p) => p.toText());
    expect([a2, a3]).toEqual([a, a]);
    expect(a).toBe(canisterIdFromIndex(CANISTER_RANGE_START + 2n).toText());
    expect(b).toBe(canisterIdFromIndex(CANISTER_RANGE_START + 3n).toText());
    expect(ic.canisterIds().map((p) => p.toText())).toEqual([index.toText(), a, b]);
    for (const bucket of [assigned[0], assigned[3]]) {
      expect(Buffer.from(ic.moduleHash(bucket)!).equals(sha(foreverWasm()))).toBe(true);
      expect(ic.controllers(bucket).map((p) => p.toText()).sort()).toEqual([index.toText(), ADMIN.toText()].sort());
    }
  });

  it("each user's bucket answers them from its worker, and holds only its own users' data", async () => {
    const m1 = newId();
    const m4 = newId();
    ok(await actorFor(ic, assigned[0], users[0]).upsert_metadata(m1, { Note: null }, metadata('in A'), `k-${m1}`));
    ok(await actorFor(ic, assigned[3], users[3]).upsert_metadata(m4, { Note: null }, metadata('in B'), `k-${m4}`));
    const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    expect(json(await actorFor(ic, assigned[0], users[0]).get_memory(m1))).toContain('in A');
    expect(json(await actorFor(ic, assigned[3], users[3]).get_memory(m4))).toContain('in B');
    expect(json(await actorFor(ic, assigned[0], users[3]).get_memory(m4))).not.toContain('in B');
  });
});
