// `npm run bench canister`: what the forever canister's hot calls cost in
// instructions, measured by the local IC's metering (the figure the IC
// charges cycles for), with the phases of a 1 MiB put_chunk split by the
// ic0.performance_counter deltas the canister records (last_call_profile).
//
// Every figure has a baseline from the same run:
//   - the shipped module (native SHA-256) against the same build with the
//     JavaScript block function (.azle/forever/forever.jshash.wasm);
//   - a gap-closing chunk against an in-order one;
//   - the cycles of a stored MiB against the ingress floor (the fee for the
//     MiB's bytes alone, which no design can avoid);
//   - the wall time of the canister suite's 100 MiB test (the same calls as
//     tests/canister/happy-paths.test.ts: store with 4 chunks in flight,
//     presence, read every chunk back, check the invariants) through the
//     local IC, native against JavaScript.
// Cycles are the replica's fees for an application subnet of 13 nodes
// (dfinity/ic rs/config/src/subnet_config.rs, CyclesAccountManagerConfig::
// application_subnet): ten_update_instructions_execution_fee = 10 (1 cycle
// per instruction), update_message_execution_fee = 5 M,
// ingress_message_reception_fee = 1.2 M, ingress_byte_reception_fee = 2,000,
// gib_storage_per_second_fee = 127,000. 1 T cycles = 1 XDR.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { v7 as uuidv7 } from 'uuid';
import { LocalIC } from '../canister/local/index.js';
import { jsHashWasmPath } from '../canister/scripts/build.js';
import { actorFor, type ForeverActor, ok } from '../tests/canister/support/actor.js';
import { foreverWasm, metadata, MiB, principal, seededBytes, storeFile } from '../tests/canister/support/forever.js';

const max = (xs: bigint[]): bigint => xs.reduce((a, b) => (a > b ? a : b));

const UPDATE_LIMIT = 40_000_000_000n;
const QUERY_LIMIT = 5_000_000_000n;

/** The replica's application-subnet fees (13 nodes, the reference size). */
export const FEES = {
  cyclesPerInstruction: 10 / 10,
  updateMessage: 5_000_000,
  ingressMessage: 1_200_000,
  ingressByte: 2_000,
  gibStoragePerSecond: 127_000,
} as const;
/** XDR per US dollar moves; the README states the rate it uses. */
export const USD_PER_T_CYCLES = 1.35;

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const median = (xs: bigint[]): bigint => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[xs.length >> 1];
const mean = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n) / BigInt(xs.length);
const fmt = (n: bigint | number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const pct = (n: bigint, of: bigint): string => `${((Number(n) / Number(of)) * 100).toFixed(2)} %`;
const millions = (n: bigint | number): string => `${(Number(n) / 1e6).toFixed(1)} M`;
const billions = (n: number): string => `${(n / 1e9).toFixed(3)} B`;
const usd = (cycles: number): string => `US$${((cycles / 1e12) * USD_PER_T_CYCLES).toFixed(3)}`;

/** Cycles of one update call with `argBytes` of ingress. */
export function updateCycles(instructions: bigint, argBytes: number): number {
  return FEES.updateMessage + Number(instructions) * FEES.cyclesPerInstruction + FEES.ingressMessage + FEES.ingressByte * argBytes;
}

/** Bytes of a put_chunk argument carrying `n` bytes (Candid header, a 36-character id, the index). */
const putChunkArgBytes = (n: number): number => 4 + 3 + 4 + 1 + 36 + 4 + 3 + n;

interface Run {
  ic: LocalIC;
  user: ForeverActor;
  controller: ForeverActor;
}

async function install(wasm: Uint8Array): Promise<Run> {
  const admin = principal(1_000_000);
  const ic = await LocalIC.create({ clock: 'manual' });
  const canisterId = await ic.createCanister({ controllers: [admin] });
  await ic.installCode(canisterId, wasm, { mode: 'install', sender: admin });
  return { ic, user: actorFor(ic, canisterId, principal(7)), controller: actorFor(ic, canisterId, admin) };
}

/** put_chunk of every chunk of a file of `chunks` MiB, in order: instructions and phases of each. */
async function putInOrder(r: Run, chunks: number, seed: number): Promise<Array<{ total: bigint; phases: Map<string, bigint> }>> {
  const data = seededBytes(chunks * MiB, seed);
  const memoryId = uuidv7();
  ok(await r.user.upsert_metadata(memoryId, { Video: null }, metadata('bench'), `bench-${memoryId}`));
  const session = ok(await r.user.begin_asset_upload(memoryId, sha256(data), chunks, BigInt(data.length)));
  const out: Array<{ total: bigint; phases: Map<string, bigint> }> = [];
  for (let i = 0; i < chunks; i++) {
    ok(await r.user.put_chunk(session.session_id, i, data.subarray(i * MiB, (i + 1) * MiB)));
    const total = r.user.lastInstructions;
    const profile = ok(await r.controller.last_call_profile());
    out.push({ total, phases: new Map(profile.phases.map((p) => [p.phase, p.instructions])) });
  }
  ok(await r.user.commit_asset(session.session_id, sha256(data)));
  return out;
}

/** File B, 2 MiB out of order: chunk 1 waits (stored only), chunk 0 closes the gap and hashes both. */
async function gap(r: Run, seed: number): Promise<{ storeOnly: bigint; closing: bigint }> {
  const data = seededBytes(2 * MiB, seed);
  const memoryId = uuidv7();
  ok(await r.user.upsert_metadata(memoryId, { Video: null }, metadata('bench b'), `bench-b-${memoryId}`));
  const s = ok(await r.user.begin_asset_upload(memoryId, sha256(data), 2, BigInt(data.length)));
  ok(await r.user.put_chunk(s.session_id, 1, data.subarray(MiB)));
  const storeOnly = r.user.lastInstructions;
  ok(await r.user.put_chunk(s.session_id, 0, data.subarray(0, MiB)));
  const closing = r.user.lastInstructions;
  ok(await r.user.commit_asset(s.session_id, sha256(data)));
  return { storeOnly, closing };
}

/**
 * Wall time of the 100 MiB test of tests/canister/happy-paths.test.ts, the same calls: store
 * the file with 4 chunks in flight, its presence, every chunk read back and compared, the invariants.
 */
async function hundredMiBTest(r: Run, seed: number): Promise<number> {
  const size = 100 * MiB;
  const data = seededBytes(size, seed);
  const t = performance.now();
  const { memoryId } = await storeFile(r.user, data, { parallel: 4 });
  const p = ok(await r.user.get_memory_presence(memoryId));
  if (p.size[0] !== BigInt(size)) throw new Error('the 100 MiB file is not present');
  for (let i = 0; i < 100; i++) {
    const chunk = ok(await r.user.read_chunk(memoryId, i));
    if (!Buffer.from(chunk).equals(Buffer.from(data.subarray(i * MiB, (i + 1) * MiB)))) throw new Error(`chunk ${i} differs`);
  }
  if (ok(await r.controller.check_invariants()).violations.length) throw new Error('invariants broken');
  return performance.now() - t;
}

export default async function bench(): Promise<void> {
  const native = await install(foreverWasm());
  const js = await install(new Uint8Array(readFileSync(jsHashWasmPath())));
  try {
    // Baseline of the call machinery: a small metadata upsert (the cheapest update that writes).
    const base: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      ok(await native.user.upsert_metadata(uuidv7(), { Image: null }, metadata(`m${i}`), `base-${i}`));
      base.push(native.user.lastInstructions);
    }
    const baseline = median(base);

    // A 3 MiB file in order: the median chunk of each module.
    const inOrder = await putInOrder(native, 3, 9);
    const inOrderJs = await putInOrder(js, 3, 9);
    const putTotal = median(inOrder.map((p) => p.total));
    const putTotalJs = median(inOrderJs.map((p) => p.total));
    const phase = (name: string): bigint => median(inOrder.map((p) => p.phases.get(name) ?? 0n));
    // Long files, every chunk in order, with each module: the cost must not grow along a file.
    const files = [16, 100].map((mib) => ({ mib, native: [] as bigint[], js: [] as bigint[] }));
    for (const f of files) {
      f.native = (await putInOrder(native, f.mib, 12 + f.mib)).map((p) => p.total);
      f.js = (await putInOrder(js, f.mib, 12 + f.mib)).map((p) => p.total);
    }
    const long = files[1].native;
    const longMean = mean(long);
    const { storeOnly, closing } = await gap(native, 11);

    const small = seededBytes(1000, 10);
    const { memoryId: smallId } = await storeFile(native.user, small);
    const commitSmall = native.user.lastInstructions;

    // Presence of 100 memories (metadata for all, an asset for one).
    const ids: string[] = [smallId];
    for (let i = 0; i < 99; i++) {
      const id = uuidv7();
      ok(await native.user.upsert_metadata(id, { Image: null }, metadata(`p${i}`), `p-${i}`));
      ids.push(id);
    }
    const presence = ok(await native.user.get_memory_list_presence(ids, [], [100]));
    if (presence.items.length !== 100) throw new Error('presence did not answer 100 ids');
    const presence100 = native.user.lastInstructions;

    // Stored once: the same bytes under a second memory (begin answers AlreadyExists, no chunk).
    const copyId = uuidv7();
    ok(await native.user.upsert_metadata(copyId, { Image: null }, metadata('copy'), `copy-${copyId}`));
    const copyBegin = await native.user.begin_asset_upload(copyId, sha256(small), 1, 1000n);
    if (!('Err' in copyBegin) || !('AlreadyExists' in copyBegin.Err)) throw new Error('the copy was not stored once');
    const beginCopy = native.user.lastInstructions;
    ok(await native.user.delete_memory(copyId));
    const deleteCopy = native.user.lastInstructions;

    const rows: Array<[string, bigint, string, string]> = [
      ['upsert_metadata (baseline)', baseline, pct(baseline, UPDATE_LIMIT), '1.0x'],
      ['put_chunk 1 MiB in order, JavaScript SHA-256 (old module)', putTotalJs, pct(putTotalJs, UPDATE_LIMIT), `${(Number(putTotalJs) / Number(baseline)).toFixed(0)}x`],
      ['put_chunk 1 MiB in order, native SHA-256', putTotal, pct(putTotal, UPDATE_LIMIT), `${(Number(putTotal) / Number(baseline)).toFixed(1)}x`],
      ['  decode the argument (read in place)', phase('decode'), pct(phase('decode'), UPDATE_LIMIT), ''],
      ['  validate (session, index, length)', phase('validate'), pct(phase('validate'), UPDATE_LIMIT), ''],
      ['  store the chunk (a chunk-space slot, one stable write)', phase('store'), pct(phase('store'), UPDATE_LIMIT), ''],
      ['  SHA-256 of the chunk (native block function)', phase('hash'), pct(phase('hash'), UPDATE_LIMIT), ''],
      ['  save the session record', phase('record'), pct(phase('record'), UPDATE_LIMIT), ''],
      ['  encode the reply', phase('encode'), pct(phase('encode'), UPDATE_LIMIT), ''],
      ['put_chunk 1 MiB, mean over a 100 MiB file', longMean, pct(longMean, UPDATE_LIMIT), `${(Number(longMean) / Number(baseline)).toFixed(1)}x`],
      ['put_chunk 1 MiB, max over a 100 MiB file', max(long), pct(max(long), UPDATE_LIMIT), `${(Number(max(long)) / Number(baseline)).toFixed(1)}x`],
      ['put_chunk 1 MiB, ahead of a gap (stored, hashed later)', storeOnly, pct(storeOnly, UPDATE_LIMIT), `${(Number(storeOnly) / Number(baseline)).toFixed(1)}x`],
      ['put_chunk 1 MiB closing a gap (hashes 2 chunks)', closing, pct(closing, UPDATE_LIMIT), `${(Number(closing) / Number(baseline)).toFixed(1)}x`],
      ['commit_asset, 1 KB file', commitSmall, pct(commitSmall, UPDATE_LIMIT), `${(Number(commitSmall) / Number(baseline)).toFixed(1)}x`],
      ['begin_asset_upload of bytes already stored (no chunk)', beginCopy, pct(beginCopy, UPDATE_LIMIT), `${(Number(beginCopy) / Number(baseline)).toFixed(1)}x`],
      ['delete_memory (bytes kept by another memory)', deleteCopy, pct(deleteCopy, UPDATE_LIMIT), `${(Number(deleteCopy) / Number(baseline)).toFixed(1)}x`],
      ['get_memory_list_presence, 100 ids (query)', presence100, pct(presence100, QUERY_LIMIT) + ' of 5 B', `${(Number(presence100) / Number(baseline)).toFixed(1)}x`],
    ];
    console.log('| call | instructions | share of the IC limit | vs baseline |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, n, share, ratio] of rows) console.log(`| ${name} | ${fmt(n)} | ${share} | ${ratio} |`);

    const perMiB = updateCycles(putTotal, putChunkArgBytes(MiB));
    const perMiBLong = updateCycles(longMean, putChunkArgBytes(MiB));
    const perMiBJs = updateCycles(putTotalJs, putChunkArgBytes(MiB));
    const floor = FEES.ingressByte * MiB;
    console.log('');
    console.log(`put_chunk of 1 MiB: ${millions(putTotal)} instructions with the native SHA-256, ${millions(putTotalJs)} with the JavaScript one: ${(Number(putTotal) / Number(putTotalJs)).toFixed(4)}x (${(Number(putTotalJs) / Number(putTotal)).toFixed(0)} times fewer).`);
    console.log('');
    console.log('put_chunk of 1 MiB along a file, every chunk in order (instructions; the ratio is to the JavaScript-hash module, same file, same run):');
    console.log('| file | median | mean | max | median vs JS | mean vs JS | max vs JS |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const f of files) {
      const r = (a: bigint, b: bigint): string => `${(Number(a) / Number(b)).toFixed(4)}x`;
      const [m, a, x] = [median(f.native), mean(f.native), max(f.native)];
      const [mj, aj, xj] = [median(f.js), mean(f.js), max(f.js)];
      console.log(`| ${f.mib} MiB | ${millions(m)} | ${millions(a)} | ${millions(x)} | ${r(m, mj)} | ${r(a, aj)} | ${r(x, xj)} |`);
      console.log(`| ${f.mib} MiB, JavaScript SHA-256 | ${millions(mj)} | ${millions(aj)} | ${millions(xj)} | | | |`);
    }
    console.log('');
    console.log(`A gap-closing chunk costs ${(Number(closing) / Number(putTotal)).toFixed(2)}x an in-order one (it hashes two chunks).`);
    console.log('');
    console.log('Cycles on a 13-node application subnet (1 cycle per instruction, 5 M per update, 1.2 M per ingress message + 2,000 per byte):');
    console.log(`| per stored MiB | cycles | vs the ingress floor (${billions(floor)}) |`);
    console.log('| --- | ---: | ---: |');
    console.log(`| native, 3 MiB file (median chunk) | ${billions(perMiB)} | ${(perMiB / floor).toFixed(3)}x |`);
    console.log(`| native, 100 MiB file (mean chunk) | ${billions(perMiBLong)} | ${(perMiBLong / floor).toFixed(3)}x |`);
    const perMiBMax = updateCycles(max(long), putChunkArgBytes(MiB));
    console.log(`| native, 100 MiB file (dearest chunk) | ${billions(perMiBMax)} | ${(perMiBMax / floor).toFixed(3)}x |`);
    console.log(`| JavaScript SHA-256 | ${billions(perMiBJs)} | ${(perMiBJs / floor).toFixed(3)}x |`);

    // What a user pays: a file is metadata + begin + its chunks + commit; storage by the GiB-second.
    const fileCycles = (mib: number, chunk: bigint): number =>
      updateCycles(baseline, 300) + updateCycles(baseline, 200) + mib * updateCycles(chunk, putChunkArgBytes(MiB)) + updateCycles(commitSmall, 120);
    const year = FEES.gibStoragePerSecond * 365 * 24 * 3600;
    console.log('');
    console.log(`| cost (native module, US$${USD_PER_T_CYCLES} per T cycles) | cycles | US$ |`);
    console.log('| --- | ---: | ---: |');
    console.log(`| store 1 MiB | ${billions(fileCycles(1, putTotal))} | ${usd(fileCycles(1, putTotal))} |`);
    console.log(`| store 100 MiB | ${billions(fileCycles(100, longMean))} | ${usd(fileCycles(100, longMean))} |`);
    console.log(`| keep 1 GiB for a year | ${billions(year)} | ${usd(year)} |`);
    console.log(`| ingress floor, 100 MiB | ${billions(100 * floor)} | ${usd(100 * floor)} |`);
    console.log(`| store 100 MiB with the JavaScript SHA-256 | ${billions(fileCycles(100, putTotalJs))} | ${usd(fileCycles(100, putTotalJs))} |`);

    // Wall time through the local IC (V8 running the module): the canister suite's 100 MiB test.
    const nativeMs = await hundredMiBTest(native, 21);
    const jsMs = await hundredMiBTest(js, 21);
    console.log('');
    console.log(
      `The 100 MiB test's work (happy-paths.test.ts) through the local IC: ${fmt(nativeMs)} ms with the native SHA-256, ${fmt(jsMs)} ms with the JavaScript one (the hash the module had before): ${(nativeMs / jsMs).toFixed(3)}x the time (target: under 0.25x).`,
    );
  } finally {
    await native.ic.close();
    await js.ic.close();
  }
}
