// The embedded local IC for `npm start` without IC_HOST: the runtime with its
// state in `<dataDir>/ic`, the `forever` canister built and installed (or
// upgraded), its id in `<dataDir>/canister_ids.json`, and the server's
// identity registered as a presence verifier by the canister's controller.
import path from 'node:path';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { deployCanister, loadOrCreateDeployerIdentity, type DeployResult } from '../../canister/local/deploy.js';
import { createLocalIcHttp, type LocalIcHttp } from '../../canister/local/http/local-ic-http.js';
import { LocalIC } from '../../canister/local/index.js';
import { foreverIdlFactory } from './forever-idl.js';

export interface LocalNetwork {
  ic: LocalIC;
  http: LocalIcHttp;
  canisterId: Principal;
  deploy: DeployResult;
  close(): Promise<void>;
}

export interface LocalNetworkOptions {
  dataDir: string;
  /** Principal the canister must accept for `verify_presence`. */
  presenceVerifier: Principal;
  log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Debug output of canisters. */
  canisterLog?: (canisterId: string, line: string) => void;
  /** 'worker': canisters execute on a worker thread, so this process keeps serving meanwhile (npm start). */
  thread?: 'main' | 'worker';
}

function method(name: string): IDL.FuncClass {
  const service = foreverIdlFactory({ IDL }) as IDL.ServiceClass;
  const f = service._fields.find(([n]) => n === name);
  if (!f) throw new Error(`forever.did has no method ${name}`);
  return f[1];
}

type PrincipalsResult = { Ok: Principal[] } | { Err: Record<string, unknown> };

/** Adds `verifier` to the canister's presence verifiers (idempotent), calling as the controller. */
export async function registerPresenceVerifier(ic: LocalIC, canisterId: Principal, controller: Principal, verifier: Principal): Promise<boolean> {
  const get = method('get_presence_verifiers');
  const current = await ic.query(canisterId, 'get_presence_verifiers', new Uint8Array(IDL.encode(get.argTypes, [])), { caller: controller });
  if (current.status !== 'replied') throw new Error(`get_presence_verifiers: ${current.rejectMessage}`);
  const r = IDL.decode(get.retTypes, current.reply)[0] as unknown as PrincipalsResult;
  if ('Err' in r) throw new Error(`get_presence_verifiers refused: ${Object.keys(r.Err)[0]}`);
  if (r.Ok.some((p) => p.toText() === verifier.toText())) return false;
  const set = method('set_presence_verifiers');
  const res = await ic.update(canisterId, 'set_presence_verifiers', new Uint8Array(IDL.encode(set.argTypes, [[...r.Ok, verifier]])), {
    caller: controller,
  });
  if (res.status !== 'replied') throw new Error(`set_presence_verifiers: ${res.rejectMessage}`);
  const out = IDL.decode(set.retTypes, res.reply)[0] as unknown as PrincipalsResult;
  if ('Err' in out) throw new Error(`set_presence_verifiers refused: ${Object.keys(out.Err)[0]}`);
  return true;
}

export async function startLocalNetwork(opts: LocalNetworkOptions): Promise<LocalNetwork> {
  const icDir = path.join(opts.dataDir, 'ic');
  const ic = await LocalIC.create({ dataDir: icDir, log: opts.canisterLog ?? (() => {}), thread: opts.thread });
  try {
    const controller = loadOrCreateDeployerIdentity(icDir).getPrincipal();
    const deploy = await deployCanister({
      ic,
      dataDir: opts.dataDir,
      name: 'forever',
      controller,
      log: (line) => opts.log?.('LocalDeploy', { line }),
    });
    const added = await registerPresenceVerifier(ic, deploy.canisterId, controller, opts.presenceVerifier);
    opts.log?.('LocalIcReady', {
      canister_id: deploy.canisterId.toText(),
      deploy: deploy.action,
      presence_verifier: opts.presenceVerifier.toText(),
      verifier_added: added,
    });
    const http = await createLocalIcHttp({ runtime: ic, dataDir: icDir });
    return { ic, http, canisterId: deploy.canisterId, deploy, close: () => ic.close() };
  } catch (error) {
    await ic.close();
    throw error;
  }
}
