// Instruction metering on the azle-built fixture: counts close to the IC's
// own (azle's published hello_world figure), deterministic, visible to the
// canister through performance_counter, and enforced at the IC's limits so an
// infinite loop traps instead of hanging.
import { IDL } from '@dfinity/candid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTRUCTION_LIMITS, InstallCodeError, LocalIC } from '../../canister/local/index.js';
import { decode, enc, fixtureWasm, START_TIME, startFixture, textArg, type Fixture } from './support/fixture.js';

/** azle 0.32's benchmark of hello_world `setMessage` on a real replica. */
const AZLE_SET_MESSAGE_INSTRUCTIONS = 1_404_869;

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f.ic.close();
});

describe('instruction counts', () => {
  it("reproduces azle's published setMessage figure within 30%", async () => {
    // The first call after install warms azle's own caches, as in azle's benchmark runs.
    await f.update('setMessage', textArg('warm up'));
    const r = await f.update('setMessage', textArg('Hello, benchmark!'));
    expect(r.status).toBe('replied');
    const ratio = Number(r.instructions) / AZLE_SET_MESSAGE_INSTRUCTIONS;
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.3);
  });

  it('is deterministic: the same calls on a fresh canister give the same counts', async () => {
    const run = async (): Promise<bigint[]> => {
      const g = await startFixture();
      try {
        const out: bigint[] = [];
        out.push((await g.update('setMessage', textArg('a'))).instructions);
        out.push((await g.update('stableSet', enc([IDL.Text, IDL.Text], ['k', 'v']))).instructions);
        out.push((await g.query('getMessage')).instructions);
        out.push((await g.update('work', enc([IDL.Nat32], [5000]))).instructions);
        return out;
      } finally {
        await g.ic.close();
      }
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.every((n) => n > 0n)).toBe(true);
  });

  it('performance_counter(0) grows with the work done and stays within the reply count', async () => {
    const counter = async (rounds: number): Promise<[bigint, bigint]> => {
      const r = await f.update('work', enc([IDL.Nat32], [rounds]));
      return [decode<bigint>(IDL.Nat64, r), r.instructions];
    };
    const [small, smallTotal] = await counter(1_000);
    const [large, largeTotal] = await counter(101_000);
    expect(small).toBeLessThan(smallTotal);
    expect(large).toBeLessThan(largeTotal);
    // 100k more loop iterations of QuickJS bytecode: hundreds of instructions each.
    const perIteration = Number(large - small) / 100_000;
    expect(perIteration).toBeGreaterThan(100);
    expect(perIteration).toBeLessThan(10_000);
  });
});

describe('limits', () => {
  it('an infinite loop in an update traps at 40 billion instructions', async () => {
    const r = await f.update('spin');
    expect(r).toMatchObject({
      status: 'rejected',
      rejectCode: 5,
      errorCode: 'IC0522',
      instructions: INSTRUCTION_LIMITS.update,
    });
    expect(r.status === 'rejected' && r.rejectMessage).toContain('exceeded the limit of 40000000000 instructions');
    // Rolled back and still usable.
    expect((await f.update('setMessage', textArg('alive'))).status).toBe('replied');
  }, 120_000);

  it('an infinite loop in a query traps at 5 billion instructions', async () => {
    const r = await f.query('spinQuery');
    expect(r).toMatchObject({ status: 'rejected', rejectCode: 5, errorCode: 'IC0522', instructions: INSTRUCTION_LIMITS.query });
  }, 60_000);

  it('install code is limited too (a low limit makes canister_init trap)', async () => {
    const ic = await LocalIC.create({
      clock: 'manual',
      startTime: START_TIME,
      log: () => undefined,
      instructionLimits: { install: 1_000_000n },
    });
    try {
      const id = await ic.createCanister();
      const err = await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('x') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InstallCodeError);
      expect((err as InstallCodeError).reject.errorCode).toBe('IC0522');
      expect(ic.moduleHash(id)).toBeUndefined();
    } finally {
      await ic.close();
    }
  });
});
