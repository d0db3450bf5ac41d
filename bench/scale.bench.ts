// `npm run bench scale`: the local IC under many uploading users, on the
// threaded runtime `npm start` uses (`thread: 'worker'`).
//
// 1. Query latency: `get_usage` of a user who is not uploading, idle and
//    while 12 users upload 1 MiB chunks to the same bucket, with queries on
//    the query replica (the default) and queued with the updates
//    (`queries: 'serial'`, how it was). Reported as p50/p95 and the loaded
//    p95 as a ratio of the idle p95 of the same configuration (target: ≤ 3×).
// 2. Throughput: K users uploading at once to one bucket, and the same users
//    split over two buckets, in the same run; the aggregate MB/s ratio
//    (two buckets / one) approaches the machine's core count, since the
//    threaded local IC executes canisters on a pool of one runtime thread per
//    core and places the two buckets on different ones.
// 3. The index canister: instructions of a lookup (`my_bucket`,
//    `my_bucket_certified` with its witness, the server's `lookup_bucket`,
//    queries) and of `assign_bucket` for a user who has a bucket, after it
//    placed 4 users in 2 buckets it created.
import { availableParallelism, cpus } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import { LocalIC } from '../canister/local/index.js';
import type { Principal } from '@dfinity/principal';
import { actorFor, ok, type ForeverActor } from '../tests/canister/support/actor.js';
import { foreverWasm, metadata, MiB, principal, seededBytes, sha256 } from '../tests/canister/support/forever.js';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { buildCanister } from '../canister/scripts/build.js';

const UPLOADERS = 12;
const QUERIES = 40;
const FILE_CHUNKS = 4;
const THROUGHPUT_USERS = 4;
const THROUGHPUT_FILES_PER_USER = 1;
/**
 * One bucket and two buckets are measured alternately (1, 2 | 2, 1 | 1, 2):
 * on a shared machine the load of other jobs drifts over minutes, and a
 * ratio of adjacent runs, taken as the median of the rounds, cancels most of it.
 */
const THROUGHPUT_ROUNDS = 3;

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function bucket(ic: LocalIC, admin: Principal): Promise<Principal> {
  const id = await ic.createCanister({ controllers: [admin] });
  await ic.installCode(id, foreverWasm(), { mode: 'install', sender: admin });
  return id;
}

/** One file of FILE_CHUNKS MiB: metadata, begin, chunks, commit. Returns the bytes stored. */
async function uploadOne(actor: ForeverActor, seed: number, onChunk: (bytes: number) => void = () => undefined): Promise<number> {
  const data = seededBytes(FILE_CHUNKS * MiB, seed);
  const memoryId = uuidv7();
  ok(await actor.upsert_metadata(memoryId, { Document: null }, metadata(`bench ${seed}`), `m-${memoryId}`));
  const hash = sha256(data);
  const session = ok(await actor.begin_asset_upload(memoryId, hash, FILE_CHUNKS, BigInt(data.length)));
  for (let i = 0; i < FILE_CHUNKS; i++) {
    ok(await actor.put_chunk(session.session_id, i, data.subarray(i * MiB, (i + 1) * MiB)));
    onChunk(MiB);
  }
  ok(await actor.commit_asset(session.session_id, hash));
  return data.length;
}

async function queryLatencies(actor: ForeverActor, n: number, gapMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await actor.get_usage();
    out.push(performance.now() - t);
    if (gapMs > 0) await sleep(gapMs);
  }
  return out;
}

export async function latencyUnderLoad(
  queries: 'replica' | 'serial',
): Promise<{ idle: number[]; loaded: number[]; uploadedMiBPerSecond: number }> {
  const admin = principal(1_000_000);
  const ic = await LocalIC.create({ thread: 'worker', queries, log: () => undefined });
  try {
    const id = await bucket(ic, admin);
    const reader = actorFor(ic, id, principal(999));
    await uploadOne(reader, 1); // the reader has data of its own
    await queryLatencies(reader, 5, 0); // warm-up
    const idle = await queryLatencies(reader, QUERIES, 20);
    let stop = false;
    let chunks = 0;
    const uploaders = Array.from({ length: UPLOADERS }, async (_, u) => {
      const actor = actorFor(ic, id, principal(100 + u));
      for (let f = 0; !stop; f++) await uploadOne(actor, u * 1000 + f + 2, () => chunks++);
    });
    await sleep(1_000); // every uploader has chunks in flight
    const before = chunks;
    const t = performance.now();
    const loaded = await queryLatencies(reader, queries === 'serial' ? 8 : QUERIES, 100);
    const uploadedMiBPerSecond = (chunks - before) / ((performance.now() - t) / 1000);
    stop = true;
    await Promise.all(uploaders);
    return { idle, loaded, uploadedMiBPerSecond };
  } finally {
    await ic.close();
  }
}

/**
 * Aggregate MB/s, and the CPU the process got meanwhile (all its threads, in
 * cores): on a machine shared with other jobs the second tells whether the
 * second bucket's thread found a core to run on at all.
 */
async function throughput(buckets: 1 | 2): Promise<{ mbps: number; cores: number }> {
  const admin = principal(1_000_000);
  const ic = await LocalIC.create({ thread: 'worker', log: () => undefined });
  try {
    const ids = [await bucket(ic, admin), ...(buckets === 2 ? [await bucket(ic, admin)] : [])];
    const t = performance.now();
    const cpu = process.cpuUsage();
    let bytes = 0;
    await Promise.all(
      Array.from({ length: THROUGHPUT_USERS }, async (_, u) => {
        const actor = actorFor(ic, ids[u % ids.length], principal(200 + u));
        for (let f = 0; f < THROUGHPUT_FILES_PER_USER; f++) bytes += await uploadOne(actor, 50_000 + u * 100 + f);
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    return { mbps: bytes / 1e6 / seconds, cores: (used.user + used.system) / 1e6 / seconds };
  } finally {
    await ic.close();
  }
}

export default async function bench(): Promise<void> {
  console.log(`${UPLOADERS} users uploading ${FILE_CHUNKS} MiB files (1 MiB put_chunk), get_usage of a 13th user; ${cpus().length} cores\n`);
  console.log('| queries | idle p50 | idle p95 | loaded p50 | loaded p95 | loaded p95 / idle p95 | uploads meanwhile |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const mode of ['replica', 'serial'] as const) {
    const r = await latencyUnderLoad(mode);
    const ratio = percentile(r.loaded, 95) / percentile(r.idle, 95);
    console.log(
      `| ${mode === 'replica' ? 'query replica (default)' : "queued with updates ('serial')"} | ${ms(percentile(r.idle, 50))} | ${ms(percentile(r.idle, 95))} | ${ms(percentile(r.loaded, 50))} | ${ms(percentile(r.loaded, 95))} | ${ratio.toFixed(2)}× | ${r.uploadedMiBPerSecond.toFixed(2)} MiB/s |`,
    );
  }
  console.log(`\n${THROUGHPUT_USERS} users uploading ${THROUGHPUT_FILES_PER_USER} file(s) of ${FILE_CHUNKS} MiB each at once, ${THROUGHPUT_ROUNDS} rounds\n`);
  console.log('| round | 1 bucket MB/s | 2 buckets MB/s | 2 / 1 | CPU cores the process got (1 / 2 buckets) |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  const ratios: number[] = [];
  for (let round = 1; round <= THROUGHPUT_ROUNDS; round++) {
    let one: { mbps: number; cores: number };
    let two: { mbps: number; cores: number };
    if (round % 2 === 1) {
      one = await throughput(1);
      two = await throughput(2);
    } else {
      two = await throughput(2);
      one = await throughput(1);
    }
    ratios.push(two.mbps / one.mbps);
    console.log(
      `| ${round} | ${one.mbps.toFixed(2)} | ${two.mbps.toFixed(2)} | ${(two.mbps / one.mbps).toFixed(2)}× | ${one.cores.toFixed(2)} / ${two.cores.toFixed(2)} |`,
    );
  }
  console.log(`\n2 buckets / 1 bucket: ${percentile(ratios, 50).toFixed(2)}× (median of ${THROUGHPUT_ROUNDS} rounds; cores: ${cpus().length}, runtime workers: ${availableParallelism()})`);
  const lookups = await indexLookups();
  const n = (x: bigint) => x.toLocaleString('en-US');
  console.log(
    `\nindex: instructions per lookup: my_bucket (query) ${n(lookups.query)}; my_bucket_certified (query, with witness) ${n(lookups.certified)}; lookup_bucket (query) ${n(lookups.lookup)}; assign_bucket of an assigned user (update) ${n(lookups.update)}`,
  );
}

export async function indexLookups(): Promise<{ query: bigint; certified: bigint; lookup: bigint; update: bigint }> {
  const admin = principal(1_000_000);
  const ic = await LocalIC.create({ clock: 'manual', log: () => undefined });
  try {
    const index = await ic.createCanister({ controllers: [admin] });
    const Settings = IDL.Record({
      capacity_users: IDL.Nat32,
      capacity_bytes: IDL.Nat64,
      bucket_controllers: IDL.Vec(IDL.Principal),
      bucket_cycles: IDL.Nat,
      presence_verifiers: IDL.Vec(IDL.Principal),
    });
    const settings = { capacity_users: 3, capacity_bytes: 1n << 40n, bucket_controllers: [admin], bucket_cycles: 0n, presence_verifiers: [] };
    const wasm = new Uint8Array(readFileSync(buildCanister('forever_index')));
    await ic.installCode(index, wasm, { mode: 'install', arg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[settings]])), sender: admin });
    const bucketWasm = foreverWasm();
    const count = Math.ceil(bucketWasm.length / MiB);
    const enc = (t: IDL.Type[], v: unknown[]) => new Uint8Array(IDL.encode(t, v));
    for (let i = 0; i < count; i++) {
      await ic.update(index, 'upload_bucket_module_chunk', enc([IDL.Nat32, IDL.Vec(IDL.Nat8)], [i, bucketWasm.subarray(i * MiB, (i + 1) * MiB)]), { caller: admin });
    }
    await ic.update(index, 'set_bucket_module', enc([IDL.Nat32, IDL.Vec(IDL.Nat8)], [count, sha256(bucketWasm)]), { caller: admin });
    for (let u = 0; u < 4; u++) await ic.update(index, 'assign_bucket', enc([], []), { caller: principal(300 + u) });
    const q: bigint[] = [];
    const cq: bigint[] = [];
    const lq: bigint[] = [];
    const up: bigint[] = [];
    for (let i = 0; i < 10; i++) {
      const caller = principal(300 + (i % 4));
      q.push((await ic.query(index, 'my_bucket', enc([], []), { caller })).instructions);
      cq.push((await ic.query(index, 'my_bucket_certified', enc([], []), { caller })).instructions);
      lq.push((await ic.query(index, 'lookup_bucket', enc([IDL.Principal], [caller]), { caller: admin })).instructions);
      up.push((await ic.update(index, 'assign_bucket', enc([], []), { caller })).instructions);
    }
    const med = (xs: bigint[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[xs.length >> 1];
    return { query: med(q), certified: med(cq), lookup: med(lq), update: med(up) };
  } finally {
    await ic.close();
  }
}
