// A seeded random walk of well-formed, malformed and hostile calls from
// several principals (with clock jumps and upgrades). Nothing may trap, and
// the canister's invariants must hold throughout: no orphan chunks, usage
// equal to the committed sizes, no session over its limits, and every
// committed file reads back as the bytes that were sent.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { UploadSession } from '../../src/declarations/forever/forever.did';
import { blob, type ForeverActor, foreverFuncs, type MethodName, ok } from './support/actor';
import { chunksOf, type Forever, metadata, principal, sha256, startForever } from './support/forever';

const SEED = Number(process.env.FOREVER_FUZZ_SEED ?? 20240611);
const CALLS = 1200;
const CHUNK = 256;

let f: Forever;
beforeAll(async () => {
  f = await startForever();
  const limits = await f.admin.get_limits();
  // Small chunks keep the walk fast; the protocol is the same at 1 MiB.
  ok(await f.admin.set_limits({ ...limits, chunk_size: CHUNK, max_file_size: BigInt(CHUNK * 12), session_ttl_seconds: 120 }));
  ok(await f.admin.set_quota(principal(62), [BigInt(CHUNK * 20)]));
});
afterAll(async () => {
  await f?.close();
});

/** mulberry32: a small seeded generator, so a failing walk can be replayed with FOREVER_FUZZ_SEED. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    /** A canonical UUID v4 from the seed, so a walk replays exactly. */
    uuid: (): string => {
      const h = Array.from({ length: 16 }, () => Math.floor(next() * 256).toString(16).padStart(2, '0'));
      h[6] = `4${h[6][1]}`;
      h[8] = `${'89ab'[Math.floor(next() * 4)]}${h[8][1]}`;
      return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
    },
  };
}

interface Upload {
  owner: number;
  memoryId: string;
  data: Uint8Array;
  session?: UploadSession;
  sent: Set<number>;
  done: boolean;
}

it(`keeps its invariants under ${CALLS} random calls (seed ${SEED})`, async () => {
  const r = rng(SEED);
  const users = [61, 62, 63, 64];
  const actors = new Map<number, ForeverActor>(users.map((u) => [u, f.actor(principal(u))]));
  const anonymous = f.actor(Principal.anonymous());
  const memories: Array<{ owner: number; id: string }> = [];
  const uploads: Upload[] = [];
  const committed = new Map<string, { owner: number; data: Uint8Array }>();
  const badIds = ['', 'x', '0190A0B0-0000-7000-8000-000000000001', '0190a0b0-0000-7000-8000-00000000000g', r.uuid() + ' ', 'a'.repeat(10_000)];
  let calls = 0;
  let upgrades = 0;

  // Mostly uploads still in progress, sometimes finished ones (retries, late calls).
  const pickUpload = (): Upload | undefined => {
    const open = uploads.filter((u) => !u.done);
    return open.length && r.chance(0.85) ? r.pick(open) : uploads.length ? r.pick(uploads) : undefined;
  };
  const userOf = (a: ForeverActor): number => users.find((u) => actors.get(u) === a) ?? -1;
  const someone = (): ForeverActor => (r.chance(0.05) ? anonymous : actors.get(r.pick(users))!);
  const anyId = (): string => (r.chance(0.1) ? r.pick(badIds) : r.chance(0.6) && memories.length ? r.pick(memories).id : r.uuid());

  for (; calls < CALLS; calls++) {
    const op = r.int(100);
    const who = someone();
    if (op < 15) {
      const id = anyId();
      const types = [{ Image: null }, { Video: null }, { Audio: null }, { Document: null }, { Note: null }] as const;
      const res = await who.upsert_metadata(id, r.pick(types), metadata(r.chance(0.05) ? 'x'.repeat(600) : `m${calls}`), `key-${r.int(40)}`);
      if ('Ok' in res && res.Ok.created) memories.push({ owner: userOf(who), id });
    } else if (op < 30) {
      const mem = memories.length ? r.pick(memories) : { owner: 61, id: r.uuid() };
      const actor = r.chance(0.85) && mem.owner > 0 ? actors.get(mem.owner)! : who;
      const owner = userOf(actor);
      const size = r.chance(0.1) ? CHUNK * 12 + 1 : 1 + r.int(CHUNK * 5);
      const data = r.bytes(size);
      const count = r.chance(0.1) ? r.int(20) : Math.ceil(size / CHUNK);
      const hash = r.chance(0.05) ? r.bytes(r.pick([31, 32, 33])) : sha256(data);
      const res = await actor.begin_asset_upload(mem.id, hash, count, BigInt(size));
      if ('Ok' in res) {
        const known = uploads.find((u) => u.session?.session_id === res.Ok.session_id);
        if (!known) uploads.push({ owner, memoryId: mem.id, data, session: res.Ok, sent: new Set(), done: false });
      }
    } else if (op < 65) {
      const u = pickUpload();
      if (!u?.session) continue;
      const chunks = chunksOf(u.data, CHUNK);
      const unsent = chunks.map((_, i) => i).filter((i) => !u.sent.has(i));
      const index = r.chance(0.05) ? chunks.length + r.int(3) : unsent.length && r.chance(0.8) ? r.pick(unsent) : r.int(chunks.length);
      u.sent.add(index);
      let bytes = chunks[index] ?? r.bytes(CHUNK);
      if (r.chance(0.05)) bytes = r.bytes(bytes.length + r.pick([-1, 1, 0]));
      const actor = r.chance(0.9) ? actors.get(u.owner)! : who;
      await actor.put_chunk(u.session.session_id, index, bytes);
    } else if (op < 78) {
      const u = pickUpload();
      if (!u?.session) continue;
      const actor = r.chance(0.9) ? actors.get(u.owner)! : who;
      const res = await actor.commit_asset(u.session.session_id, r.chance(0.1) ? r.bytes(32) : sha256(u.data));
      if ('Ok' in res) {
        committed.set(`${u.owner}/${u.memoryId}`, { owner: u.owner, data: u.data });
        u.done = true;
      }
    } else if (op < 83) {
      const u = uploads.length ? r.pick(uploads) : undefined;
      await (u && r.chance(0.8) ? actors.get(u.owner)! : who).cancel_upload(u?.session?.session_id ?? anyId());
    } else if (op < 88) {
      const ids = Array.from({ length: r.int(5) }, anyId);
      await who.store_gallery({ id: r.chance(0.5) ? anyId() : r.uuid(), title: `g${calls}`, description: [], memory_ids: ids });
    } else if (op < 92) {
      const m = memories.length ? r.pick(memories) : { id: anyId() };
      await who.read_chunk(m.id, r.int(6));
      await who.get_memory_list_presence(Array.from({ length: r.int(30) }, anyId), r.chance(0.2) ? [String(r.int(40))] : [], r.chance(0.3) ? [r.int(120)] : []);
    } else if (op < 96) {
      // Malformed Candid to a random method: never a trap.
      const method = r.pick([...foreverFuncs.keys()]) as MethodName;
      const arg = r.chance(0.5) ? r.bytes(r.int(40)) : new Uint8Array(IDL.encode([IDL.Text, IDL.Nat64], ['junk', 5n]));
      const res = await who.raw(method, arg);
      expect(res.status, `${method} with malformed arguments`).toBe('replied');
    } else if (op < 99) {
      await f.ic.advanceTime(r.int(60_000));
    } else if (upgrades < 2) {
      upgrades++;
      await f.upgrade();
    }
    if (calls % 200 === 199) {
      const inv = ok(await f.admin.check_invariants());
      expect(inv.violations, `after ${calls + 1} calls`).toEqual([]);
    }
  }

  const inv = ok(await f.admin.check_invariants());
  expect(inv.violations).toEqual([]);
  // Every committed file reads back as the bytes that were sent.
  for (const [key, { owner, data }] of committed) {
    const memoryId = key.slice(key.indexOf('/') + 1);
    const parts = chunksOf(data, CHUNK).map((_, i) => i);
    const back: Uint8Array[] = [];
    for (const i of parts) back.push(blob(ok(await actors.get(owner)!.read_chunk(memoryId, i))));
    expect(Buffer.concat(back).equals(Buffer.from(data)), key).toBe(true);
  }
  // Usage is the sum of what each principal committed.
  for (const u of users) {
    const sum = [...committed.values()].filter((c) => c.owner === u).reduce((n, c) => n + BigInt(c.data.length), 0n);
    expect(ok(await actors.get(u)!.get_usage()).used_bytes, `usage of user ${u}`).toBe(sum);
  }
  // The walk must reach the end of the protocol often enough to mean something.
  expect(committed.size).toBeGreaterThanOrEqual(10);
}, 300_000);
