// The canisters the HTTP interface suites run against: the TypeScript
// stand-in (protocol only) and, when available, the real LocalIC running the
// azle-built http_fixture canister.
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import type { IcRuntime } from '../../../canister/local/http/runtime.js';
import { EchoRuntime, echoIdl } from './echo-runtime.js';

export interface Backend {
  runtime: IcRuntime;
  canisterId: Principal;
  idl: IDL.InterfaceFactory;
  /** Moves the IC's clock ahead of the agents' clocks. */
  skewClock?(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function echoBackend(): Promise<Backend> {
  const runtime = new EchoRuntime();
  return {
    runtime,
    canisterId: runtime.canisterId,
    idl: echoIdl,
    async skewClock(ms) {
      runtime.offsetNs = BigInt(ms) * 1_000_000n;
    },
    async close() {},
  };
}

/** The real runtime with the azle-built http_fixture canister installed. */
export async function localIcBackend(): Promise<Backend> {
  const { LocalIC } = await import('../../../canister/local/index.js');
  const { readFile } = await import('node:fs/promises');
  const { buildCanister } = await import('../../../canister/scripts/build.js');
  const { httpFixtureIdl } = await import('./http-fixture-idl.js');
  const ic = await LocalIC.create();
  const canisterId = await ic.createCanister();
  await ic.installCode(canisterId, new Uint8Array(await readFile(buildCanister('http_fixture'))), { mode: 'install' });
  return {
    runtime: ic,
    canisterId,
    idl: httpFixtureIdl,
    close: () => ic.close(),
  };
}
