// `npm start`'s deploy of the bucket architecture on the local IC: the index
// canister `forever_index` (created, installed or upgraded like any canister:
// deploy.ts), the bucket module (`forever`, about 3.6 MB, over the 2 MiB
// message limit) uploaded to the index in chunks, only when its hash
// changed, and the index's settings (bucket capacity, the deployer as
// bucket controller, the presence verifiers every bucket gets). The index
// creates buckets itself, through the management canister, as users arrive.
// Buckets that exist already are upgraded to a new module by the index's
// rolling upgrade (`upgrade_buckets`: batches, resumable, stops at a failed
// bucket), which runs on the index's timers while the app serves.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { writeFileDurable } from './durable-file.js';
import { deployCanister, installableWasm, type DeployAction } from './deploy.js';
import type { LocalIC } from './index.js';
import { Settings, IndexError, UnitResult, BucketInfo } from './index-idl.js';

export const INDEX_NAME = 'forever_index';
export const BUCKET_NAME = 'forever';
/** What the index holds: `{ index, sha256 }` of the bucket module last uploaded to it. */
export const BUCKET_MODULE_FILE = 'bucket-module.json';
/** The index takes at most 1 MiB per chunk. */
const CHUNK = 1024 * 1024;

export interface BucketCapacity {
  users: number;
  bytes: bigint;
}

/** Generous defaults: one bucket holds many users; a test sets BUCKET_CAPACITY_USERS=1 to see a second one. */
export const DEFAULT_BUCKET_CAPACITY: BucketCapacity = { users: 10_000, bytes: 300n * 1024n ** 3n };

const UpgradeStatus = IDL.Record({
  total: IDL.Nat32,
  batch_size: IDL.Nat32,
  upgraded: IDL.Nat32,
  state: IDL.Variant({ Failed: IDL.Record({ bucket: IDL.Principal, reason: IDL.Text }), Done: IDL.Null, Running: IDL.Null }),
  module_sha256: IDL.Vec(IDL.Nat8),
});
export type UpgradeStatus = { total: number; batch_size: number; upgraded: number; state: { Failed: { bucket: Principal; reason: string } } | { Done: null } | { Running: null } };
/** Buckets upgraded at a time by the rolling upgrade. */
export const UPGRADE_BATCH = 4;

type Unit = { Ok: null } | { Err: Record<string, unknown> };

export interface IndexDeployOptions {
  ic: LocalIC;
  dataDir: string;
  controller: Principal;
  capacity: BucketCapacity;
  /** Principals every bucket accepts for `verify_presence` (the server's identity). */
  presenceVerifiers: Principal[];
  /** The bucket module to hold, as installed (default: `forever` built, with its Candid embedded). */
  bucketWasm?: Uint8Array;
  log?: (line: string) => void;
}

export interface IndexDeployResult {
  indexId: Principal;
  action: DeployAction;
  bucketModule: 'uploaded' | 'unchanged';
  bucketModuleHash: string;
  buckets: Principal[];
  /** The rolling upgrade started for buckets on an older module (null: none needed). */
  upgrade: UpgradeStatus | null;
}

async function update<T>(ic: LocalIC, id: Principal, caller: Principal, method: string, types: IDL.Type[], args: unknown[], ret: IDL.Type): Promise<T> {
  const r = await ic.update(id, method, new Uint8Array(IDL.encode(types, args)), { caller });
  if (r.status !== 'replied') throw new Error(`${method}: ${r.rejectMessage}`);
  return IDL.decode([ret], r.reply)[0] as T;
}

function unit(method: string, r: Unit): void {
  if ('Err' in r) throw new Error(`${method} refused: ${JSON.stringify(r.Err)}`);
}

function readRecorded(dataDir: string): { index: string; sha256: string } | null {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, BUCKET_MODULE_FILE), 'utf8')) as { index: string; sha256: string };
  } catch {
    return null;
  }
}

export async function upgradeStatus(ic: LocalIC, indexId: Principal, controller: Principal): Promise<UpgradeStatus | null> {
  const r = await ic.query(indexId, 'bucket_upgrade_status', new Uint8Array(IDL.encode([], [])), { caller: controller });
  if (r.status !== 'replied') throw new Error(`bucket_upgrade_status: ${r.rejectMessage}`);
  const v = IDL.decode([IDL.Opt(UpgradeStatus)], r.reply)[0] as unknown as [] | [UpgradeStatus];
  return v[0] ?? null;
}

export async function listBuckets(ic: LocalIC, indexId: Principal, controller: Principal): Promise<{ id: Principal; users: number; bytes: bigint }[]> {
  const r = await ic.query(indexId, 'list_buckets', new Uint8Array(IDL.encode([], [])), { caller: controller });
  if (r.status !== 'replied') throw new Error(`list_buckets: ${r.rejectMessage}`);
  return IDL.decode([IDL.Vec(BucketInfo)], r.reply)[0] as unknown as { id: Principal; users: number; bytes: bigint }[];
}

export async function deployIndex(opts: IndexDeployOptions): Promise<IndexDeployResult> {
  const { ic, controller } = opts;
  const log = opts.log ?? (() => {});
  const settings = {
    capacity_users: opts.capacity.users,
    capacity_bytes: opts.capacity.bytes,
    // The deployer controls every bucket too, so an operator can always reach them.
    bucket_controllers: [controller],
    bucket_cycles: 0n,
    presence_verifiers: opts.presenceVerifiers,
  };
  const index = await deployCanister({
    ic,
    dataDir: opts.dataDir,
    name: INDEX_NAME,
    controller,
    installArg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[settings]])),
    log,
  });
  const indexId = index.canisterId;
  // Settings follow the configuration at every start (capacity may have changed).
  unit('set_settings', await update<Unit>(ic, indexId, controller, 'set_settings', [Settings], [settings], UnitResult));

  const bucketWasm = opts.bucketWasm ?? (await installableWasm(BUCKET_NAME));
  const sha256 = createHash('sha256').update(bucketWasm).digest();
  const hex = sha256.toString('hex');
  const recorded = readRecorded(opts.dataDir);
  let bucketModule: IndexDeployResult['bucketModule'] = 'unchanged';
  if (index.action === 'installed' || recorded?.index !== indexId.toText() || recorded.sha256 !== hex) {
    const count = Math.ceil(bucketWasm.length / CHUNK);
    for (let i = 0; i < count; i++) {
      const chunk = bucketWasm.subarray(i * CHUNK, (i + 1) * CHUNK);
      unit('upload_bucket_module_chunk', await update<Unit>(ic, indexId, controller, 'upload_bucket_module_chunk', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [i, chunk], UnitResult));
    }
    unit('set_bucket_module', await update<Unit>(ic, indexId, controller, 'set_bucket_module', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [count, sha256], UnitResult));
    // Recorded once the index holds the whole module: an interrupted upload is redone at the next start.
    writeFileDurable(path.join(opts.dataDir, BUCKET_MODULE_FILE), `${JSON.stringify({ index: indexId.toText(), sha256: hex })}\n`);
    bucketModule = 'uploaded';
    log(`uploaded bucket module to ${INDEX_NAME} in ${count} chunks (module ${hex.slice(0, 12)}…)`);
  }

  const buckets = (await listBuckets(ic, indexId, controller)).map((b) => b.id);
  // Buckets on another module (this one was just uploaded, or an earlier rollout stopped):
  // the index upgrades them in batches; a failed bucket stops it and keeps its old module.
  let upgrade: UpgradeStatus | null = null;
  const stale = buckets.filter((b) => {
    const installed = ic.moduleHash(b);
    return installed !== undefined && Buffer.from(installed).toString('hex') !== hex;
  });
  if (stale.length > 0) {
    const r = await update<{ Ok: UpgradeStatus } | { Err: Record<string, unknown> }>(ic, indexId, controller, 'upgrade_buckets', [IDL.Nat32], [UPGRADE_BATCH], IDL.Variant({ Ok: UpgradeStatus, Err: IndexError }));
    if ('Err' in r) throw new Error(`upgrade_buckets refused: ${JSON.stringify(r.Err)}`);
    upgrade = r.Ok;
    log(`rolling upgrade of ${stale.length} of ${buckets.length} buckets to module ${hex.slice(0, 12)}… started (${UPGRADE_BATCH} at a time)`);
  }
  return { indexId, action: index.action, bucketModule, bucketModuleHash: hex, buckets, upgrade };
}
