// The local IC on a worker thread (`LocalIC.create({ thread: 'worker' })`,
// canister/local/thread): the fixture behaves as on the calling thread
// (replies, rejects, rollback, timers, upgrade, persistence), errors arrive
// as the runtime's classes with their fields, the synchronous getters follow
// every resolved call, and — the point of it — this thread's event loop
// answers while a long message executes.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMetadata,
  InstallCodeError,
  LocalIC,
  LocalICError,
  LocalICThread,
  MAX_INGRESS_BYTES,
} from '../../canister/local/index.js';
import { decode, enc, fixtureWasm, noArgs, START_TIME, textArg, wrap, type Fixture } from './support/fixture.js';
import { wasmModule } from './support/wasm-builder.js';

const alice = Ed25519KeyIdentity.generate().getPrincipal();
const bob = Ed25519KeyIdentity.generate().getPrincipal();
const optText = IDL.Opt(IDL.Text);
/** About a second of Wasm on the development machine (15.7 billion instructions, under the 40 billion limit). */
const LONG_ROUNDS = 10_000_000;
const longArg = (line: string, rounds = LONG_ROUNDS): Uint8Array => enc([IDL.Text, IDL.Nat32], [line, rounds]);

async function startWorkerFixture(opts: { dataDir?: string } = {}): Promise<Fixture & { lines: [string, string][] }> {
  const lines: [string, string][] = [];
  const ic = await LocalIC.create({
    thread: 'worker',
    clock: 'manual',
    startTime: START_TIME,
    dataDir: opts.dataDir,
    log: (id, line) => lines.push([id, line]),
  });
  const id = await ic.createCanister({ controllers: [alice] });
  await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('init-arg'), sender: alice });
  return { ...wrap(ic, id), lines };
}

describe('the fixture through the worker host', () => {
  let f: Fixture & { lines: [string, string][] };
  beforeAll(async () => {
    f = await startWorkerFixture();
  });
  afterAll(async () => {
    await f.ic.close();
  });

  it('is a LocalICThread, and the getters mirror the worker after create and install', () => {
    expect(f.ic).toBeInstanceOf(LocalICThread);
    expect(f.ic.canisterIds().map((p) => p.toText())).toEqual([f.id.toText()]);
    expect(f.ic.controllers(f.id).map((p) => p.toText())).toEqual([alice.toText()]);
    expect(f.ic.moduleHash(f.id)?.length).toBe(32);
    expect(f.ic.timeNs()).toBe(START_TIME);
  });

  it('runs init, commits updates, answers queries, passes the caller', async () => {
    expect(await f.text('getInitArg')).toBe('init-arg');
    expect((await f.update('setMessage', textArg('hi'))).status).toBe('replied');
    expect(await f.text('getMessage')).toBe('hi');
    expect(decode<{ toText(): string }>(IDL.Principal, await f.query('whoami', noArgs, bob)).toText()).toBe(bob.toText());
    const r = await f.update('echoRaw', enc([IDL.Vec(IDL.Nat8)], [new Uint8Array([1, 2, 3])]));
    expect(decode<Uint8Array>(IDL.Vec(IDL.Nat8), r)).toEqual(new Uint8Array([1, 2, 3]));
    expect(r.instructions).toBeGreaterThan(0n);
  });

  it('rejects with the IC codes and rolls back a trap', async () => {
    await f.update('setHeap', textArg('before'));
    const trap = await f.update('writeThenTrap', textArg('after'));
    expect(trap).toMatchObject({ status: 'rejected', rejectCode: 5, errorCode: 'IC0503' });
    expect(await f.text('getHeap')).toBe('before');
    expect(decode(optText, await f.query('stableGet', textArg('trap')))).toEqual([]);
    expect(await f.update('nope', noArgs)).toMatchObject({ rejectCode: 3, errorCode: 'IC0302' });
    expect(await f.update('rejectWith', textArg('no'))).toMatchObject({ rejectCode: 4, errorCode: 'IC0406', rejectMessage: 'no' });
    const big = await f.update('byteLength', enc([IDL.Vec(IDL.Nat8)], [new Uint8Array(MAX_INGRESS_BYTES)]));
    expect(big).toMatchObject({ status: 'rejected', errorCode: 'PayloadTooLarge' });
  });

  it('forwards debug_print to the logger on this thread, with the canister id, before the reply', async () => {
    const before = f.lines.length;
    const r = await f.update('log', textArg('from the worker'));
    expect(r.status).toBe('replied');
    expect(f.lines.slice(before)).toEqual([[f.id.toText(), '"from the worker"']]);
  });

  it('certified data and controllers set in the worker are visible as soon as the call resolves', async () => {
    const data = new Uint8Array(32).fill(9);
    await f.update('setCertified', enc([IDL.Vec(IDL.Nat8)], [data]));
    expect(f.ic.certifiedData(f.id)).toEqual(data);
    await f.ic.setControllers(f.id, [alice, bob]);
    expect(f.ic.controllers(f.id).map((p) => p.toText())).toEqual([alice.toText(), bob.toText()]);
    await f.ic.setControllers(f.id, [alice]);
  });

  it('fires timers when the manual clock moves, and mirrors the clock', async () => {
    const log = async () => decode<string[]>(IDL.Vec(IDL.Text), await f.query('timerLogGet'));
    await f.update('schedule', enc([IDL.Nat32, IDL.Text], [10, 'ten']));
    await f.ic.advanceTime(9_999);
    expect(await log()).toEqual([]);
    await f.ic.advanceTime(1);
    expect(await log()).toEqual(['ten']);
    expect(f.ic.timeNs()).toBe(START_TIME + 10_000_000_000n);
    await f.ic.setTime(START_TIME + 20_000_000_000n);
    expect(f.ic.timeNs()).toBe(START_TIME + 20_000_000_000n);
    await expect(f.ic.setTime(START_TIME)).rejects.toMatchObject({ name: 'LocalICError', code: 'InvalidArgument' });
  });

  it('upgrades: heap reset, stable kept, new module hash and metadata mirrored', async () => {
    await f.update('stableSet', enc([IDL.Text, IDL.Text], ['k', 'kept']));
    await f.update('setHeap', textArg('lost'));
    const hashBefore = f.ic.moduleHash(f.id);
    const wasm = addMetadata(fixtureWasm(), 'candid:service', 'service : {}');
    await f.ic.installCode(f.id, wasm, { mode: 'upgrade', arg: textArg('up'), sender: alice });
    expect(await f.text('getHeap')).toBe('');
    expect(await f.text('getPostUpgradeArg')).toBe('up');
    expect(decode(optText, await f.query('stableGet', textArg('k')))).toEqual(['kept']);
    expect(f.ic.moduleHash(f.id)).not.toEqual(hashBefore);
    expect(new TextDecoder().decode(f.ic.metadata(f.id, 'candid:service'))).toBe('service : {}');
    expect(f.ic.metadata(f.id, 'candid:args')).toBeUndefined();
  });

  it('errors arrive as the runtime classes with their fields', async () => {
    const notController = await f.ic
      .installCode(f.id, fixtureWasm(), { mode: 'upgrade', arg: textArg('x'), sender: bob })
      .catch((e: unknown) => e);
    expect(notController).toBeInstanceOf(LocalICError);
    expect(notController).toMatchObject({ name: 'LocalICError', code: 'NotController' });
    expect((notController as Error).stack).toContain('local IC worker');

    const missing = await f.ic
      .installCode(await f.ic.createCanister(), wasmModule({ types: [[[], []]], imports: [['ic0', 'no_such_call', 0]] }), { mode: 'install' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LocalICError);
    expect((missing as LocalICError).code).toBe('MissingImports');
    expect((missing as Error).message).toContain('ic0.no_such_call');

    const empty = await f.ic.createCanister();
    const initTrap = await f.ic.installCode(empty, fixtureWasm(), { mode: 'install', arg: enc([IDL.Nat], [5n]) }).catch((e: unknown) => e);
    expect(initTrap).toBeInstanceOf(InstallCodeError);
    expect((initTrap as InstallCodeError).reject).toMatchObject({ rejectCode: 5 });
    expect(f.ic.moduleHash(empty)).toBeUndefined();

    // Synchronous getters throw on this thread, as the in-thread runtime does.
    expect(() => f.ic.certifiedData(alice)).toThrow(LocalICError);
    expect(await f.ic.update(alice, 'x', noArgs)).toMatchObject({ rejectCode: 3, errorCode: 'IC0301' });
  });

  it("keeps each caller's order: updates sent back to back apply in order", async () => {
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((m) => f.update('setMessage', textArg(m))));
    expect(results.map((r) => r.status)).toEqual(['replied', 'replied', 'replied', 'replied']);
    expect(await f.text('getMessage')).toBe('d');
  });
});

describe('this thread stays responsive', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const ping = (): Promise<string> =>
    new Promise((resolve, reject) => {
      // A fresh connection each time: a kept-alive socket can time out on the
      // server side while the calling thread is blocked (ECONNRESET).
      request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });

  /**
   * Starts a long update whose first act is a debug_print; when that line
   * arrives, asks this process's HTTP server and a timer. Returns the order
   * in which the update, the HTTP answer and the timer completed.
   */
  async function raceLongUpdate(thread: 'main' | 'worker'): Promise<string[]> {
    const events: string[] = [];
    let answered: Promise<void> | undefined;
    const ic = await LocalIC.create({
      thread,
      clock: 'manual',
      startTime: START_TIME,
      log: (_id, line) => {
        if (!line.includes('started')) return;
        events.push('started');
        answered = Promise.all([
          ping().then((body) => void events.push(`http ${body}`)),
          new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => void events.push('timer')),
        ]).then(() => undefined);
      },
    });
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('x') });
      const r = await ic.update(id, 'logThenWork', longArg('started'));
      events.push(`update ${r.status}`);
      await answered;
      return events;
    } finally {
      await ic.close();
    }
  }

  it('a timer and an HTTP request on this process are answered while a long update runs in the worker', async () => {
    const events = await raceLongUpdate('worker');
    expect(events[0]).toBe('started');
    expect(events.slice(1, 3).sort()).toEqual(['http pong', 'timer']);
    expect(events[3]).toBe('update replied');
  });

  it('(contrast) on the calling thread the same update holds both back until it ends', async () => {
    const events = await raceLongUpdate('main');
    expect(events[0]).toBe('started');
    expect(events[1]).toBe('update replied');
    expect(events.slice(2).sort()).toEqual(['http pong', 'timer']);
  });
});

describe('worker lifecycle', () => {
  it('fires a system-clock timer inside the worker by itself', async () => {
    const ic = await LocalIC.create({ thread: 'worker', log: () => undefined });
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('x') });
      await ic.update(id, 'schedule', enc([IDL.Nat32, IDL.Text], [1, 'wall']));
      const log = async () => decode<string[]>(IDL.Vec(IDL.Text), await ic.query(id, 'timerLogGet', noArgs));
      expect(await log()).toEqual([]);
      // Nothing moves the clock from here: the worker's own timeout must run the timer.
      const deadline = Date.now() + 10_000;
      while ((await log()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await log()).toEqual(['wall']);
      expect(ic.timeNs()).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
    } finally {
      await ic.close();
    }
  });

  it("a runtime that cannot start rejects create() with the worker's error", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'local-ic-thread-bad-'));
    try {
      const file = path.join(dir, 'not-a-directory');
      writeFileSync(file, 'x');
      await expect(LocalIC.create({ thread: 'worker', dataDir: path.join(file, 'ic') })).rejects.toThrow(/ENOTDIR|not a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() finishes calls made before it, persists them, and refuses later ones', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'local-ic-thread-'));
    try {
      const f = await startWorkerFixture({ dataDir });
      const last = f.update('stableSet', enc([IDL.Text, IDL.Text], ['durable', 'yes']));
      const closed = f.ic.close();
      await expect(f.update('setMessage', textArg('late'))).rejects.toMatchObject({ name: 'LocalICError', code: 'Closed' });
      expect((await last).status).toBe('replied');
      await closed;
      await f.ic.close(); // idempotent

      const again = await LocalIC.create({ thread: 'worker', clock: 'manual', startTime: START_TIME + 1n, dataDir, log: () => undefined });
      try {
        expect(again.canisterIds().map((p) => p.toText())).toEqual([f.id.toText()]);
        expect(again.controllers(f.id).map((p) => p.toText())).toEqual([alice.toText()]);
        expect(decode(optText, await again.query(f.id, 'stableGet', textArg('durable')))).toEqual(['yes']);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
