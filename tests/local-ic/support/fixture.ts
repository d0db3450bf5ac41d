// Helpers for the local IC suites: the runtime fixture canister's Wasm
// (built with azle if missing or stale), Candid encoding shortcuts and a
// LocalIC with the fixture installed on a manual clock.
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { buildCanister } from '../../../canister/scripts/build.js';
import { LocalIC, type CallResult, type LocalICOptions } from '../../../canister/local/index.js';

/** 2023-11-14T22:13:20Z: tests run on a fixed clock. */
export const START_TIME = 1_700_000_000_000_000_000n;

let wasm: Uint8Array | undefined;
export function fixtureWasm(): Uint8Array {
  wasm ??= new Uint8Array(readFileSync(buildCanister('runtime_fixture')));
  return wasm;
}

export function enc(types: IDL.Type[], values: unknown[]): Uint8Array {
  return new Uint8Array(IDL.encode(types, values));
}

export const noArgs = enc([], []);
export const textArg = (s: string): Uint8Array => enc([IDL.Text], [s]);

/** Decodes a single return value of a replied call; fails the test with the reject otherwise. */
export function decode<T>(type: IDL.Type, r: CallResult): T {
  if (r.status !== 'replied') throw new Error(`expected a reply, got ${r.errorCode} ${r.rejectMessage}`);
  return IDL.decode([type], r.reply)[0] as T;
}

export interface Fixture {
  ic: LocalIC;
  id: Principal;
  update(method: string, arg?: Uint8Array, caller?: Principal): Promise<CallResult>;
  query(method: string, arg?: Uint8Array, caller?: Principal): Promise<CallResult>;
  text(method: string, arg?: Uint8Array): Promise<string>;
  logs: string[];
}

export async function startFixture(
  opts: LocalICOptions & { initArg?: string; controllers?: Principal[] } = {},
): Promise<Fixture> {
  const logs: string[] = [];
  const ic = await LocalIC.create({
    clock: 'manual',
    startTime: START_TIME,
    log: (_id, line) => logs.push(line),
    ...opts,
  });
  const id = await ic.createCanister({ controllers: opts.controllers });
  await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg(opts.initArg ?? 'init-arg') });
  return wrap(ic, id, logs);
}

export function wrap(ic: LocalIC, id: Principal, logs: string[] = []): Fixture {
  return {
    ic,
    id,
    logs,
    update: (method, arg = noArgs, caller) => ic.update(id, method, arg, { caller }),
    query: (method, arg = noArgs, caller) => ic.query(id, method, arg, { caller }),
    text: async (method, arg = noArgs) => decode<string>(IDL.Text, await ic.query(id, method, arg)),
  };
}
