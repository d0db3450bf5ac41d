// The clock and the global timer: azle's setTimer/setTimerInterval (which
// ic-cdk-timers runs through global_timer_set, canister_global_timer and a
// self-call per timer) fire when the clock passes their deadline, not before.
import { IDL } from '@dfinity/candid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalIC } from '../../canister/local/index.js';
import { decode, enc, fixtureWasm, START_TIME, startFixture, textArg, type Fixture } from './support/fixture.js';

let f: Fixture;
beforeEach(async () => {
  f = await startFixture();
});
afterEach(async () => {
  await f.ic.close();
});

const timerLog = async (): Promise<string[]> => decode<string[]>(IDL.Vec(IDL.Text), await f.query('timerLogGet'));
const schedule = (seconds: number, label: string) => f.update('schedule', enc([IDL.Nat32, IDL.Text], [seconds, label]));

describe('global timer', () => {
  it('fires a one-shot timer after the clock passes its deadline, not before', async () => {
    expect((await schedule(10, 'ten')).status).toBe('replied');
    await f.ic.advanceTime(9_999);
    expect(await timerLog()).toEqual([]);
    await f.ic.advanceTime(1);
    expect(await timerLog()).toEqual(['ten']);
    await f.ic.advanceTime(60_000);
    expect(await timerLog()).toEqual(['ten']);
  });

  it('fires timers in deadline order, including several due at once', async () => {
    await schedule(30, 'thirty');
    await schedule(5, 'five');
    await schedule(20, 'twenty');
    await f.ic.setTime(START_TIME + 25_000_000_000n);
    expect(await timerLog()).toEqual(['five', 'twenty']);
    await f.ic.advanceTime(5_000);
    expect(await timerLog()).toEqual(['five', 'twenty', 'thirty']);
  });

  it('runs an interval once per period until cleared', async () => {
    await f.update('startInterval', enc([IDL.Nat32], [10]));
    const ticks = async (): Promise<number> => decode<number>(IDL.Nat32, await f.query('intervalTicksGet'));
    await f.ic.advanceTime(10_000);
    expect(await ticks()).toBe(1);
    for (let i = 0; i < 3; i++) await f.ic.advanceTime(10_000);
    expect(await ticks()).toBe(4);
    await f.update('stopInterval');
    await f.ic.advanceTime(100_000);
    expect(await ticks()).toBe(4);
  });

  it('time seen by the canister is the clock the test controls', async () => {
    await f.ic.advanceTime(1_500);
    expect(decode<bigint>(IDL.Nat64, await f.query('now'))).toBe(START_TIME + 1_500_000_000n);
    await expect(f.ic.setTime(START_TIME)).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('an upgrade deactivates pending timers, as on the IC', async () => {
    await schedule(10, 'before-upgrade');
    await f.ic.installCode(f.id, fixtureWasm(), { mode: 'upgrade', arg: textArg('up') });
    await f.ic.advanceTime(20_000);
    expect(await timerLog()).toEqual([]);
  });
});

describe('system clock', () => {
  it('follows the wall clock and fires a due timer by itself', async () => {
    const ic = await LocalIC.create({ log: () => undefined });
    try {
      const before = BigInt(Date.now()) * 1_000_000n;
      expect(ic.timeNs()).toBeGreaterThanOrEqual(before - 1_000_000_000n);
      const id = await ic.createCanister();
      await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('x') });
      await ic.update(id, 'schedule', enc([IDL.Nat32, IDL.Text], [1, 'wall']));
      const log = async (): Promise<string[]> => decode<string[]>(IDL.Vec(IDL.Text), await ic.query(id, 'timerLogGet', enc([], [])));
      expect(await log()).toEqual([]);
      // No clock to move: the runtime's own timeout must run the timer.
      const deadline = Date.now() + 10_000;
      while ((await log()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await log()).toEqual(['wall']);
    } finally {
      await ic.close();
    }
  });
});
