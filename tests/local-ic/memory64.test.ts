// A module with a 64-bit memory and a 64-bit table (what moc's enhanced
// orthogonal persistence emits), hand-written in WAT: the runtime finds its
// memory (exported as `mem`), passes i64 addresses to and from the system
// API, calls through the lowered table, meters bulk memory by its i64 size,
// and undoes a trapping message whose memory grew.
import { IDL } from '@dfinity/candid';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalIC, type CallResult } from '../../canister/local/index.js';
import { instrumentModule } from '../../canister/local/wasm/instrument.js';
import { assembleWat } from '../http/support/wat.js';
import { START_TIME } from './support/fixture.js';

const nat64 = (r: CallResult): bigint => {
  if (r.status !== 'replied') throw new Error(`${r.errorCode} ${r.rejectMessage}`);
  return IDL.decode([IDL.Nat64], r.reply)[0] as bigint;
};
const none = new Uint8Array(IDL.encode([], []));
const arg = (n: bigint) => new Uint8Array(IDL.encode([IDL.Nat64], [n]));

describe('64-bit memory and table', () => {
  let wasm: Uint8Array;
  beforeAll(async () => {
    wasm = await assembleWat('memory64', { memory64: true });
  });

  it('is instrumented with the memory exported and the table lowered, with or without metering', () => {
    for (const metering of [true, false]) {
      const out = instrumentModule(wasm, { metering });
      expect(out).toMatchObject({ memory64: true, table64Lowered: true, memoryExport: '__local_ic_memory' });
    }
  });

  it('runs: calls through the lowered table, i64 system API addresses, bulk memory, rollback after growth', async () => {
    const ic = await LocalIC.create({ clock: 'manual', startTime: START_TIME, log: () => {} });
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, wasm, { mode: 'install' });
      expect(nat64(await ic.update(id, 'step', arg(1n)))).toBe(2n); // table[1]: +2
      expect(nat64(await ic.update(id, 'step', arg(4n)))).toBe(3n); // table[0]: +1
      expect(nat64(await ic.query(id, 'get', none))).toBe(3n);

      const filled = await ic.update(id, 'fill', none);
      expect(nat64(filled)).toBe(42n);
      // memory.fill and memory.copy of 4096 bytes each are charged per byte.
      expect(filled.instructions).toBeGreaterThan(8192n);

      expect(nat64(await ic.query(id, 'pages', none))).toBe(1n);
      const trapped = await ic.update(id, 'grow_then_trap', none);
      expect(trapped).toMatchObject({ status: 'rejected', rejectCode: 5, errorCode: 'IC0503' });
      expect(nat64(await ic.query(id, 'pages', none))).toBe(1n);
      // A committed growth, then a trapping one: the fresh instance is grown back to the committed size.
      expect(nat64(await ic.update(id, 'grow', none))).toBe(2n);
      expect(await ic.update(id, 'grow_then_trap', none)).toMatchObject({ status: 'rejected', errorCode: 'IC0503' });
      expect(nat64(await ic.query(id, 'pages', none))).toBe(2n);
      expect(nat64(await ic.query(id, 'get', none))).toBe(3n);
      expect(nat64(await ic.update(id, 'step', arg(0n)))).toBe(4n);
    } finally {
      await ic.close();
    }
  });
});
