// `npm run bench http`: update and query latency through the local IC's HTTP
// interface with the real agent (default options: root key fetched,
// certificates and query signatures verified), against calling the runtime
// directly in the same process, measured in the same run on the same
// canister (tests/fixtures/http_fixture). Then where the time of an HTTP
// call goes: server phases (decode, authenticate, execute, certify, node
// signature) and the agent's BLS certificate verification.
import { readFile } from 'node:fs/promises';
import { Actor, HttpAgent, SignIdentity, type Signature } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { bls12_381 } from '@noble/curves/bls12-381';
import { bytesToHex } from '@noble/hashes/utils';
import { Hono } from 'hono';
import { createLocalIcHttp } from '../canister/local/http/local-ic-http.js';
import type { TimingPhase } from '../canister/local/http/interface.js';
import { addMetadata, LocalIC } from '../canister/local/index.js';
import { buildCanister, candidPath } from '../canister/scripts/build.js';
import { httpFixtureIdl } from '../tests/http/support/http-fixture-idl.js';
import { serveApp } from '../tests/http/support/serve.js';

const UPDATES = Number(process.env.BENCH_HTTP_UPDATES ?? 60);
const QUERIES = Number(process.env.BENCH_HTTP_QUERIES ?? 150);
const WARMUP = 10;

interface Fixture {
  increment(): Promise<bigint>;
  count(): Promise<bigint>;
}

async function meanMs(n: number, f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await f();
  const start = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - start) / n;
}

const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;
const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(0)}%`;

export default async function bench(): Promise<void> {
  const phases = new Map<TimingPhase, number>();
  let recording = false;
  const onTiming = (phase: TimingPhase, ms: number) => {
    if (recording) phases.set(phase, (phases.get(phase) ?? 0) + ms);
  };

  const ic = await LocalIC.create({ log: () => {} });
  const canisterId = await ic.createCanister({ controllers: [Principal.anonymous()] });
  const wasm = addMetadata(new Uint8Array(await readFile(buildCanister('http_fixture'))), 'candid:service', await readFile(candidPath('http_fixture'), 'utf8'));
  await ic.installCode(canisterId, wasm, { mode: 'install' });
  const http = await createLocalIcHttp({ runtime: ic, onTiming });
  const app = new Hono();
  http.mount(app);
  const served = await serveApp(app);

  // The agent's certificate check, timed by wrapping the BLS verification it uses.
  let blsMs = 0;
  const blsVerify = async (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): Promise<boolean> => {
    const t = performance.now();
    try {
      return bls12_381.verifyShortSignature(bytesToHex(sig), bytesToHex(msg), bytesToHex(pk));
    } finally {
      if (recording) blsMs += performance.now() - t;
    }
  };

  try {
    // The caller's key, timed: request signing is the agent's part of every call.
    const key = Ed25519KeyIdentity.generate();
    let signMs = 0;
    const caller = new (class extends SignIdentity {
      getPublicKey() {
        return key.getPublicKey();
      }
      async sign(blob: Uint8Array): Promise<Signature> {
        const t = performance.now();
        try {
          return await key.sign(blob);
        } finally {
          if (recording) signMs += performance.now() - t;
        }
      }
    })();
    const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity: caller });
    const actor = Actor.createActor<Fixture>(httpFixtureIdl, { agent, canisterId, blsVerify });
    const empty = new Uint8Array(IDL.encode([], []));
    const principal = caller.getPrincipal();

    const directUpdate = await meanMs(UPDATES, () => ic.update(canisterId, 'increment', empty, { caller: principal }));
    const directQuery = await meanMs(QUERIES, () => ic.query(canisterId, 'count', empty, { caller: principal }));
    // One HTTP round trip on the same server, for scale.
    const roundTrip = await meanMs(QUERIES, async () => (await fetch(`${served.url}/api/v2/status`)).arrayBuffer());

    await meanMs(0, () => actor.count()); // warm the agent's subnet key cache
    recording = true;
    phases.clear();
    blsMs = 0;
    signMs = 0;
    const httpUpdate = await meanMs(UPDATES, () => actor.increment());
    const updatePhases = new Map(phases);
    const updateBls = blsMs;
    const updateSign = signMs;
    phases.clear();
    blsMs = 0;
    signMs = 0;
    const httpQuery = await meanMs(QUERIES, () => actor.count());
    const queryPhases = new Map(phases);
    const querySign = signMs;
    recording = false;

    // Warm-up calls are recorded too: divide by all calls made while recording.
    const perCall = (m: Map<TimingPhase, number>, p: TimingPhase, calls: number) => (m.get(p) ?? 0) / calls;
    const updCalls = UPDATES + WARMUP;
    const qCalls = QUERIES + WARMUP;

    console.log(`http_fixture, Ed25519 caller; ${UPDATES} updates (increment) and ${QUERIES} queries (count), after ${WARMUP} warm-up calls each.\n`);
    console.log('| call | direct runtime | through HTTP + agent | ratio |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| update | ${fmt(directUpdate)} | ${fmt(httpUpdate)} | ${(httpUpdate / directUpdate).toFixed(1)}x |`);
    console.log(`| query | ${fmt(directQuery)} | ${fmt(httpQuery)} | ${(httpQuery / directQuery).toFixed(1)}x |`);

    const rows = (total: number, m: Map<TimingPhase, number>, calls: number, client: Array<[string, number]>) => {
      const server: Array<[string, number]> = (['decode', 'authenticate', 'execute', 'certify', 'sign-node'] as TimingPhase[])
        .map((p): [string, number] => [`server: ${p}`, perCall(m, p, calls)])
        .filter(([, v]) => v > 0);
      const known = [...server, ...client].reduce((s, [, v]) => s + v, 0);
      const rest: [string, number] = ['rest: HTTP, Hono, agent (Candid, CBOR, request id, node signature check)', total - known];
      for (const [name, v] of [...server, ...client, rest]) console.log(`| ${name} | ${fmt(v)} | ${pct(v, total)} |`);
    };
    console.log(`\nWhere an update's ${fmt(httpUpdate)} goes:\n`);
    console.log('| part | per call | share |');
    console.log('| --- | --- | --- |');
    rows(httpUpdate, updatePhases, updCalls, [
      ['agent: request signing (Ed25519)', updateSign / updCalls],
      ['agent: BLS certificate verification', updateBls / updCalls],
    ]);
    console.log(`\nWhere a query's ${fmt(httpQuery)} goes (node signature verified by the agent, subnet keys cached):\n`);
    console.log('| part | per call | share |');
    console.log('| --- | --- | --- |');
    rows(httpQuery, queryPhases, qCalls, [['agent: request signing (Ed25519)', querySign / qCalls]]);
    console.log(`\nFor scale: one plain HTTP round trip to the same server (GET /api/v2/status) takes ${fmt(roundTrip)}.`);
  } finally {
    await served.close();
    await ic.close();
  }
}
