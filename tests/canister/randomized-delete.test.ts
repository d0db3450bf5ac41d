// A seeded random walk over the stored-once and delete paths: a few
// principals store files from a small pool of contents (so the same bytes
// recur under several memories of one owner and across owners), delete
// memories (twice, someone else's, mid-upload), set thumbnails, upgrade.
// Nothing may trap, the invariants hold throughout, and at the end every
// surviving memory reads back its bytes and each owner's usage is the sum
// of its distinct contents still held.
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blob, type ForeverActor, ok } from './support/actor';
import { chunksOf, type Forever, metadata, principal, sha256, startForever } from './support/forever';

const SEED = Number(process.env.FOREVER_FUZZ_SEED ?? 20261201);
const CALLS = 600;
const CHUNK = 256;

let f: Forever;
beforeAll(async () => {
  f = await startForever();
  const limits = await f.admin.get_limits();
  ok(await f.admin.set_limits({ ...limits, chunk_size: CHUNK, max_file_size: BigInt(CHUNK * 8), session_ttl_seconds: 120 }));
});
afterAll(async () => {
  await f?.close();
});

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
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    uuid: (): string => {
      const h = Array.from({ length: 16 }, () => Math.floor(next() * 256).toString(16).padStart(2, '0'));
      h[6] = `4${h[6][1]}`;
      h[8] = `${'89ab'[Math.floor(next() * 4)]}${h[8][1]}`;
      return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
    },
  };
}

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

it(`keeps its invariants while memories with shared bytes come and go (${CALLS} calls, seed ${SEED})`, async () => {
  const r = rng(SEED);
  const users = [71, 72, 73];
  const actors = new Map<number, ForeverActor>(users.map((u) => [u, f.actor(principal(u))]));
  const pool = Array.from({ length: 3 }, () => r.bytes(1 + r.int(CHUNK * 6)));
  /** Memories that exist, with the content they hold once committed. */
  const live = new Map<string, { owner: number; data?: Uint8Array; session?: string; sent: Set<number>; content: Uint8Array }>();
  let upgrades = 0;
  let deleted = 0;
  let sharedBegins = 0;

  for (let calls = 0; calls < CALLS; calls++) {
    const op = r.int(100);
    const owner = r.pick(users);
    const actor = actors.get(owner)!;
    const mine = [...live].filter(([, m]) => m.owner === owner);
    if (op < 20) {
      const id = r.uuid();
      ok(await actor.upsert_metadata(id, { Image: null }, metadata(`m${calls}`), `k-${id}`));
      live.set(id, { owner, sent: new Set(), content: r.pick(pool) });
    } else if (op < 40 && mine.length) {
      const [id, m] = r.pick(mine);
      if (m.data) continue;
      const res = await actor.begin_asset_upload(id, sha256(m.content), Math.ceil(m.content.length / CHUNK), BigInt(m.content.length));
      if ('Ok' in res) m.session = res.Ok.session_id;
      else if ('AlreadyExists' in res.Err) {
        m.data = m.content;
        sharedBegins++;
      }
    } else if (op < 65 && mine.length) {
      const [, m] = r.pick(mine);
      if (!m.session || m.data) continue;
      const chunks = chunksOf(m.content, CHUNK);
      const index = r.int(chunks.length);
      if ('Ok' in (await actor.put_chunk(m.session, index, chunks[index]))) m.sent.add(index);
    } else if (op < 75 && mine.length) {
      const [, m] = r.pick(mine);
      if (!m.session || m.data) continue;
      const res = await actor.commit_asset(m.session, sha256(m.content));
      if ('Ok' in res) m.data = m.content;
    } else if (op < 88) {
      // Delete: mostly one's own memory, sometimes someone else's or an unknown id (both answer deleted = false).
      const any = [...live];
      const target = r.chance(0.8) && mine.length ? r.pick(mine) : any.length ? r.pick(any) : undefined;
      const id = target ? target[0] : r.uuid();
      const res = ok(await actor.delete_memory(id));
      const ownsIt = target !== undefined && target[1].owner === owner;
      expect(res.deleted, `delete ${id} by ${owner}`).toBe(ownsIt);
      if (ownsIt) {
        live.delete(id);
        deleted++;
        expect(ok(await actor.delete_memory(id))).toEqual({ deleted: false, freed_bytes: 0n });
      }
    } else if (op < 93 && mine.length) {
      ok(await actor.set_thumbnail(r.pick(mine)[0], PNG));
    } else if (op < 97) {
      await f.ic.advanceTime(r.int(30_000));
    } else if (upgrades < 2) {
      upgrades++;
      await f.upgrade();
    } else {
      await f.actor(Principal.anonymous()).delete_memory(r.uuid());
    }
    if (calls % 100 === 99) expect(ok(await f.admin.check_invariants()).violations, `after ${calls + 1} calls`).toEqual([]);
  }

  expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
  for (const u of users) {
    const actor = actors.get(u)!;
    const held = new Map<string, number>();
    for (const [id, m] of live) {
      if (m.owner !== u || !m.data) continue;
      held.set(hexOf(sha256(m.data)), m.data.length);
      const asset = ok(await actor.get_memory(id)).asset[0]!;
      const back: Uint8Array[] = [];
      for (let i = 0; i < asset.chunk_count; i++) back.push(blob(ok(await actor.read_chunk(id, i))));
      expect(Buffer.concat(back).equals(Buffer.from(m.data)), id).toBe(true);
    }
    const sum = [...held.values()].reduce((n, s) => n + BigInt(s), 0n);
    expect(ok(await actor.get_usage()).used_bytes, `usage of user ${u}`).toBe(sum);
  }
  // The walk must reach the paths it is about.
  expect(deleted).toBeGreaterThanOrEqual(20);
  expect(sharedBegins).toBeGreaterThanOrEqual(3);
}, 300_000);
