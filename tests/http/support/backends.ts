// The canisters the HTTP interface suites run against: the TypeScript
// stand-in (protocol only) and, when available, the real LocalIC running the
// azle-built http_fixture canister.
import { readFile } from 'node:fs/promises';
import type { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import type { IcRuntime } from '../../../canister/local/http/runtime.js';
import { addMetadata, LocalIC } from '../../../canister/local/index.js';
import { buildCanister, candidPath } from '../../../canister/scripts/build.js';
import { EchoRuntime, echoIdl } from './echo-runtime.js';
import { httpFixtureIdl } from './http-fixture-idl.js';

export interface Backend {
  runtime: IcRuntime;
  canisterId: Principal;
  idl: IDL.InterfaceFactory;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Start the IC's clock this far ahead of the agents' clocks. */
  clockAheadMs?: number;
}

export async function echoBackend(opts: BackendOptions = {}): Promise<Backend> {
  const runtime = new EchoRuntime();
  runtime.offsetNs = BigInt(opts.clockAheadMs ?? 0) * 1_000_000n;
  return { runtime, canisterId: runtime.canisterId, idl: echoIdl, async close() {} };
}

/** The real runtime with the azle-built http_fixture canister installed. */
export async function localIcBackend(opts: BackendOptions = {}): Promise<Backend> {
  const ic = await LocalIC.create({
    log: () => {},
    ...(opts.clockAheadMs ? { startTime: BigInt(Date.now() + opts.clockAheadMs) * 1_000_000n } : {}),
  });
  const canisterId = await ic.createCanister({ controllers: [Principal.anonymous()] });
  // Embed the Candid interface as dfx does on install (azle leaves it out).
  const wasm = addMetadata(new Uint8Array(await readFile(buildCanister('http_fixture'))), 'candid:service', await readFile(candidPath('http_fixture'), 'utf8'));
  await ic.installCode(canisterId, wasm, { mode: 'install' });
  return { runtime: ic, canisterId, idl: httpFixtureIdl, close: () => ic.close() };
}
