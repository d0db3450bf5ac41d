// `npm run bench client`: the upload engine's throughput, each figure next to
// a baseline measured in the same run on the same machine.
//  1. Hashing: the hash worker (hash-wasm over Blob slices, read-ahead) in
//     Chromium, against `openssl dgst -sha256` on the same number of bytes and
//     against WebCrypto's one-shot digest in the same worker.
//  2. End to end: a 100 MB file through the engine (the code pages and the
//     service worker run) to the local IC over its HTTP interface, with the
//     share of time spent hashing, signing, in transport (agent, HTTP, CBOR,
//     certificates) and executing the canister; then the same upload with the
//     canister upgraded to its JavaScript-hash build (the module before the
//     native SHA-256), as the baseline of the same run. Each upload also
//     reports the process's CPU time: on a shared machine the ratio of MB per
//     CPU second moves less with other jobs than the ratio of wall times.
// BENCH_CLIENT_MB overrides the sizes (default 100); BENCH_CLIENT_BASELINE_MB
// the baseline's (default 20: at its speed 100 MB takes minutes; MB/s compare);
// BENCH_CLIENT_PROFILE=<dir> adds a CPU profile of each upload, by stage.
import 'fake-indexeddb/auto';
import type { Identity } from '@dfinity/agent';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Principal } from '@dfinity/principal';
import { jsHashWasmPath } from '../canister/scripts/build';
import { createForeverActor, foreverCanister } from '../src/lib/upload/adapters/forever-canister';
import { UploadEngine } from '../src/lib/upload/runtime/engine';
import { enqueue } from '../src/lib/upload/runtime/enqueue';
import { inlineHasher } from '../src/lib/upload/adapters/hasher';
import { QueueStore } from '../src/lib/upload/adapters/queue-store';
import { ServerApi as ServerEdgeRecorder } from '../src/lib/upload/adapters/server-api';
import { loadStoredIdentity } from '../src/lib/upload/adapters/stored-identity';
import { hashWorkerPath, startAppStack } from '../tests/browser/support/app-stack';
import { launchChromium } from '../tests/browser/support/chromium';
import { buildApp } from '../tests/setup/app-build';
import { cookieFetch, signIn, startLocalStack } from '../tests/client/support/local-stack';

const MB = Number(process.env.BENCH_CLIENT_MB ?? 100);
const BYTES = MB * 1_000_000;
const BASELINE_MB = Number(process.env.BENCH_CLIENT_BASELINE_MB ?? 20);
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const fmt = (n: number) => n.toFixed(1);

async function hashing(): Promise<void> {
  buildApp();
  const data = randomBytes(BYTES);
  // Baseline 1: openssl on this machine (SHA-NI where the CPU has it), file in the page cache.
  const dir = mkdtempSync(join(tmpdir(), 'forever-bench-'));
  const file = join(dir, 'data.bin');
  writeFileSync(file, data);
  execFileSync('openssl', ['dgst', '-sha256', file]);
  let opensslMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    execFileSync('openssl', ['dgst', '-sha256', file]);
    opensslMs = Math.min(opensslMs, performance.now() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  const expected = createHash('sha256').update(data).digest('hex');

  const stack = await startAppStack((root) => root.get('/bench-data.bin', (c) => c.body(data, 200, { 'content-type': 'application/octet-stream' })));
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    // tsx (esbuild keepNames) wraps named functions in __name(); evaluated code runs in the page, which lacks it.
    await page.addInitScript('globalThis.__name = (f) => f');
    await page.goto(`${stack.origin}/manifest.webmanifest`);
    const runs = await page.evaluate(async (workerUrl) => {
      const blob = await (await fetch('/bench-data.bin')).blob();
      const worker = new Worker(workerUrl, { type: 'module' });
      let job = 0;
      const run = (algorithm: 'wasm' | 'webcrypto', sliceSize?: number) =>
        new Promise<{ sha256: string; ms: number }>((resolve, reject) => {
          const id = ++job;
          worker.onmessage = (ev) => {
            if (ev.data.jobId !== id || ev.data.type === 'progress') return;
            if (ev.data.type === 'done') resolve({ sha256: ev.data.sha256, ms: ev.data.ms });
            else reject(new Error(ev.data.message));
          };
          worker.postMessage({ type: 'hash', jobId: id, blob, algorithm, sliceSize });
        });
      await run('wasm'); // warm-up: compile hash-wasm
      const out: Record<string, { sha256: string; ms: number }> = {};
      out.wasm4 = await run('wasm');
      out.wasm1 = await run('wasm', 1024 * 1024);
      out.webcrypto = await run('webcrypto');
      worker.terminate();
      return out;
    }, hashWorkerPath());
    for (const [k, r] of Object.entries(runs)) if (r.sha256 !== expected) throw new Error(`${k} hash differs from Node's`);
    const openssl = mbps(BYTES, opensslMs);
    console.log(`Hashing ${MB} MB of random bytes (MB/s, ratio to openssl):`);
    console.log(`| method | MB/s | vs openssl | vs WebCrypto |`);
    console.log(`| --- | --- | --- | --- |`);
    const webcrypto = mbps(BYTES, runs.webcrypto.ms);
    const row = (name: string, v: number) => console.log(`| ${name} | ${fmt(v)} | ${(v / openssl).toFixed(2)} | ${(v / webcrypto).toFixed(2)} |`);
    row('openssl dgst -sha256 (baseline)', openssl);
    row('WebCrypto digest in the worker (one-shot, whole file in memory)', webcrypto);
    row('hash worker, hash-wasm, 4 MiB slices read ahead (default)', mbps(BYTES, runs.wasm4.ms));
    row('hash worker, hash-wasm, 1 MiB slices read ahead', mbps(BYTES, runs.wasm1.ms));
  } finally {
    await browser.close();
    await stack.close();
  }
}

/**
 * Where a CPU profile's samples were, by stage: the first stage (in this
 * order) one of whose frames is on the sample's stack. Frames are
 * `function file` (the file's last path segment).
 */
const STAGES: [string, RegExp][] = [
  ['client: certificate check (agent, BLS in JavaScript)', /^verifyShortSignature /],
  ['local IC: certificate signature (BLS in JavaScript)', /^signShortSignature /],
  ['local IC: heap snapshot (commit, rollback)', / heap-snapshot\.ts$/],
  ['local IC: stable memory', / stable-memory\.ts$/],
  ['local IC: system API', / system-api\.ts$/],
  ['local IC: canister Wasm (metered)', /^execute canister\.ts$/],
  ['local IC: request checks (CBOR, request id, signatures, state tree)', /^(parseCallEnvelope|parseReadStateEnvelope|decodeCbor|authenticate|certify|stateTree) /],
  ['client: request ids (agent and delegation, SHA-256 in JavaScript)', / request_id\.js$/],
  ['client: request signature (ECDSA P-256)', /^transformRequest /],
  ['client: hashing the file (hash-wasm, Blob reads)', / hash-stream\.ts$/],
  ['client: Candid (agent)', / idl\.js$/],
  ['HTTP (fetch client, Node server, Hono)', /undici|_http_|node-server|hono/],
  ['garbage collector', /^\(garbage collector\) /],
  ['idle', /^\(idle\) /],
];

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Milliseconds per stage (and "other") of a CPU profile. */
function stagesOf(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOfNode = new Map<number, string>();
  const stageOf = (id: number): string => {
    let stage = stageOfNode.get(id);
    if (stage) return stage;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      frames.push(`${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}`);
    }
    stage = STAGES.find(([, re]) => frames.some((f) => re.test(f)))?.[0] ?? 'other';
    stageOfNode.set(id, stage);
    return stage;
  };
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const stage = stageOf(id);
    ms.set(stage, (ms.get(stage) ?? 0) + profile.timeDeltas[i] / 1000);
  });
  return ms;
}

/**
 * BENCH_CLIENT_PROFILE=<dir>: a V8 CPU profile of each upload's drain (the
 * client, the HTTP interface and the local IC share this process), written
 * as <dir>/<label>.cpuprofile (Chrome DevTools, speedscope) and summed up
 * by stage in the report. Sampling slows the run by a few per cent.
 */
async function startProfile(): Promise<{ stop(label: string): Promise<void> } | undefined> {
  const dir = process.env.BENCH_CLIENT_PROFILE;
  if (!dir) return undefined;
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(label) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
      const stages = [...stagesOf(profile as CpuProfile)].sort((a, b) => b[1] - a[1]);
      const total = stages.reduce((n, [, ms]) => n + ms, 0);
      console.log(`\nCPU profile of the drain by stage (${join(dir, `${label}.cpuprofile`)}):`);
      console.log(`| stage | ms | share |`);
      console.log(`| --- | --- | --- |`);
      for (const [stage, ms] of stages) console.log(`| ${stage} | ${ms.toFixed(0)} | ${((ms / total) * 100).toFixed(1)} % |`);
    },
  };
}

interface EndToEnd {
  mbps: number;
  /** MB per second of this process's CPU time (user + system, all its threads): less moved by other jobs on a shared machine than wall time. */
  mbPerCpuSecond: number;
  executeShare: number;
}

async function endToEnd(label: string, mb: number, jsHash: boolean): Promise<EndToEnd> {
  const bytes = mb * 1_000_000;
  const server = { execute: 0, other: 0 };
  const stack = await startLocalStack({
    onTiming: (phase, ms) => {
      if (phase === 'execute') server.execute += ms;
      else server.other += ms;
    },
  });
  try {
    if (jsHash) {
      // The same canister and state, upgraded to the build with the JavaScript block function.
      await stack.ic.installCode(Principal.fromText(stack.canisterId), new Uint8Array(readFileSync(jsHashWasmPath())), { mode: 'upgrade' });
    }
    await signIn(2 * 3600_000);
    const store = await QueueStore.open(`bench-${Date.now()}`);
    const f = cookieFetch();
    let signingMs = 0;
    const engine = new UploadEngine({
      store,
      hasher: inlineHasher,
      sessions: async () => {
        const identity = await loadStoredIdentity();
        // Time the request signatures (ECDSA P-256 over WebCrypto) inside the agent.
        const timed: Identity = {
          getPrincipal: () => identity.getPrincipal(),
          transformRequest: async (req) => {
            const t = performance.now();
            try {
              return await identity.transformRequest(req);
            } finally {
              signingMs += performance.now() - t;
            }
          },
        };
        const actor = await createForeverActor(timed, { host: stack.origin, canisterId: stack.canisterId, fetchRootKey: true, fetch: f });
        return { principal: identity.getPrincipal().toText(), canister: foreverCanister(actor) };
      },
      recorder: (session) => new ServerEdgeRecorder({ baseUrl: stack.origin, canister: session.canister, fetch: f }),
      // One chunk at a time: the local IC runs in this process and executes one
      // message at a time, so parallel chunks would only overlap the phases'
      // wall-clock timings (and hardly change the throughput).
      config: { chunkConcurrency: 1 },
    });
    // The canister takes files up to 100 MiB; 100 MB fits.
    await enqueue(store, { blob: new Blob([randomBytes(bytes)]), name: 'bench.bin' });
    server.execute = 0;
    server.other = 0;
    const profiler = await startProfile();
    const cpu = process.cpuUsage();
    const t = performance.now();
    const report = await engine.drain();
    const totalMs = performance.now() - t;
    const { user, system } = process.cpuUsage(cpu);
    const cpuMs = (user + system) / 1000;
    await profiler?.stop(`${jsHash ? 'jshash' : 'native'}-${mb}mb`);
    if (report.recorded.length !== 1) throw new Error(`upload did not complete: ${JSON.stringify(report)}`);
    const hashingMs = report.phases.hashing;
    const transportMs = Math.max(0, totalMs - hashingMs - signingMs - server.execute);
    const share = (ms: number) => `${((ms / totalMs) * 100).toFixed(1)} %`;
    console.log(`\nEnd to end, ${label} (one chunk in flight): ${mb} MB to the local IC in ${(totalMs / 1000).toFixed(1)} s = ${fmt(mbps(bytes, totalMs))} MB/s`);
    console.log(`| where the time went | ms | share |`);
    console.log(`| --- | --- | --- |`);
    console.log(`| hashing (hash-wasm, inline) | ${hashingMs.toFixed(0)} | ${share(hashingMs)} |`);
    console.log(`| signing (ECDSA P-256, WebCrypto) | ${signingMs.toFixed(0)} | ${share(signingMs)} |`);
    console.log(`| canister execution (local IC) | ${server.execute.toFixed(0)} | ${share(server.execute)} |`);
    console.log(`| transport (agent, CBOR, HTTP, request checks, certificates, server edges) | ${transportMs.toFixed(0)} | ${share(transportMs)} |`);
    console.log(`(of transport, ${server.other.toFixed(0)} ms were the IC interface decoding, authenticating and certifying)`);
    console.log(`phases: ${JSON.stringify(Object.fromEntries(Object.entries(report.phases).map(([k, v]) => [k, Math.round(v)])))}`);
    store.close();
    console.log(`CPU time of the process: ${(cpuMs / 1000).toFixed(1)} s (${((cpuMs / totalMs) * 100).toFixed(0)} % of the wall time) = ${fmt(mbps(bytes, cpuMs))} MB per CPU second`);
    return { mbps: mbps(bytes, totalMs), mbPerCpuSecond: mbps(bytes, cpuMs), executeShare: server.execute / totalMs };
  } finally {
    await stack.close();
  }
}

export default async function clientBench(): Promise<void> {
  // BENCH_CLIENT_HASHING=0 leaves out the Chromium hashing part (profiling the upload alone).
  if (process.env.BENCH_CLIENT_HASHING !== '0') await hashing();
  const native = await endToEnd('native SHA-256 in the canister', MB, false);
  const js = await endToEnd('JavaScript SHA-256 in the canister (baseline)', BASELINE_MB, true);
  console.log(`\n| end to end | MB/s | canister execution | vs baseline | MB per CPU second | vs baseline (CPU) |`);
  console.log(`| --- | --- | --- | --- | --- | --- |`);
  console.log(`| JavaScript SHA-256, ${BASELINE_MB} MB (baseline) | ${fmt(js.mbps)} | ${(js.executeShare * 100).toFixed(1)} % | 1.00x | ${fmt(js.mbPerCpuSecond)} | 1.00x |`);
  console.log(
    `| native SHA-256, ${MB} MB | ${fmt(native.mbps)} | ${(native.executeShare * 100).toFixed(1)} % | ${(native.mbps / js.mbps).toFixed(2)}x | ${fmt(native.mbPerCpuSecond)} | ${(native.mbPerCpuSecond / js.mbPerCpuSecond).toFixed(2)}x |`,
  );
}
