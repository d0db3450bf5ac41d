// The embedded local IC for `npm start` without IC_HOST: the runtime with its
// state in `<dataDir>/ic`, the index canister `forever_index` built and
// installed (or upgraded), its id in `<dataDir>/canister_ids.json`, the
// bucket module uploaded to it, its settings (bucket capacity, the server's
// identity as every bucket's presence verifier). The index creates the
// buckets (`forever` canisters) as users arrive.
import path from 'node:path';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { loadOrCreateDeployerIdentity } from '../../canister/local/deploy.js';
import { DEFAULT_BUCKET_CAPACITY, deployIndex, type BucketCapacity, type IndexDeployResult } from '../../canister/local/deploy-index.js';
import { createLocalIcHttp, type LocalIcHttp } from '../../canister/local/http/local-ic-http.js';
import { LocalIC } from '../../canister/local/index.js';
import { foreverIdlFactory } from './forever-idl.js';

export interface LocalNetwork {
  ic: LocalIC;
  http: LocalIcHttp;
  indexId: Principal;
  deploy: IndexDeployResult;
  close(): Promise<void>;
}

export interface LocalNetworkOptions {
  dataDir: string;
  /** Principal every bucket must accept for `verify_presence`. */
  presenceVerifier: Principal;
  /** Users and bytes per bucket (default generous: DEFAULT_BUCKET_CAPACITY). */
  bucketCapacity?: BucketCapacity;
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

/** Adds `verifier` to a bucket's presence verifiers (idempotent), calling as its controller. */
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
    const deploy = await deployIndex({
      ic,
      dataDir: opts.dataDir,
      controller,
      capacity: opts.bucketCapacity ?? DEFAULT_BUCKET_CAPACITY,
      presenceVerifiers: [opts.presenceVerifier],
      log: (line) => opts.log?.('LocalDeploy', { line }),
    });
    // Buckets created before the server's identity was in the index's settings
    // (an older data directory, or a new server identity) learn it here; the
    // deployer controls every bucket.
    let added = 0;
    for (const bucket of deploy.buckets) if (await registerPresenceVerifier(ic, bucket, controller, opts.presenceVerifier)) added++;
    opts.log?.('LocalIcReady', {
      index_id: deploy.indexId.toText(),
      deploy: deploy.action,
      bucket_module: deploy.bucketModule,
      buckets: deploy.buckets.map((b) => b.toText()),
      bucket_upgrade: deploy.upgrade ? Object.keys(deploy.upgrade.state)[0] : 'none',
      presence_verifier: opts.presenceVerifier.toText(),
      verifiers_added: added,
    });
    const http = await createLocalIcHttp({ runtime: ic, dataDir: icDir });
    return { ic, http, indexId: deploy.indexId, deploy, close: () => ic.close() };
  } catch (error) {
    await ic.close();
    throw error;
  }
}
