// Upgrades and durable state: an upgrade keeps stable memory, drops the heap
// and runs pre_upgrade/post_upgrade; a failed upgrade changes nothing; a
// restarted process finds every committed update (also after SIGKILL of a
// process in the middle of writing), with its module re-run as an upgrade.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCanister } from '../../canister/scripts/build.js';
import { InstallCodeError, LocalIC } from '../../canister/local/index.js';
import { decodeRecords, encodeRecord } from '../../canister/local/runtime/persistence.js';
import { decode, enc, fixtureWasm, START_TIME, textArg, wrap } from './support/fixture.js';

const CHILD = fileURLToPath(new URL('./support/crash-child.ts', import.meta.url));
const optText = IDL.Opt(IDL.Text);
const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'local-ic-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(dir?: string): Promise<LocalIC> {
  return LocalIC.create({ dataDir: dir, clock: 'manual', startTime: START_TIME, log: () => undefined });
}

describe('upgrade', () => {
  it('keeps stable data, drops heap data, runs pre_upgrade and post_upgrade with its argument', async () => {
    const ic = await open();
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('first') });
      const f = wrap(ic, id);
      await f.update('stableSet', enc([IDL.Text, IDL.Text], ['kept', 'stable value']));
      await f.update('setHeap', textArg('heap value'));
      await ic.installCode(id, fixtureWasm(), { mode: 'upgrade', arg: textArg('second') });
      expect(decode(optText, await f.query('stableGet', textArg('kept')))).toEqual(['stable value']);
      expect(await f.text('getHeap')).toBe('');
      expect(await f.text('getPostUpgradeArg')).toBe('second');
      // pre_upgrade saw the old heap and wrote it to stable memory.
      expect(decode(optText, await f.query('upgradeRecord', textArg('pre_upgrade_heap')))).toEqual(['heap value']);
    } finally {
      await ic.close();
    }
  });

  it('a failing post_upgrade leaves module, heap and stable memory as they were', async () => {
    const ic = await open();
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('first') });
      const f = wrap(ic, id);
      await f.update('setHeap', textArg('old heap'));
      const hash = Buffer.from(ic.moduleHash(id)!).toString('hex');
      // post_upgrade expects text: a nat makes its argument decoding trap after pre_upgrade ran.
      const err = await ic
        .installCode(id, fixtureWasm(), { mode: 'upgrade', arg: enc([IDL.Nat], [1n]) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InstallCodeError);
      expect(await f.text('getHeap')).toBe('old heap');
      expect(decode(optText, await f.query('upgradeRecord', textArg('pre_upgrade_heap')))).toEqual([]);
      expect(Buffer.from(ic.moduleHash(id)!).toString('hex')).toBe(hash);
      expect((await f.update('setMessage', textArg('still fine'))).status).toBe('replied');
    } finally {
      await ic.close();
    }
  });

  it('reinstall wipes stable memory and heap', async () => {
    const ic = await open();
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('first') });
      const f = wrap(ic, id);
      await f.update('stableSet', enc([IDL.Text, IDL.Text], ['gone', 'soon']));
      await ic.installCode(id, fixtureWasm(), { mode: 'reinstall', arg: textArg('again') });
      expect(decode(optText, await f.query('stableGet', textArg('gone')))).toEqual([]);
      expect(await f.text('getInitArg')).toBe('again');
    } finally {
      await ic.close();
    }
  });
});

describe('restart', () => {
  it('a new process finds stable data, controllers, certified data; heap is reset by the re-run upgrade', async () => {
    const dir = dataDir();
    const controller = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');
    const first = await open(dir);
    const id = await first.createCanister({ controllers: [controller] });
    await first.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('installed') });
    const f1 = wrap(first, id);
    await f1.update('stableSet', enc([IDL.Text, IDL.Text], ['durable', 'yes']));
    await f1.update('setHeap', textArg('volatile'));
    await f1.update('setCertified', enc([IDL.Vec(IDL.Nat8)], [new Uint8Array(32).fill(3)]));
    const hash = first.moduleHash(id);
    await first.close();

    const second = await open(dir);
    try {
      const f2 = wrap(second, id);
      expect(second.canisterIds().map((p) => p.toText())).toEqual([id.toText()]);
      expect(decode(optText, await f2.query('stableGet', textArg('durable')))).toEqual(['yes']);
      expect(await f2.text('getHeap')).toBe('');
      // post_upgrade got the argument of the last install.
      expect(await f2.text('getPostUpgradeArg')).toBe('installed');
      expect(second.controllers(id).map((p) => p.toText())).toEqual([controller.toText()]);
      expect([...second.certifiedData(id)]).toEqual(new Array(32).fill(3));
      expect(second.moduleHash(id)).toEqual(hash);
      // The next canister gets the next id, not a reused one.
      expect((await second.createCanister()).toText()).toBe('bd3sg-teaaa-aaaaa-qaaba-cai');
      // The instrumented module is cached on disk by hash.
      expect(readdirSync(join(dir, 'modules')).some((n) => n.endsWith('.json'))).toBe(true);
    } finally {
      await second.close();
    }
  });

  // On the worker thread, too: a reply reaches the main thread only after the worker made it durable.
  it.each(['main', 'worker'] as const)('survives SIGKILL of a process that is committing updates (runtime on the %s thread)', async (thread) => {
    const dir = dataDir();
    const wasmPath = buildCanister('runtime_fixture');
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, LOCAL_IC_CHILD: JSON.stringify({ dataDir: dir, wasmPath, thread }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let id = '';
    let committed = -1;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        id ||= /READY (\S+)/.exec(out)?.[1] ?? '';
        for (const m of out.matchAll(/COMMITTED (\d+)/g)) committed = Math.max(committed, Number(m[1]));
        // Kill while the child is busy with the next update.
        if (committed >= 15) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out.slice(-500)}`)));
    });
    proc.kill('SIGKILL');
    await exited;

    const ic = await open(dir);
    try {
      const canister = Principal.fromText(id);
      for (let i = 0; i <= committed; i++) {
        const v = decode<string[]>(optText, await ic.query(canister, 'stableGet', textArg(`k${i}`)));
        expect(v.length, `k${i} committed before the kill`).toBe(1);
        expect(v[0].startsWith(`v${i}-`)).toBe(true);
        expect(v[0].length).toBe(20_000);
      }
      // The store is consistent: more writes work and read back.
      await ic.update(canister, 'stableSet', enc([IDL.Text, IDL.Text], ['after', 'restart']));
      expect(decode(optText, await ic.query(canister, 'stableGet', textArg('after')))).toEqual(['restart']);
    } finally {
      await ic.close();
    }
  }, 120_000);

  it('a canister whose post_upgrade fails at restart keeps module and data and can be upgraded', async () => {
    const dir = dataDir();
    const first = await open(dir);
    const id = await first.createCanister();
    await first.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('ok') });
    await first.update(id, 'stableSet', enc([IDL.Text, IDL.Text], ['precious', 'data']));
    await first.close();
    // A restart checkpoints meta.json; make the remembered install argument one post_upgrade cannot decode.
    await (await open(dir)).close();
    const metaPath = join(dir, 'canisters', id.toText(), 'meta.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { lastInstallArg: string };
    meta.lastInstallArg = Buffer.from(enc([IDL.Nat], [1n])).toString('hex');
    writeFileSync(metaPath, JSON.stringify(meta));
    // Later WAL records carry their own metadata; drop them as a checkpoint would
    // (their blocks are already in the image).
    writeFileSync(join(dir, 'canisters', id.toText(), 'stable.wal'), new Uint8Array(0));

    const ic = await open(dir);
    try {
      const r = await ic.query(id, 'getMessage', textArg('x'));
      expect(r).toMatchObject({ status: 'rejected', rejectCode: 5 });
      expect(ic.moduleHash(id)).toBeDefined();
      await ic.installCode(id, fixtureWasm(), { mode: 'upgrade', arg: textArg('fixed') });
      expect(decode(optText, await ic.query(id, 'stableGet', textArg('precious')))).toEqual(['data']);
      expect(decode(IDL.Text, await ic.query(id, 'getPostUpgradeArg', enc([], [])))).toBe('fixed');
    } finally {
      await ic.close();
    }
  });

  it('ignores a torn or corrupt record at the end of the write-ahead log', () => {
    const meta = {
      controllers: [],
      moduleHash: null,
      certifiedData: '',
      version: '1',
      lastInstallArg: '',
      stablePages: 1,
    };
    const a = encodeRecord(meta, false, [[0, new Uint8Array(4096).fill(1)]]);
    const b = encodeRecord({ ...meta, version: '2' }, false, [[1, new Uint8Array(4096).fill(2)]]);
    expect(decodeRecords(Buffer.concat([a, b])).map((r) => r.meta.version)).toEqual(['1', '2']);
    expect(decodeRecords(Buffer.concat([a, b.subarray(0, b.length - 1)])).map((r) => r.meta.version)).toEqual(['1']);
    const corrupt = Buffer.from(b);
    corrupt[corrupt.length - 10] ^= 0xff;
    expect(decodeRecords(Buffer.concat([a, corrupt])).map((r) => r.meta.version)).toEqual(['1']);
  });
});
