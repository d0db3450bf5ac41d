// `npm start` (server/main.ts under tsx, as a child process) runs the local
// IC on a worker thread: while a long canister call is in flight (a
// full-size `put_chunk` of a bucket, the longest message the product sends), the
// same process answers /healthz, and the IC interface reports the call as
// still processing after that; then the call completes. Event order is
// asserted, not timings.
//
// This end-to-end check cannot by itself tell a worker from the calling
// thread: with execution on the main thread the event loop is also free while
// the call's WAL record is fsynced, which on a busy disk can outlast the
// probes. That the Wasm execution itself no longer blocks the event loop is
// proven in thread.test.ts, where a debug_print marks the start of the long
// message and the same race run on the calling thread comes out the other way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Actor, Certificate, HttpAgent, lookupResultToBuffer, polling, type ActorSubclass, type RequestId } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { idlFactory, type _SERVICE } from '../../src/declarations/forever/index.js';
import { userBucket } from '../browser/support/user-bucket.js';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'forever-thread-start-'));
let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['server/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', FOREVER_SKIP_APP_BUILD: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server/main.ts exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ServerReady"')) resolve(String((JSON.parse(line) as { url: string }).url));
    });
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const service = idlFactory({ IDL }) as IDL.ServiceClass;
const putChunk = service._fields.find(([n]) => n === 'put_chunk')![1];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

async function requestStatus(agent: HttpAgent, canisterId: Principal, requestId: RequestId): Promise<string> {
  const path = [utf8('request_status'), requestId];
  const state = await agent.readState(canisterId, { paths: [path] });
  const cert = await Certificate.create({ certificate: state.certificate, rootKey: agent.rootKey!, canisterId });
  const status = lookupResultToBuffer(cert.lookup_path([...path, utf8('status')]));
  return status ? new TextDecoder().decode(status) : 'unknown';
}

it('/healthz answers while a long put_chunk executes, which then completes', async () => {
  const identity = Ed25519KeyIdentity.generate();
  // The user's bucket, found through the index as the app finds it.
  const canisterId = Principal.fromText(await userBucket(url, identity));
  const agent = await HttpAgent.create({ host: url, identity, shouldFetchRootKey: true });
  const forever: ActorSubclass<_SERVICE> = Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId });

  const { chunk_size } = await forever.get_limits();
  const bytes = new Uint8Array(chunk_size).map((_, j) => (j * 7) & 0xff);
  const memoryId = randomUUID();
  const meta = { title: 'long', tags: [], mime_type: [], description: [], file_name: [], taken_at_ms: [] } satisfies Parameters<_SERVICE['upsert_metadata']>[2];
  expect(await forever.upsert_metadata(memoryId, { Document: null }, meta, randomUUID())).toHaveProperty('Ok');
  const sha = new Uint8Array(createHash('sha256').update(bytes).digest());
  const session = await forever.begin_asset_upload(memoryId, sha, 1, BigInt(chunk_size));
  if (!('Ok' in session)) throw new Error(`begin_asset_upload: ${JSON.stringify(Object.keys(session.Err))}`);

  // A v2 (asynchronous) call: answered 202 once accepted, then it executes.
  const events: string[] = [];
  const { requestId } = await agent.call(canisterId, {
    methodName: 'put_chunk',
    arg: IDL.encode(putChunk.argTypes, [session.Ok.session_id, 0, bytes]),
    effectiveCanisterId: canisterId,
    callSync: false,
  });
  events.push('accepted');
  const health = await fetch(`${url}/healthz`);
  events.push(`healthz ${health.status}`);
  events.push(`status ${await requestStatus(agent, canisterId, requestId)}`);
  const { reply } = await polling.pollForResponse(agent, canisterId, requestId);
  events.push(`status ${await requestStatus(agent, canisterId, requestId)}`);

  expect(events).toEqual(['accepted', 'healthz 200', 'status processing', 'status replied']);
  const [result] = IDL.decode(putChunk.retTypes, reply) as [{ Ok: { chunks_received: number } } | { Err: unknown }];
  expect(result).toMatchObject({ Ok: { chunks_received: 1 } });
});
