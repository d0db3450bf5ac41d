// `npm run bench local-ic`: what the local IC runtime adds to each message.
// The same messages run on the runtime fixture canister with the runtime's
// own machinery switched off and on: rollback (heap snapshot diff + stable
// undo log), instruction metering, both, and both plus durable persistence
// (WAL + fdatasync). Figures are medians in ms and ratios to the baseline
// (neither rollback nor metering, in memory) measured in the same run.
// Also: the instructions of a trivial update next to azle's published figure,
// the cost of the worker-thread hop (`thread: 'worker'`, what npm start
// uses) per message, as a ratio to the same call on the calling thread, and a
// query's latency while 12 users upload, against the same query idle, with
// queries on their replica and queued behind the updates.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { LocalIC, type CallResult, type LocalICOptions } from '../canister/local/index.js';
import { buildCanister } from '../canister/scripts/build.js';

/** azle 0.32's benchmark of hello_world `setMessage` on a real replica. */
const AZLE_SET_MESSAGE = 1_404_869n;

interface Config {
  name: string;
  opts: LocalICOptions;
  disk?: boolean;
}

const CONFIGS: Config[] = [
  { name: 'baseline (no rollback, no metering)', opts: { rollback: false, metering: false } },
  { name: '+ rollback', opts: { rollback: true, metering: false } },
  { name: '+ metering', opts: { rollback: false, metering: true } },
  { name: 'rollback + metering', opts: { rollback: true, metering: true } },
  { name: 'rollback + metering + disk', opts: { rollback: true, metering: true }, disk: true },
];

interface Message {
  name: string;
  kind: 'update' | 'query';
  method: string;
  arg: (i: number) => Uint8Array;
  runs: number;
}

const enc = (types: IDL.Type[], values: unknown[]): Uint8Array => new Uint8Array(IDL.encode(types, values));
const MiB = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);

const MESSAGES: Message[] = [
  { name: 'setMessage (trivial update)', kind: 'update', method: 'setMessage', arg: (i) => enc([IDL.Text], [`m${i}`]), runs: 30 },
  { name: 'getMessage (trivial query)', kind: 'query', method: 'getMessage', arg: () => enc([], []), runs: 30 },
  { name: 'work(200k) (compute)', kind: 'update', method: 'work', arg: () => enc([IDL.Nat32], [200_000]), runs: 3 },
  {
    name: 'putBlob 1 MiB (stable write)',
    kind: 'update',
    method: 'putBlob',
    arg: (i) => enc([IDL.Text, IDL.Vec(IDL.Nat8)], [`b${i}`, MiB]),
    runs: 5,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Running {
  config: Config;
  ic: LocalIC;
  id: Principal;
  dir: string | undefined;
  times: number[][];
  setMessage: bigint;
  work: bigint;
}

async function start(config: Config, wasm: Uint8Array): Promise<Running> {
  const dir = config.disk ? mkdtempSync(join(tmpdir(), 'local-ic-bench-')) : undefined;
  const ic = await LocalIC.create({ ...config.opts, dataDir: dir, clock: 'manual', log: () => undefined });
  const id = await ic.createCanister();
  await ic.installCode(id, wasm, { mode: 'install', arg: enc([IDL.Text], ['bench']) });
  return { config, ic, id, dir, times: MESSAGES.map(() => []), setMessage: 0n, work: 0n };
}

function call(r: Running, m: Message, i: number): Promise<CallResult> {
  return m.kind === 'update' ? r.ic.update(r.id, m.method, m.arg(i)) : r.ic.query(r.id, m.method, m.arg(i));
}

export default async function bench(): Promise<void> {
  const wasm = new Uint8Array(readFileSync(buildCanister('runtime_fixture')));
  const running: Running[] = [];
  for (const config of CONFIGS) running.push(await start(config, wasm));
  try {
    // Configurations take turns message by message, so load on the machine
    // and JIT warm-up affect them alike.
    for (const [k, m] of MESSAGES.entries()) {
      for (const r of running) await call(r, m, -1); // warm up
      for (let i = 0; i < m.runs; i++) {
        for (const r of running) {
          const t = performance.now();
          const res = await call(r, m, i);
          r.times[k].push(performance.now() - t);
          if (res.status !== 'replied') throw new Error(`${m.method}: ${res.rejectMessage}`);
          if (m.method === 'setMessage') r.setMessage = res.instructions;
          if (m.method === 'work') r.work = res.instructions;
        }
      }
    }
  } finally {
    for (const r of running) {
      await r.ic.close();
      if (r.dir) rmSync(r.dir, { recursive: true, force: true });
    }
  }
  const results = running.map((r) => ({ config: r.config, ms: r.times.map(median), setMessage: r.setMessage, work: r.work }));
  const base = results[0].ms;
  const lines = [
    'Local IC overhead per message (median ms; ratio = row / baseline in the same run).',
    '',
    `| configuration | ${MESSAGES.map((m) => m.name).join(' | ')} |`,
    `| --- | ${MESSAGES.map(() => '---').join(' | ')} |`,
  ];
  for (const r of results) {
    const cells = r.ms.map((ms, i) => `${ms.toFixed(2)} ms (${(ms / base[i]).toFixed(2)}x)`);
    lines.push(`| ${r.config.name} | ${cells.join(' | ')} |`);
  }
  const metered = results.find((r) => r.config.opts.metering && !r.config.disk)!;
  lines.push(
    '',
    `Instructions of a trivial update (setMessage, metered): ${metered.setMessage.toLocaleString('en')} ` +
      `(azle's published figure on a replica: ${AZLE_SET_MESSAGE.toLocaleString('en')}, ratio ` +
      `${(Number(metered.setMessage) / Number(AZLE_SET_MESSAGE)).toFixed(2)}).`,
  );
  const workIndex = MESSAGES.findIndex((m) => m.method === 'work');
  const rate = Number(metered.work) / (metered.ms[workIndex] / 1000);
  lines.push(
    `work(200k) executes ${metered.work.toLocaleString('en')} instructions: ` +
      `${(rate / 1e9).toFixed(1)} billion IC instructions per second of wall time, metered ` +
      `(a 40 billion instruction update takes about ${(40e9 / rate).toFixed(1)} s).`,
  );
  console.log(lines.join('\n'));
  await threadHop(wasm);
  await queriesDuringUpdates(wasm);
}

interface HopMessage {
  name: string;
  call: (ic: LocalIC, id: Principal) => Promise<CallResult>;
  runs: number;
}

const HOP_MESSAGES: HopMessage[] = [
  // No Wasm runs: the reject comes from the runtime, so this is the bare round trip.
  { name: 'unknown method (no Wasm)', call: (ic, id) => ic.update(id, 'noSuchMethod', enc([], [])), runs: 200 },
  { name: 'setMessage (trivial update)', call: (ic, id) => ic.update(id, 'setMessage', enc([IDL.Text], ['m'])), runs: 50 },
  { name: 'getMessage (trivial query)', call: (ic, id) => ic.query(id, 'getMessage', enc([], [])), runs: 50 },
  {
    name: 'echoRaw 1 MiB (argument and reply cross)',
    call: (ic, id) => ic.update(id, 'echoRaw', enc([IDL.Vec(IDL.Nat8)], [MiB])),
    runs: 10,
  },
];

/** Per-message cost of running the runtime on a worker thread, against the calling thread, in the same run. */
export async function threadHop(wasm: Uint8Array): Promise<void> {
  const start = async (thread: 'main' | 'worker') => {
    const ic = await LocalIC.create({ thread, clock: 'manual', log: () => undefined });
    const id = await ic.createCanister();
    await ic.installCode(id, wasm, { mode: 'install', arg: enc([IDL.Text], ['bench']) });
    return { ic, id, times: HOP_MESSAGES.map((): number[] => []) };
  };
  const sides = [await start('main'), await start('worker')];
  try {
    for (const [k, m] of HOP_MESSAGES.entries()) {
      for (const s of sides) await m.call(s.ic, s.id); // warm up
      for (let i = 0; i < m.runs; i++) {
        for (const s of sides) {
          const t = performance.now();
          await m.call(s.ic, s.id);
          s.times[k].push(performance.now() - t);
        }
      }
    }
  } finally {
    for (const s of sides) await s.ic.close();
  }
  const [main, worker] = sides.map((s) => s.times.map(median));
  const lines = [
    '',
    'Worker-thread hop (median ms; ratio = worker / calling thread in the same run; rollback and metering on, in memory).',
    '',
    '| message | calling thread | worker thread | ratio | added |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [k, m] of HOP_MESSAGES.entries()) {
    lines.push(
      `| ${m.name} | ${main[k].toFixed(3)} ms | ${worker[k].toFixed(3)} ms | ${(worker[k] / main[k]).toFixed(2)}x | ${(worker[k] - main[k]).toFixed(3)} ms |`,
    );
  }
  console.log(lines.join('\n'));
}

const UPLOADERS = 12;
const QUERIES = 40;
const UPDATES_PER_UPLOADER = 40;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * A query's latency while 12 uploaders each store 1 MiB blobs back to back
 * (`putBlob`, a stable-memory write like an upload chunk), against the same
 * query idle, in the same run: with queries on the query replica (the
 * default with `thread: 'worker'`) and queued with the updates
 * (`queries: 'serial'`, how every message ran before). On the IC a query
 * runs against the latest committed state while updates execute, so its p95
 * should stay near the idle one.
 */
export async function queriesDuringUpdates(wasm: Uint8Array): Promise<void> {
  const rows: string[] = [];
  for (const queries of ['replica', 'serial'] as const) {
    const ic = await LocalIC.create({ thread: 'worker', queries, clock: 'manual', log: () => undefined });
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, wasm, { mode: 'install', arg: enc([IDL.Text], ['bench']) });
      const query = async (): Promise<number> => {
        const t = performance.now();
        const r = await ic.query(id, 'getMessage', enc([], []));
        if (r.status !== 'replied') throw new Error(`getMessage: ${r.rejectMessage}`);
        return performance.now() - t;
      };
      for (let i = 0; i < 5; i++) await query(); // warm up
      const idle: number[] = [];
      for (let i = 0; i < QUERIES; i++) idle.push(await query());

      let stop = false;
      let updates = 0;
      const uploader = async (u: number): Promise<void> => {
        for (let i = 0; i < UPDATES_PER_UPLOADER && !stop; i++) {
          const r = await ic.update(id, 'putBlob', enc([IDL.Text, IDL.Vec(IDL.Nat8)], [`u${u}-${i}`, MiB]));
          if (r.status !== 'replied') throw new Error(`putBlob: ${r.rejectMessage}`);
          updates++;
        }
      };
      const uploads = Array.from({ length: UPLOADERS }, (_, u) => uploader(u));
      // The first uploads are running (the worker has them) before the queries start.
      await ic.update(id, 'putBlob', enc([IDL.Text, IDL.Vec(IDL.Nat8)], ['first', MiB]));
      const loaded: number[] = [];
      for (let i = 0; i < QUERIES && updates < UPLOADERS * UPDATES_PER_UPLOADER; i++) loaded.push(await query());
      const during = updates;
      stop = true;
      await Promise.all(uploads);
      const idle95 = percentile(idle, 95);
      const loaded95 = percentile(loaded, 95);
      rows.push(
        `| ${queries === 'replica' ? 'query replica (default)' : 'serial queue'} | ${percentile(idle, 50).toFixed(2)} ms | ` +
          `${idle95.toFixed(2)} ms | ${percentile(loaded, 50).toFixed(2)} ms | ${loaded95.toFixed(2)} ms | ` +
          `${(loaded95 / idle95).toFixed(2)}x | ${loaded.length} queries, ${during} uploads meanwhile |`,
      );
    } finally {
      await ic.close();
    }
  }
  console.log(
    [
      '',
      `A query while ${UPLOADERS} uploaders store 1 MiB blobs back to back (getMessage; worker thread, rollback and metering on;` +
        ' ratio = p95 loaded / p95 idle in the same run; the aim is at most 3x).',
      '',
      '| queries | idle p50 | idle p95 | loaded p50 | loaded p95 | p95 ratio | measured |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
}
