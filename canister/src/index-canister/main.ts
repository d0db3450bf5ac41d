// The index canister `forever_index`: maps each principal to its storage
// bucket (a `forever` canister) and places new users in a bucket with room,
// creating a bucket through the management canister when none has: the
// bucket module the index holds (uploaded by a controller in chunks; it is
// over the 2 MiB message limit) goes in with upload_chunk and
// install_chunked_code.
//
// State is in stable maps, so it survives upgrades. A bucket being created
// is recorded as pending as soon as create_canister answered, so a failed
// install is resumed with the same canister instead of leaking it.
//
// Also: the bucket admits the user (admit_owner) before assign_bucket
// answers; the assignments are certified (assignment-tree.ts) for
// my_bucket_certified; a timer learns each bucket's stored bytes so the
// byte capacity places users; and a controller rolls a new bucket module out
// to every bucket in batches (rollout.ts), resumable from stable memory.
import {
  call,
  canisterSelf,
  certifiedDataSet,
  dataCertificate,
  IDL,
  init,
  isController,
  msgCaller,
  postUpgrade,
  Principal,
  query,
  setTimer,
  setTimerInterval,
  StableBTreeMap,
  update,
} from 'azle';
import { decodeGroup, encodeGroup, rootHash, setEntry, type TreeStore, witness } from './assignment-tree';
import { encodeCbor } from './hash-tree';
import { bucketWithRoom, type BucketRecord } from './placement';
import { afterBatch, nextBatch, type Rollout, startRollout } from './rollout';

const text = {
  toBytes: (s: string): Uint8Array => new TextEncoder().encode(s),
  fromBytes: (b: Uint8Array): string => new TextDecoder().decode(b),
};
const raw = { toBytes: (b: Uint8Array): Uint8Array => b, fromBytes: (b: Uint8Array): Uint8Array => b };
const u32 = {
  toBytes: (n: number): Uint8Array => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]),
  fromBytes: (b: Uint8Array): number => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0,
};

/** principal text → bucket id text */
const assignments = new StableBTreeMap<string, string>(0, text, text);
/** bucket id text → JSON {users, bytes} */
const buckets = new StableBTreeMap<string, string>(1, text, text);
/** index → chunk of the bucket module */
const moduleChunks = new StableBTreeMap<number, Uint8Array>(2, u32, raw);
/** 'settings' | 'module' | 'pending' | 'order' → JSON */
const meta = new StableBTreeMap<string, string>(3, text, text);
/**
 * principal text → bucket id text: assigned, but the bucket has not yet
 * confirmed admit_owner. The next assign_bucket of that principal finishes
 * it; until then my_bucket answers none (the bucket would refuse the caller).
 */
const unadmitted = new StableBTreeMap<string, string>(4, text, text);
/** The certified assignment tree (assignment-tree.ts): group → entries, fork node → hash. */
const treeGroups = new StableBTreeMap<number, Uint8Array>(5, u32, raw);
const treeNodes = new StableBTreeMap<number, Uint8Array>(6, u32, raw);

const treeStore: TreeStore = {
  getGroup: (g) => decodeGroup(treeGroups.get(g)),
  setGroup: (g, entries) => {
    if (entries.length) treeGroups.insert(g, encodeGroup(entries));
    else treeGroups.remove(g);
  },
  getNode: (n) => treeNodes.get(n),
  setNode: (n, h) => {
    if (h) treeNodes.insert(n, h);
    else treeNodes.remove(n);
  },
};

/**
 * The one place an admitted assignment changes: the map my_bucket reads and
 * the certified tree (its root is the certified data). `bucket` undefined
 * removes it. (A move switches a user with this, after the copy.)
 */
function certifyAssignment(user: Principal, bucket: string | undefined): void {
  certifiedDataSet(setEntry(treeStore, user.toUint8Array(), bucket === undefined ? undefined : Principal.fromText(bucket).toUint8Array()));
}

/** An index upgraded from a version without the tree builds it once from the admitted assignments. */
function ensureTree(): void {
  if (meta.get('tree') !== 'v1') {
    for (const [user, bucket] of assignments.items()) {
      if (!unadmitted.containsKey(user)) setEntry(treeStore, Principal.fromText(user).toUint8Array(), Principal.fromText(bucket).toUint8Array());
    }
    meta.insert('tree', 'v1');
  }
  certifiedDataSet(rootHash(treeStore));
}

const MAX_CHUNK = 1024 * 1024;
const MANAGEMENT = Principal.fromText('aaaaa-aa');

const Settings = IDL.Record({
  capacity_users: IDL.Nat32,
  capacity_bytes: IDL.Nat64,
  /** Extra controllers of every bucket besides the index (the operator). */
  bucket_controllers: IDL.Vec(IDL.Principal),
  /** Cycles sent with create_canister (none needed locally). */
  bucket_cycles: IDL.Nat,
  /** Passed to every bucket the index creates (the server's identity), so verify_presence works there. */
  presence_verifiers: IDL.Vec(IDL.Principal),
});
type Settings = {
  capacity_users: number;
  capacity_bytes: bigint;
  bucket_controllers: Principal[];
  bucket_cycles: bigint;
  presence_verifiers: Principal[];
};

const IndexError = IDL.Variant({
  Unauthorized: IDL.Null,
  InvalidArgument: IDL.Text,
  NoBucketModule: IDL.Null,
  Busy: IDL.Null,
  CreateFailed: IDL.Text,
  /** The bucket did not confirm the caller's admission (stopped, upgrading): ask again. */
  AdmitFailed: IDL.Text,
});
type IndexError =
  | { Unauthorized: null }
  | { InvalidArgument: string }
  | { NoBucketModule: null }
  | { Busy: null }
  | { CreateFailed: string }
  | { AdmitFailed: string };

const PrincipalResult = IDL.Variant({ Ok: IDL.Principal, Err: IndexError });
const CertifiedBucket = IDL.Record({ bucket: IDL.Opt(IDL.Principal), certificate: IDL.Vec(IDL.Nat8), tree: IDL.Vec(IDL.Nat8) });
const UpgradeState = IDL.Variant({ Running: IDL.Null, Done: IDL.Null, Failed: IDL.Record({ bucket: IDL.Principal, reason: IDL.Text }) });
const UpgradeStatus = IDL.Record({
  module_sha256: IDL.Vec(IDL.Nat8),
  batch_size: IDL.Nat32,
  /** Buckets running the module. */
  upgraded: IDL.Nat32,
  total: IDL.Nat32,
  state: UpgradeState,
});
type UpgradeStatus = {
  module_sha256: Uint8Array;
  batch_size: number;
  upgraded: number;
  total: number;
  state: { Running: null } | { Done: null } | { Failed: { bucket: Principal; reason: string } };
};
const UpgradeResult = IDL.Variant({ Ok: UpgradeStatus, Err: IndexError });
const UnitResult = IDL.Variant({ Ok: IDL.Null, Err: IndexError });
const BucketInfo = IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 });

// The management canister's Candid (IC interface specification, ic.did).
const CanisterSettings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
});
const CreateCanisterArgs = IDL.Record({ settings: IDL.Opt(CanisterSettings), sender_canister_version: IDL.Opt(IDL.Nat64) });
const CreateCanisterResult = IDL.Record({ canister_id: IDL.Principal });
const ChunkHash = IDL.Record({ hash: IDL.Vec(IDL.Nat8) });
const UploadChunkArgs = IDL.Record({ canister_id: IDL.Principal, chunk: IDL.Vec(IDL.Nat8) });
const InstallChunkedCodeArgs = IDL.Record({
  mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Opt(IDL.Record({ skip_pre_upgrade: IDL.Opt(IDL.Bool) })) }),
  target_canister: IDL.Principal,
  store_canister: IDL.Opt(IDL.Principal),
  chunk_hashes_list: IDL.Vec(ChunkHash),
  wasm_module_hash: IDL.Vec(IDL.Nat8),
  arg: IDL.Vec(IDL.Nat8),
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const CanisterIdRecord = IDL.Record({ canister_id: IDL.Principal });
// The bucket's get_stats answer, as far as the index reads it (Candid ignores the other fields).
const BucketStatsResult = IDL.Variant({ Ok: IDL.Record({ stored_bytes: IDL.Nat64 }), Err: IDL.Reserved });

// The bucket's init argument (canister/src/candid.ts `BucketInit`): the index it answers to and the presence verifiers.
const BucketInit = IDL.Record({ index: IDL.Opt(IDL.Principal), presence_verifiers: IDL.Vec(IDL.Principal) });
const BucketUnitResult = IDL.Variant({ Ok: IDL.Null, Err: IDL.Reserved });

function bucketInitArg(s: Settings): Uint8Array {
  return new Uint8Array(IDL.encode([IDL.Opt(BucketInit)], [[{ index: [canisterSelf()], presence_verifiers: s.presence_verifiers }]]));
}

function settings(): Settings {
  const s = JSON.parse(meta.get('settings') ?? 'null') as
    | { capacity_users: number; capacity_bytes: string; bucket_controllers: string[]; bucket_cycles: string; presence_verifiers?: string[] }
    | null;
  if (!s) return { capacity_users: 1000, capacity_bytes: 100n * 1024n ** 3n, bucket_controllers: [], bucket_cycles: 0n, presence_verifiers: [] };
  return {
    capacity_users: s.capacity_users,
    capacity_bytes: BigInt(s.capacity_bytes),
    bucket_controllers: s.bucket_controllers.map((p) => Principal.fromText(p)),
    bucket_cycles: BigInt(s.bucket_cycles),
    // Settings stored before presence verifiers existed have none.
    presence_verifiers: (s.presence_verifiers ?? []).map((p) => Principal.fromText(p)),
  };
}

function saveSettings(s: Settings): void {
  meta.insert(
    'settings',
    JSON.stringify({
      capacity_users: s.capacity_users,
      capacity_bytes: s.capacity_bytes.toString(),
      bucket_controllers: s.bucket_controllers.map((p) => p.toText()),
      bucket_cycles: s.bucket_cycles.toString(),
      presence_verifiers: s.presence_verifiers.map((p) => p.toText()),
    }),
  );
}

interface StoredBucket extends BucketRecord {
  /** SHA-256 (hex) of the module the index last installed there. */
  module?: string;
}

function bucketRecord(id: string): StoredBucket {
  const r = JSON.parse(buckets.get(id) ?? '{"users":0,"bytes":"0"}') as { users: number; bytes: string; module?: string };
  return { id, users: r.users, bytes: BigInt(r.bytes), module: r.module };
}

function bucketRecords(): StoredBucket[] {
  const order = JSON.parse(meta.get('order') ?? '[]') as string[];
  return order.map(bucketRecord);
}

function saveBucket(b: StoredBucket): void {
  buckets.insert(b.id, JSON.stringify({ users: b.users, bytes: b.bytes.toString(), module: b.module }));
}

function requireController(): void {
  if (!isController(msgCaller())) throw new Refused({ Unauthorized: null });
}

class Refused extends Error {
  constructor(readonly error: IndexError) {
    super('refused');
  }
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Only one bucket creation at a time: concurrent newcomers are told to retry. */
let creating = false;

/** How often the index asks every bucket for its stored bytes. */
const BYTES_INTERVAL_SECONDS = 60;
/** Pause between two batches of a rolling upgrade (buckets come back before the next ones stop). */
const BATCH_PAUSE_SECONDS = 1;

function startTimers(): void {
  setTimerInterval(BYTES_INTERVAL_SECONDS, refreshBytes);
  const r = rollout();
  if (r?.state === 'running') setTimer(0, rolloutStep);
}

export default class {
  @init([IDL.Opt(Settings)])
  init(s: [] | [Settings]): void {
    if (s[0]) saveSettings(s[0]);
    ensureTree();
    startTimers();
  }

  /** Timers do not survive an upgrade: the byte refresh and a running rollout start again. Settings given replace the stored ones. */
  @postUpgrade([IDL.Opt(Settings)])
  postUpgrade(s: [] | [Settings]): void {
    if (s[0]) saveSettings(s[0]);
    ensureTree();
    startTimers();
  }

  /** Controller-only: one chunk (at most 1 MiB) of the bucket module, by index. */
  @update([IDL.Nat32, IDL.Vec(IDL.Nat8)], UnitResult)
  upload_bucket_module_chunk(index: number, chunk: Uint8Array): { Ok: null } | { Err: IndexError } {
    try {
      requireController();
      if (chunk.length === 0 || chunk.length > MAX_CHUNK) throw new Refused({ InvalidArgument: 'a chunk is 1 byte to 1 MiB' });
      if (index > 99) throw new Refused({ InvalidArgument: 'at most 100 chunks' });
      moduleChunks.insert(index, chunk);
      return { Ok: null };
    } catch (e) {
      if (e instanceof Refused) return { Err: e.error };
      throw e;
    }
  }

  /**
   * Controller-only: the module is chunks 0..count-1 with this SHA-256 (the
   * management canister checks it when installing).
   */
  @update([IDL.Nat32, IDL.Vec(IDL.Nat8)], UnitResult)
  set_bucket_module(count: number, sha256: Uint8Array): { Ok: null } | { Err: IndexError } {
    try {
      requireController();
      if (sha256.length !== 32) throw new Refused({ InvalidArgument: 'sha256 is 32 bytes' });
      for (let i = 0; i < count; i++) if (!moduleChunks.containsKey(i)) throw new Refused({ InvalidArgument: `chunk ${i} is missing` });
      meta.insert('module', JSON.stringify({ count, sha256: bytesToHex(sha256) }));
      return { Ok: null };
    } catch (e) {
      if (e instanceof Refused) return { Err: e.error };
      throw e;
    }
  }

  /** Controller-only: the placement setting (tests make it tiny). */
  @update([Settings], UnitResult)
  set_settings(s: Settings): { Ok: null } | { Err: IndexError } {
    try {
      requireController();
      if (s.capacity_users < 1) throw new Refused({ InvalidArgument: 'capacity_users is at least 1' });
      if (s.presence_verifiers.length > 32) throw new Refused({ InvalidArgument: 'at most 32 presence verifiers' });
      if (s.presence_verifiers.some((p) => p.isAnonymous())) throw new Refused({ InvalidArgument: 'the anonymous principal cannot be a presence verifier' });
      const before = settings().presence_verifiers.map((p) => p.toText()).join();
      saveSettings(s);
      // Existing buckets learn new verifiers too (new ones get them in their init argument).
      if (s.presence_verifiers.map((p) => p.toText()).join() !== before) setTimer(0, pushVerifiers);
      return { Ok: null };
    } catch (e) {
      if (e instanceof Refused) return { Err: e.error };
      throw e;
    }
  }

  /** The caller's bucket, if it has one. */
  @query([], IDL.Opt(IDL.Principal))
  my_bucket(): [Principal] | [] {
    const key = msgCaller().toText();
    const b = assignments.get(key);
    return b === undefined || unadmitted.containsKey(key) ? [] : [Principal.fromText(b)];
  }

  /**
   * The caller's bucket, certified: `tree` (CBOR) is a witness of the
   * index's assignment tree whose root hash is the certified data in
   * `certificate`; the path ["bucket", caller principal bytes] leads to a leaf
   * holding the bucket's principal bytes (not found: no bucket yet).
   * `certificate` is empty when the call is not a query (no certificate there).
   */
  @query([], CertifiedBucket)
  my_bucket_certified(): { bucket: [Principal] | []; certificate: Uint8Array; tree: Uint8Array } {
    const caller = msgCaller();
    const bytes = caller.toUint8Array();
    if (bytes.length < 2) return { bucket: [], certificate: dataCertificate() ?? new Uint8Array(0), tree: encodeCbor(witness(treeStore, new Uint8Array([0, 0])).tree) };
    const w = witness(treeStore, bytes);
    return {
      bucket: w.bucket ? [Principal.fromUint8Array(w.bucket)] : [],
      certificate: dataCertificate() ?? new Uint8Array(0),
      tree: encodeCbor(w.tree),
    };
  }

  /**
   * A principal's bucket, for the server (a presence verifier) and the
   * controllers; a principal may ask about itself. Anyone else gets none:
   * who uses the product is not public.
   */
  @query([IDL.Principal], IDL.Opt(IDL.Principal))
  lookup_bucket(user: Principal): [Principal] | [] {
    const caller = msgCaller();
    const allowed =
      caller.toText() === user.toText() || isController(caller) || settings().presence_verifiers.some((v) => v.toText() === caller.toText());
    if (!allowed) return [];
    const key = user.toText();
    const b = assignments.get(key);
    return b === undefined || unadmitted.containsKey(key) ? [] : [Principal.fromText(b)];
  }

  /**
   * Controller-only: upgrade every bucket to the bucket module the index
   * holds (set_bucket_module), `batch_size` buckets at a time: stop,
   * install_chunked_code (upgrade), start. Runs on timers; progress is in
   * stable memory, so it resumes after an index upgrade, and calling this
   * again after a failure goes on from the bucket that failed. A failed
   * bucket upgrade stops the rollout; that bucket keeps its old module and
   * runs, the buckets after it are not touched.
   */
  @update([IDL.Nat32], UpgradeResult)
  upgrade_buckets(batchSize: number): { Ok: UpgradeStatus } | { Err: IndexError } {
    try {
      requireController();
      if (batchSize < 1 || batchSize > 100) throw new Refused({ InvalidArgument: 'batch_size is 1 to 100' });
      const module = currentModule();
      if (!module) throw new Refused({ NoBucketModule: null });
      const r = startRollout(rollout(), module.sha256, batchSize);
      saveRollout(r);
      if (!stepping) setTimer(0, rolloutStep);
      return { Ok: status(r) };
    } catch (e) {
      if (e instanceof Refused) return { Err: e.error };
      throw e;
    }
  }

  /** Controller-only: the last rollout's progress. */
  @query([], IDL.Opt(UpgradeStatus))
  bucket_upgrade_status(): [UpgradeStatus] | [] {
    if (!isController(msgCaller())) return [];
    const r = rollout();
    return r ? [status(r)] : [];
  }

  /** Controller-only: ask every bucket for its stored bytes now (the timer does so every minute). */
  @update([], UnitResult)
  async refresh_bucket_bytes(): Promise<{ Ok: null } | { Err: IndexError }> {
    if (!isController(msgCaller())) return { Err: { Unauthorized: null } };
    await refreshBytes();
    return { Ok: null };
  }

  /** The caller's bucket, assigning one (and creating a bucket) if it has none. */
  @update([], PrincipalResult)
  async assign_bucket(): Promise<{ Ok: Principal } | { Err: IndexError }> {
    const caller = msgCaller();
    if (caller.isAnonymous()) return { Err: { Unauthorized: null } };
    // Only the anonymous principal and the management canister are shorter; neither owns data.
    if (caller.toUint8Array().length < 2) return { Err: { Unauthorized: null } };
    const key = caller.toText();
    const existing = assignments.get(key);
    if (existing !== undefined) return admitted(caller, existing);
    const s = settings();
    let target = bucketWithRoom(bucketRecords(), { users: s.capacity_users, bytes: s.capacity_bytes });
    if (!target) {
      if (creating) return { Err: { Busy: null } };
      creating = true;
      try {
        target = await createBucket(s);
      } catch (e) {
        return { Err: e instanceof Refused ? e.error : { CreateFailed: describe(e) } };
      } finally {
        creating = false;
      }
      // Another newcomer may have been placed while this one waited.
      const again = assignments.get(key);
      if (again !== undefined) return admitted(caller, again);
      target = bucketRecords().find((b) => b.id === target!.id)!;
    }
    // Recorded before the bucket is asked: a failed admit_owner is finished by the next assign_bucket.
    assignments.insert(key, target.id);
    unadmitted.insert(key, target.id);
    saveBucket({ ...target, users: target.users + 1 });
    return admitted(caller, target.id);
  }

  /** Controller-only: every bucket with its user count. */
  @query([], IDL.Vec(BucketInfo))
  list_buckets(): { id: Principal; users: number; bytes: bigint }[] {
    if (!isController(msgCaller())) return [];
    return bucketRecords().map((b) => ({ id: Principal.fromText(b.id), users: b.users, bytes: b.bytes }));
  }
}

/**
 * The caller's assignment once its bucket has admitted it: admit_owner on
 * the bucket (idempotent there) while the assignment is still unconfirmed.
 */
async function admitted(caller: Principal, bucket: string): Promise<{ Ok: Principal } | { Err: IndexError }> {
  const key = caller.toText();
  if (!unadmitted.containsKey(key)) return { Ok: Principal.fromText(bucket) };
  try {
    const r = await call<[Principal], { Ok: null } | { Err: unknown }>(Principal.fromText(bucket), 'admit_owner', {
      paramIdlTypes: [IDL.Principal],
      returnIdlType: BucketUnitResult,
      args: [caller],
    });
    if ('Err' in r) return { Err: { AdmitFailed: `the bucket refused: ${JSON.stringify(r.Err)}` } };
  } catch (e) {
    return { Err: { AdmitFailed: describe(e) } };
  }
  // A move may have switched the assignment meanwhile: only the confirmed one is cleared.
  if (unadmitted.get(key) === bucket) {
    unadmitted.remove(key);
    certifyAssignment(caller, bucket);
  }
  return { Ok: Principal.fromText(bucket) };
}

// ------------------------------------------------------- bytes per bucket

let refreshing = false;

/** Asks every bucket (the index is a controller: get_stats) for its stored bytes, 10 at a time. */
async function refreshBytes(): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  try {
    const ids = bucketRecords().map((b) => b.id);
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id) => {
          try {
            const r = await call<[], { Ok: { stored_bytes: bigint } } | { Err: unknown }>(Principal.fromText(id), 'get_stats', {
              returnIdlType: BucketStatsResult,
            });
            // Re-read: assignments may have changed the record while the call was out.
            if ('Ok' in r) saveBucket({ ...bucketRecord(id), bytes: r.Ok.stored_bytes });
          } catch {
            // A stopped or upgrading bucket keeps its last figure until the next round.
          }
        }),
      );
    }
  } finally {
    refreshing = false;
  }
}

/**
 * The presence verifiers setting, sent to every bucket (set_presence_verifiers;
 * the index is their controller), 10 at a time. Best effort: a bucket that
 * misses it (stopped) gets it with its next upgrade's init argument.
 */
async function pushVerifiers(): Promise<void> {
  const verifiers = settings().presence_verifiers;
  const ids = bucketRecords().map((b) => b.id);
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(
      ids.slice(i, i + 10).map(async (id) => {
        try {
          await call(Principal.fromText(id), 'set_presence_verifiers', {
            paramIdlTypes: [IDL.Vec(IDL.Principal)],
            returnIdlType: IDL.Variant({ Ok: IDL.Vec(IDL.Principal), Err: IDL.Reserved }),
            args: [verifiers],
          });
        } catch {
          // See above: the next upgrade carries the setting.
        }
      }),
    );
  }
}

// --------------------------------------------------------- rolling upgrade

function currentModule(): { count: number; sha256: string } | null {
  return JSON.parse(meta.get('module') ?? 'null') as { count: number; sha256: string } | null;
}

function rollout(): Rollout | undefined {
  const r = meta.get('rollout');
  return r === undefined ? undefined : (JSON.parse(r) as Rollout);
}

function saveRollout(r: Rollout): void {
  meta.insert('rollout', JSON.stringify(r));
}

function status(r: Rollout): UpgradeStatus {
  const all = bucketRecords();
  return {
    module_sha256: hexToBytes(r.sha256),
    batch_size: r.batchSize,
    upgraded: all.filter((b) => b.module === r.sha256).length,
    total: all.length,
    state:
      r.state === 'running'
        ? { Running: null }
        : r.state === 'done'
          ? { Done: null }
          : { Failed: { bucket: Principal.fromText(r.failed!.bucket), reason: r.failed!.reason } },
  };
}

/** Heap only: one batch at a time (an upgrade of the index restarts it from the record). */
let stepping = false;

async function rolloutStep(): Promise<void> {
  const r = rollout();
  if (!r || r.state !== 'running' || stepping) return;
  const module = currentModule();
  if (!module || module.sha256 !== r.sha256) {
    // The module was replaced mid-rollout: stop; upgrade_buckets starts the new one.
    saveRollout({ ...r, state: 'failed', failed: { bucket: canisterSelf().toText(), reason: 'the bucket module changed during the rollout' } });
    return;
  }
  stepping = true;
  let after: Rollout;
  try {
    const order = bucketRecords();
    const batch = nextBatch(r, order);
    const results = await Promise.all(batch.map((b) => upgradeBucket(b.id, module)));
    const failures = results.flatMap((reason, i) => (reason === undefined ? [] : [{ bucket: batch[i].id, reason }]));
    after = afterBatch(r, order.length, failures);
    // A rollout replaced by upgrade_buckets meanwhile (another batch size) keeps its own record.
    const now = rollout();
    if (now && now.sha256 === r.sha256 && now.next === r.next) saveRollout({ ...after, batchSize: now.batchSize });
  } finally {
    stepping = false;
  }
  if (after.state === 'running') setTimer(BATCH_PAUSE_SECONDS, rolloutStep);
}

/**
 * One bucket: stop, upload the module's chunks to its chunk store,
 * install_chunked_code (upgrade), start, clear the chunk store. Undefined
 * when it runs the new module; otherwise why not (it was started again on
 * its old module: a trapping post_upgrade leaves the old one installed).
 * Every step may be repeated, so a step interrupted by an index upgrade is
 * simply done again.
 */
async function upgradeBucket(id: string, module: { count: number; sha256: string }): Promise<string | undefined> {
  const bucket = Principal.fromText(id);
  const target = { paramIdlTypes: [CanisterIdRecord], args: [{ canister_id: bucket }] };
  let failure: string | undefined;
  try {
    await call(MANAGEMENT, 'stop_canister', target);
    const hashes: { hash: Uint8Array }[] = [];
    for (let i = 0; i < module.count; i++) {
      const r = await call<[unknown], { hash: Uint8Array }>(MANAGEMENT, 'upload_chunk', {
        paramIdlTypes: [UploadChunkArgs],
        returnIdlType: ChunkHash,
        args: [{ canister_id: bucket, chunk: moduleChunks.get(i)! }],
      });
      hashes.push({ hash: r.hash });
    }
    await call(MANAGEMENT, 'install_chunked_code', {
      paramIdlTypes: [InstallChunkedCodeArgs],
      args: [
        {
          mode: { upgrade: [] },
          target_canister: bucket,
          store_canister: [],
          chunk_hashes_list: hashes,
          wasm_module_hash: hexToBytes(module.sha256),
          arg: bucketInitArg(settings()),
          sender_canister_version: [],
        },
      ],
    });
    saveBucket({ ...bucketRecord(id), module: module.sha256 });
  } catch (e) {
    failure = describe(e);
  }
  try {
    await call(MANAGEMENT, 'start_canister', target);
    await call(MANAGEMENT, 'clear_chunk_store', target);
  } catch (e) {
    failure ??= `restarting: ${describe(e)}`;
  }
  return failure;
}

function describe(e: unknown): string {
  const r = e as { rejectCode?: number; rejectMessage?: string; message?: string };
  if (r.rejectMessage !== undefined) return `reject ${r.rejectCode}: ${r.rejectMessage}`;
  return r.message ?? String(e);
}

/**
 * create_canister (controllers: the index and the operator), upload the
 * module's chunks to the new canister's chunk store, install_chunked_code,
 * clear the chunk store; then the bucket is listed. A canister created by an
 * attempt that failed later is reused by the next attempt.
 */
async function createBucket(s: Settings): Promise<StoredBucket> {
  const module = JSON.parse(meta.get('module') ?? 'null') as { count: number; sha256: string } | null;
  if (!module) throw new Refused({ NoBucketModule: null });
  let pending = meta.get('pending');
  if (pending === undefined) {
    const created = await call<[unknown], { canister_id: Principal }>(MANAGEMENT, 'create_canister', {
      paramIdlTypes: [CreateCanisterArgs],
      returnIdlType: CreateCanisterResult,
      args: [
        {
          settings: [
            {
              controllers: [[canisterSelf(), ...s.bucket_controllers]],
              compute_allocation: [],
              memory_allocation: [],
              freezing_threshold: [],
            },
          ],
          sender_canister_version: [],
        },
      ],
      cycles: s.bucket_cycles,
    });
    pending = created.canister_id.toText();
    meta.insert('pending', pending);
  }
  const bucket = Principal.fromText(pending);
  const hashes: { hash: Uint8Array }[] = [];
  for (let i = 0; i < module.count; i++) {
    const chunk = moduleChunks.get(i)!;
    const r = await call<[unknown], { hash: Uint8Array }>(MANAGEMENT, 'upload_chunk', {
      paramIdlTypes: [UploadChunkArgs],
      returnIdlType: ChunkHash,
      args: [{ canister_id: bucket, chunk }],
    });
    hashes.push({ hash: r.hash });
  }
  await call(MANAGEMENT, 'install_chunked_code', {
    paramIdlTypes: [InstallChunkedCodeArgs],
    args: [
      {
        // A resumed attempt may find the module installed already: reinstall (the bucket has no users yet).
        mode: { reinstall: null },
        target_canister: bucket,
        store_canister: [],
        chunk_hashes_list: hashes,
        wasm_module_hash: hexToBytes(module.sha256),
        arg: bucketInitArg(s),
        sender_canister_version: [],
      },
    ],
  });
  await call(MANAGEMENT, 'clear_chunk_store', { paramIdlTypes: [CanisterIdRecord], args: [{ canister_id: bucket }] });
  const record: StoredBucket = { id: pending, users: 0, bytes: 0n, module: module.sha256 };
  saveBucket(record);
  const order = JSON.parse(meta.get('order') ?? '[]') as string[];
  meta.insert('order', JSON.stringify([...order, pending]));
  meta.remove('pending');
  return record;
}
