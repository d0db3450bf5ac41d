// `npm run bench canister`: what the forever canister's hot calls cost in
// instructions, measured by the local IC's metering (the figure the IC
// charges cycles for), with the phases of a 1 MiB put_chunk split by the
// ic0.performance_counter deltas the canister records (last_call_profile).
// Ratios are against the cheapest update of the same run (upsert_metadata
// of a small record) and against the IC's limits (40 billion instructions
// per update, 5 billion per query). Cycles follow the IC's published prices
// for a 13-node application subnet (see README "What the canister costs").
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { LocalIC } from '../canister/local/index.js';
import { actorFor, ok } from '../tests/canister/support/actor.js';
import { foreverWasm, metadata, MiB, principal, seededBytes } from '../tests/canister/support/forever.js';

const UPDATE_LIMIT = 40_000_000_000n;
const QUERY_LIMIT = 5_000_000_000n;
/** Cycles per instruction of an update on a 13-node subnet (4 cycles per 10 instructions). */
const CYCLES_PER_INSTRUCTION = 0.4;
const UPDATE_BASE_CYCLES = 5_000_000;
const INGRESS_MESSAGE_CYCLES = 1_200_000;
const INGRESS_BYTE_CYCLES = 2_000;

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const median = (xs: bigint[]): bigint => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[xs.length >> 1];
const fmt = (n: bigint): string => n.toLocaleString('en-US');
const pct = (n: bigint, of: bigint): string => `${((Number(n) / Number(of)) * 100).toFixed(2)} %`;
const billions = (n: bigint): string => `${(Number(n) / 1e9).toFixed(2)} B`;

function updateCycles(instructions: bigint, argBytes: number): number {
  return UPDATE_BASE_CYCLES + Number(instructions) * CYCLES_PER_INSTRUCTION + INGRESS_MESSAGE_CYCLES + INGRESS_BYTE_CYCLES * argBytes;
}

export default async function bench(): Promise<void> {
  const admin = principal(1_000_000);
  const ic = await LocalIC.create({ clock: 'manual' });
  try {
    const canisterId = await ic.createCanister({ controllers: [admin] });
    await ic.installCode(canisterId, foreverWasm(), { mode: 'install', sender: admin });
    const user = actorFor(ic, canisterId, principal(7));
    const controller = actorFor(ic, canisterId, admin);

    // Baseline: a small metadata upsert (the cheapest update that writes).
    const base: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      ok(await user.upsert_metadata(uuidv7(), { Image: null }, metadata(`m${i}`), `base-${i}`));
      base.push(user.lastInstructions);
    }
    const baseline = median(base);

    // File A, 3 MiB in order: each put hashes exactly its own chunk.
    const data = seededBytes(3 * MiB, 9);
    const memoryId = uuidv7();
    ok(await user.upsert_metadata(memoryId, { Video: null }, metadata('bench'), 'bench'));
    const session = ok(await user.begin_asset_upload(memoryId, sha256(data), 3, BigInt(data.length)));
    const inOrder: Array<{ total: bigint; phases: Map<string, bigint> }> = [];
    for (const i of [0, 1, 2]) {
      ok(await user.put_chunk(session.session_id, i, data.subarray(i * MiB, (i + 1) * MiB)));
      const total = user.lastInstructions;
      const profile = ok(await controller.last_call_profile());
      inOrder.push({ total, phases: new Map(profile.phases.map((p) => [p.phase, p.instructions])) });
    }
    ok(await user.commit_asset(session.session_id, sha256(data)));
    const commit3MiB = user.lastInstructions;

    // File B, 2 MiB out of order: chunk 1 waits (stored only), chunk 0 closes the gap and hashes both.
    const dataB = seededBytes(2 * MiB, 11);
    const memoryB = uuidv7();
    ok(await user.upsert_metadata(memoryB, { Video: null }, metadata('bench b'), 'bench-b'));
    const sb = ok(await user.begin_asset_upload(memoryB, sha256(dataB), 2, BigInt(dataB.length)));
    ok(await user.put_chunk(sb.session_id, 1, dataB.subarray(MiB)));
    const storeOnly = user.lastInstructions;
    ok(await user.put_chunk(sb.session_id, 0, dataB.subarray(0, MiB)));
    const gapClosing = user.lastInstructions;
    ok(await user.commit_asset(sb.session_id, sha256(dataB)));

    const small = seededBytes(1000, 10);
    const smallId = uuidv7();
    ok(await user.upsert_metadata(smallId, { Note: null }, metadata('small'), 'small'));
    const s2 = ok(await user.begin_asset_upload(smallId, sha256(small), 1, 1000n));
    ok(await user.put_chunk(s2.session_id, 0, small));
    ok(await user.commit_asset(s2.session_id, sha256(small)));
    const commitSmall = user.lastInstructions;

    // Presence of 100 memories (metadata for all, assets for two).
    const ids: string[] = [memoryId, smallId];
    for (let i = 0; i < 98; i++) {
      const id = uuidv7();
      ok(await user.upsert_metadata(id, { Image: null }, metadata(`p${i}`), `p-${i}`));
      ids.push(id);
    }
    const presence = ok(await user.get_memory_list_presence(ids, [], [100]));
    if (presence.items.length !== 100) throw new Error('presence did not answer 100 ids');
    const presence100 = user.lastInstructions;
    ok(await controller.set_presence_verifiers([principal(8)]));
    const verifier = actorFor(ic, canisterId, principal(8));
    ok(await verifier.verify_presence(principal(7), ids));
    const verify100 = verifier.lastInstructions;
    ok(await user.get_memory_presence(memoryId));
    const presence1 = user.lastInstructions;

    const putTotal = median(inOrder.map((p) => p.total));
    const phase = (name: string): bigint => median(inOrder.map((p) => p.phases.get(name) ?? 0n));
    const measured = ['decode', 'validate', 'store', 'hash', 'record'].reduce((n, p) => n + phase(p), 0n);
    const rows: Array<[string, bigint, string, string]> = [
      ['upsert_metadata (baseline)', baseline, pct(baseline, UPDATE_LIMIT), '1.0x'],
      ['put_chunk 1 MiB, in order (hashed)', putTotal, pct(putTotal, UPDATE_LIMIT), `${(Number(putTotal) / Number(baseline)).toFixed(0)}x`],
      ['  decode the Candid argument', phase('decode'), pct(phase('decode'), UPDATE_LIMIT), ''],
      ['  validate (session, index, length)', phase('validate'), pct(phase('validate'), UPDATE_LIMIT), ''],
      ['  store the chunk (StableBTreeMap, raw bytes)', phase('store'), pct(phase('store'), UPDATE_LIMIT), ''],
      ['  SHA-256 of the chunk (running hash)', phase('hash'), pct(phase('hash'), UPDATE_LIMIT), ''],
      ['  save the session record', phase('record'), pct(phase('record'), UPDATE_LIMIT), ''],
      ['  the rest: azle dispatch, reply encoding, runtime entry', putTotal - measured, pct(putTotal - measured, UPDATE_LIMIT), ''],
      ['put_chunk 1 MiB, ahead of a gap (stored, hashed later)', storeOnly, pct(storeOnly, UPDATE_LIMIT), `${(Number(storeOnly) / Number(baseline)).toFixed(1)}x`],
      ['put_chunk 1 MiB closing a gap (hashes 2 chunks)', gapClosing, pct(gapClosing, UPDATE_LIMIT), `${(Number(gapClosing) / Number(baseline)).toFixed(0)}x`],
      ['commit_asset, 3 MiB file', commit3MiB, pct(commit3MiB, UPDATE_LIMIT), `${(Number(commit3MiB) / Number(baseline)).toFixed(1)}x`],
      ['commit_asset, 1 KB file', commitSmall, pct(commitSmall, UPDATE_LIMIT), `${(Number(commitSmall) / Number(baseline)).toFixed(1)}x`],
      ['get_memory_list_presence, 100 ids (query)', presence100, pct(presence100, QUERY_LIMIT) + ' of 5 B', `${(Number(presence100) / Number(baseline)).toFixed(1)}x`],
      ['verify_presence, 100 ids (query)', verify100, pct(verify100, QUERY_LIMIT) + ' of 5 B', `${(Number(verify100) / Number(baseline)).toFixed(1)}x`],
      ['get_memory_presence, 1 id (query)', presence1, pct(presence1, QUERY_LIMIT) + ' of 5 B', `${(Number(presence1) / Number(baseline)).toFixed(1)}x`],
    ];
    console.log('| call | instructions | share of the IC limit | vs baseline |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, n, share, ratio] of rows) console.log(`| ${name} | ${fmt(n)} | ${share} | ${ratio} |`);
    const perMiB = updateCycles(putTotal, MiB + 60);
    console.log('');
    console.log(`A 1 MiB put_chunk uses ${billions(putTotal)} instructions, ${pct(putTotal, UPDATE_LIMIT)} of the 40 billion update limit;`);
    console.log(`the SHA-256 is ${((Number(phase('hash')) / Number(putTotal)) * 100).toFixed(1)} % of it. commit_asset only compares hashes: its cost does not depend on the file size.`);
    console.log(
      `Cycles per stored MiB on a 13-node subnet: about ${(perMiB / 1e9).toFixed(2)} B ` +
        `(${((Number(putTotal) * CYCLES_PER_INSTRUCTION) / 1e9).toFixed(2)} B execution + ${((INGRESS_BYTE_CYCLES * MiB) / 1e9).toFixed(2)} B ingress bytes + base fees).`,
    );
  } finally {
    await ic.close();
  }
}
