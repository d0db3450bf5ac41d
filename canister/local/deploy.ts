// `dfx deploy` for the local IC: builds a canister declared in dfx.json with
// azle, embeds its Candid interface (`candid:service`, as dfx does), creates
// the canister on first deploy, installs it, or upgrades it when the Wasm
// changed, and records its id in `<dataDir>/canister_ids.json` in dfx's
// format (`{"forever": {"local": "<id>"}}`). The controller is a local
// deployer identity kept in the data directory (dfx's default identity).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { buildCanister, candidPath } from '../scripts/build.js';
import { writeFileDurable } from './durable-file.js';
import { loadOrCreateIdentityFile } from './identity-file.js';
import { addMetadata, type LocalIC } from './index.js';

export const CANISTER_IDS_FILE = 'canister_ids.json';
export const DEPLOYER_IDENTITY_FILE = 'deployer-identity.json';

/** dfx's canister_ids.json: canister name → network → id. */
export type CanisterIds = Record<string, Record<string, string>>;

export type DeployAction = 'installed' | 'upgraded' | 'unchanged';

export interface DeployOptions {
  ic: LocalIC;
  /** Where canister_ids.json lives (the app's data directory). */
  dataDir: string;
  /** Canister name in dfx.json. */
  name: string;
  /** The controller that creates, installs and upgrades. */
  controller: Principal;
  /** Network name in canister_ids.json (default `local`). */
  network?: string;
  /** Use this Wasm instead of building (tests). */
  wasm?: Uint8Array;
  /** Candid text to embed (default: the build's .did). */
  candid?: string;
  /** Init argument of a first install (Candid-encoded; default none). */
  installArg?: Uint8Array;
  log?: (line: string) => void;
}

export interface DeployResult {
  canisterId: Principal;
  action: DeployAction;
  moduleHash: string;
}

export function readCanisterIds(dataDir: string): CanisterIds {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dataDir, CANISTER_IDS_FILE), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as CanisterIds) : {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

function writeCanisterIds(dataDir: string, ids: CanisterIds): void {
  writeFileDurable(path.join(dataDir, CANISTER_IDS_FILE), `${JSON.stringify(ids, null, 2)}\n`);
}

/** The local deployer identity (controller of locally deployed canisters), created once. */
export function loadOrCreateDeployerIdentity(dir: string): Ed25519KeyIdentity {
  return loadOrCreateIdentityFile(path.join(dir, DEPLOYER_IDENTITY_FILE));
}

/** The Wasm as it will be installed: the built module with its Candid interface embedded. */
export async function installableWasm(name: string, opts: { wasm?: Uint8Array; candid?: string } = {}): Promise<Uint8Array> {
  const wasm = opts.wasm ?? new Uint8Array(await readFile(buildCanister(name)));
  const candid = opts.candid ?? (await readFile(candidPath(name), 'utf8'));
  return addMetadata(wasm, 'candid:service', candid);
}

export async function deployCanister(opts: DeployOptions): Promise<DeployResult> {
  const { ic, name, controller } = opts;
  const network = opts.network ?? 'local';
  const log = opts.log ?? (() => {});
  const wasm = await installableWasm(name, opts);
  const hash = createHash('sha256').update(wasm).digest('hex');

  const ids = readCanisterIds(opts.dataDir);
  const recorded = ids[name]?.[network];
  let canisterId: Principal;
  if (recorded && ic.canisterIds().some((c) => c.toText() === recorded)) {
    canisterId = Principal.fromText(recorded);
  } else {
    // A recorded id the IC does not know (its state was wiped) is created again, so the
    // app's configuration keeps working.
    canisterId = await ic.createCanister({
      controllers: [controller],
      ...(recorded ? { canisterId: Principal.fromText(recorded) } : {}),
    });
    log(`created canister ${name} ${canisterId.toText()}`);
  }
  if (recorded !== canisterId.toText()) {
    writeCanisterIds(opts.dataDir, { ...ids, [name]: { ...ids[name], [network]: canisterId.toText() } });
  }

  const installed = ic.moduleHash(canisterId);
  let action: DeployAction;
  if (!installed) {
    await ic.installCode(canisterId, wasm, { mode: 'install', sender: controller, ...(opts.installArg ? { arg: opts.installArg } : {}) });
    action = 'installed';
  } else if (Buffer.from(installed).toString('hex') !== hash) {
    await ic.installCode(canisterId, wasm, { mode: 'upgrade', sender: controller });
    action = 'upgraded';
  } else {
    action = 'unchanged';
  }
  log(`${action} ${name} ${canisterId.toText()} (module ${hash.slice(0, 12)}…)`);
  return { canisterId, action, moduleHash: hash };
}
