// The azle adapter of the forever canister: stable maps with raw byte
// serializers, the caller, time, controllers, timers and instruction
// profiling around ForeverService (service.ts), which holds the behaviour.
//
// Every method decodes its own arguments (`manual`), so malformed Candid
// (an unknown memory type, a wrong type) is answered with
// `Err(InvalidArgument)` instead of a trap, and the decoding cost can be
// measured on its own. The chunk-carrying arguments are read in place
// (raw-args.ts) and fall back to the full decoder for anything unusual.
//
// SHA-256 runs on the module's native block function (native-hash.ts);
// `init` and `post_upgrade` check it against known digests and trap when it
// is wrong or missing, so such a module never installs.
import {
  IDL,
  init,
  isController,
  msgArgData,
  msgCaller,
  msgReply,
  performanceCounter,
  postUpgrade,
  query,
  setTimer,
  setTimerInterval,
  time,
  trap,
  update,
} from 'azle';
import type { BucketInit } from './admission';
import { foreverInit, foreverMethods, type ForeverMethodName, type MethodSpec } from './candid';
import { Fail } from './errors';
import { chunkReceiptEncoder } from './fast-reply';
import { installFastText } from './fast-text';
import { hashParts, nativeCompress, selfCheck } from './native-hash';
import { readHashPartsArgs, readPutChunkArgs } from './raw-args';
import { ForeverService, type Env } from './service';
import { useBlockFunction } from './sha256';
import { stableTables } from './stable-tables';

// Before any Candid work: azle has installed its TextEncoder/TextDecoder polyfill by now.
installFastText();

/**
 * Which block function this module hashes with. Always "native" in what the
 * build ships; the benchmark's baseline module is the same build with this
 * literal rewritten to "jshash" (canister/scripts/build.ts), to measure the
 * JavaScript block function in the same run.
 */
const HASH_MODE = String((globalThis as { foreverHashMode?: string }).foreverHashMode ?? 'native:FOREVER_HASH_MODE').split(':')[0];
if (HASH_MODE === 'native') useBlockFunction(nativeCompress);

/** Builds put_chunk's reply template now, so no chunk pays for it. */
function warmReplies(): void {
  encodeChunkReceipt({ chunks_received: 0, bytes_received: 0n, expires_at: 0n });
}

function checkHash(): void {
  if (!selfCheck()) trap('forever: the SHA-256 block function gives wrong digests; this module was not built by canister/scripts/build.ts');
}

const M = foreverMethods(IDL);
const INIT_ARGS = foreverInit(IDL);
const encodeChunkReceipt = chunkReceiptEncoder(IDL.encode, M.put_chunk.ret);
const manual = { manual: true } as const;
const SWEEP_INTERVAL_SECONDS = 60;

let service: ForeverService | undefined;

function svc(): ForeverService {
  if (!service) {
    service = new ForeverService(stableTables());
  }
  return service;
}

// ------------------------------------------------------------- profiling

interface Profile {
  method: string;
  phases: Array<{ phase: string; instructions: bigint }>;
  total: bigint;
}

/** Heap only (diagnostics, not durable state): the phases of the last update call. */
let lastProfile: Profile | undefined;
let current: { method: string; last: bigint; phases: Profile['phases'] } | undefined;

function phase(name: string): void {
  if (!current) return;
  const now = performanceCounter(0);
  current.phases.push({ phase: name, instructions: now - current.last });
  current.last = now;
}

// ---------------------------------------------------------------- timers

let sweepScheduled = false;

function requestSweep(): void {
  if (sweepScheduled) return;
  sweepScheduled = true;
  setTimer(0, sweepTick);
}

function sweepTick(): void {
  sweepScheduled = false;
  const more = svc().sweep(makeEnv(msgCallerSafe()));
  if (more) requestSweep();
}

/** Timers do not survive upgrades: init and post_upgrade start the periodic sweep again. */
function startTimers(): void {
  sweepScheduled = false;
  setTimerInterval(SWEEP_INTERVAL_SECONDS, sweepTick);
  // Work left by the previous version (backlogs, expiries while stopped) is picked up at once.
  requestSweep();
}

function msgCallerSafe(): ReturnType<typeof msgCaller> {
  return msgCaller();
}

// -------------------------------------------------------------- dispatch

function makeEnv(caller: ReturnType<typeof msgCaller>): Env {
  return {
    caller,
    now: time(),
    isController: (p) => isController(p),
    instructions: () => performanceCounter(0),
    phase,
    requestSweep,
  };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs one method: decode (a decoding failure is `Err(InvalidArgument)`),
 * execute, encode and reply. A `Fail` is replied as `Err` unless the method
 * already wrote; then it is rethrown and the message traps, so the IC rolls
 * every write back.
 */
function serve(
  name: ForeverMethodName,
  run: (env: Env, args: any[]) => unknown,
  onBadArgs?: () => unknown,
  fast?: (arg: Uint8Array) => unknown[] | undefined,
  fastOk?: (ok: any) => Uint8Array,
): void {
  const spec: MethodSpec = M[name];
  const isUpdate = !spec.query;
  current = { method: name, last: performanceCounter(0), phases: [] };
  const start = current.last;
  let args: any[];
  try {
    const arg = msgArgData();
    args = (fast && fast(arg)) || IDL.decode(spec.args, arg);
  } catch (e) {
    const value = onBadArgs ? onBadArgs() : { Err: { InvalidArgument: `malformed arguments: ${errText(e)}` } };
    msgReply(IDL.encode([spec.ret], [value]));
    current = undefined;
    return;
  }
  phase('decode');
  const s = svc();
  s.wrote = false;
  let value: unknown;
  let okValue: unknown;
  try {
    okValue = run(makeEnv(msgCaller()), args);
    value = onBadArgs ? okValue : { Ok: okValue };
  } catch (e) {
    if (e instanceof Fail && (!s.wrote || e.keep)) value = { Err: e.error };
    else throw e;
  }
  phase('execute');
  const reply = fastOk && 'Ok' in (value as object) ? fastOk(okValue) : IDL.encode([spec.ret], [value]);
  phase('encode');
  msgReply(reply);
  if (isUpdate) {
    lastProfile = { method: name, phases: current.phases, total: performanceCounter(0) - start };
  }
  current = undefined;
}

/**
 * The init or upgrade argument, `opt BucketInit`: an empty argument (no
 * Candid at all, or no value) and `null` mean none (a standalone bucket, or
 * an upgrade that keeps the recorded index). A malformed one traps, so such
 * an install never happens.
 */
function readInitArg(): BucketInit | undefined {
  const arg = msgArgData();
  if (arg.length === 0) return undefined;
  let decoded: unknown[];
  try {
    decoded = IDL.decode(INIT_ARGS, arg);
  } catch (e) {
    // "DIDL" with no values: no argument.
    if (arg.length === 6) return undefined;
    trap(`forever: malformed init argument: ${errText(e)}`);
  }
  const v = decoded[0] as [] | [BucketInit] | undefined;
  return v?.[0];
}

function configure(): void {
  const arg = readInitArg();
  if (arg) svc().configure(arg);
}

export default class {
  // `manual` so an empty argument (no Candid header) installs too: a standalone bucket.
  @init(INIT_ARGS, manual)
  init(): void {
    checkHash();
    warmReplies();
    svc();
    configure();
    startTimers();
  }

  @postUpgrade(INIT_ARGS, manual)
  postUpgrade(): void {
    checkHash();
    warmReplies();
    svc();
    configure();
    startTimers();
  }

  // Memories
  @update(M.upsert_metadata.args, M.upsert_metadata.ret, manual)
  upsert_metadata(): void {
    serve('upsert_metadata', (env, a) => svc().upsert_metadata(env, a[0], a[1], a[2], a[3]));
  }

  @query(M.get_memory.args, M.get_memory.ret, manual)
  get_memory(): void {
    serve('get_memory', (env, a) => svc().get_memory(env, a[0]));
  }

  @query(M.list_memories.args, M.list_memories.ret, manual)
  list_memories(): void {
    serve('list_memories', (env, a) => svc().list_memories(env, a[0], a[1]));
  }

  @query(M.get_memory_presence.args, M.get_memory_presence.ret, manual)
  get_memory_presence(): void {
    serve('get_memory_presence', (env, a) => svc().get_memory_presence(env, a[0]));
  }

  @query(M.get_memory_list_presence.args, M.get_memory_list_presence.ret, manual)
  get_memory_list_presence(): void {
    serve('get_memory_list_presence', (env, a) => svc().get_memory_list_presence(env, a[0], a[1], a[2]));
  }

  @query(M.verify_presence.args, M.verify_presence.ret, manual)
  verify_presence(): void {
    serve('verify_presence', (env, a) => svc().verify_presence(env, a[0], a[1]));
  }

  @update(M.delete_memory.args, M.delete_memory.ret, manual)
  delete_memory(): void {
    serve('delete_memory', (env, a) => svc().delete_memory(env, a[0]));
  }

  // Thumbnails
  @update(M.set_thumbnail.args, M.set_thumbnail.ret, manual)
  set_thumbnail(): void {
    serve('set_thumbnail', (env, a) => svc().set_thumbnail(env, a[0], a[1]));
  }

  @query(M.get_thumbnail.args, M.get_thumbnail.ret, manual)
  get_thumbnail(): void {
    serve('get_thumbnail', (env, a) => svc().get_thumbnail(env, a[0]));
  }

  // Chunked uploads
  @update(M.begin_asset_upload.args, M.begin_asset_upload.ret, manual)
  begin_asset_upload(): void {
    serve('begin_asset_upload', (env, a) => svc().begin_asset_upload(env, a[0], a[1], a[2], a[3]));
  }

  @update(M.put_chunk.args, M.put_chunk.ret, manual)
  put_chunk(): void {
    serve('put_chunk', (env, a) => svc().put_chunk(env, a[0], a[1], a[2]), undefined, readPutChunkArgs, encodeChunkReceipt);
  }

  @update(M.commit_asset.args, M.commit_asset.ret, manual)
  commit_asset(): void {
    serve('commit_asset', (env, a) => svc().commit_asset(env, a[0], a[1]));
  }

  @update(M.cancel_upload.args, M.cancel_upload.ret, manual)
  cancel_upload(): void {
    serve('cancel_upload', (env, a) => svc().cancel_upload(env, a[0]));
  }

  @query(M.get_upload_progress.args, M.get_upload_progress.ret, manual)
  get_upload_progress(): void {
    serve('get_upload_progress', (env, a) => svc().get_upload_progress(env, a[0]));
  }

  @query(M.list_my_uploads.args, M.list_my_uploads.ret, manual)
  list_my_uploads(): void {
    serve('list_my_uploads', (env) => svc().list_my_uploads(env));
  }

  @query(M.read_chunk.args, M.read_chunk.ret, manual)
  read_chunk(): void {
    serve('read_chunk', (env, a) => svc().read_chunk(env, a[0], a[1]));
  }

  // Galleries
  @update(M.store_gallery.args, M.store_gallery.ret, manual)
  store_gallery(): void {
    serve('store_gallery', (env, a) => svc().store_gallery(env, a[0]));
  }

  @query(M.get_gallery.args, M.get_gallery.ret, manual)
  get_gallery(): void {
    serve('get_gallery', (env, a) => svc().get_gallery(env, a[0]));
  }

  @query(M.list_galleries.args, M.list_galleries.ret, manual)
  list_galleries(): void {
    serve('list_galleries', (env, a) => svc().list_galleries(env, a[0], a[1]));
  }

  // Principal proof for the server's sign-in
  @update(M.prove_principal.args, M.prove_principal.ret, manual)
  prove_principal(): void {
    serve('prove_principal', (env, a) => svc().prove_principal(env, a[0]));
  }

  @query(M.nonce_principal.args, M.nonce_principal.ret, manual)
  nonce_principal(): void {
    serve('nonce_principal', (env, a) => svc().nonce_principal(env, a[0]), () => []);
  }

  // Usage and limits
  @query(M.get_usage.args, M.get_usage.ret, manual)
  get_usage(): void {
    serve('get_usage', (env) => svc().get_usage(env));
  }

  @query(M.get_limits.args, M.get_limits.ret, manual)
  get_limits(): void {
    serve('get_limits', () => svc().get_limits(), () => svc().get_limits());
  }

  // Controller-only administration
  @update(M.set_limits.args, M.set_limits.ret, manual)
  set_limits(): void {
    serve('set_limits', (env, a) => svc().set_limits(env, a[0]));
  }

  @update(M.set_quota.args, M.set_quota.ret, manual)
  set_quota(): void {
    serve('set_quota', (env, a) => svc().set_quota(env, a[0], a[1]));
  }

  @update(M.set_presence_verifiers.args, M.set_presence_verifiers.ret, manual)
  set_presence_verifiers(): void {
    serve('set_presence_verifiers', (env, a) => svc().set_presence_verifiers(env, a[0]));
  }

  @query(M.get_presence_verifiers.args, M.get_presence_verifiers.ret, manual)
  get_presence_verifiers(): void {
    serve('get_presence_verifiers', (env) => svc().get_presence_verifiers(env));
  }

  @query(M.get_stats.args, M.get_stats.ret, manual)
  get_stats(): void {
    serve('get_stats', (env) => svc().get_stats(env));
  }

  @query(M.check_invariants.args, M.check_invariants.ret, manual)
  check_invariants(): void {
    serve('check_invariants', (env) => svc().check_invariants(env));
  }

  @query(M.sha256_parts.args, M.sha256_parts.ret, manual)
  sha256_parts(): void {
    serve(
      'sha256_parts',
      (env, a) => {
        svc().requireAdmin(env);
        return hashParts(a[0], a[1]);
      },
      undefined,
      readHashPartsArgs,
    );
  }

  // Admission: the index (or a controller) names the owners this bucket keeps data for.
  @update(M.admit_owner.args, M.admit_owner.ret, manual)
  admit_owner(): void {
    serve('admit_owner', (env, a) => svc().admit_owner(env, a[0]));
  }

  @update(M.evict_owner.args, M.evict_owner.ret, manual)
  evict_owner(): void {
    serve('evict_owner', (env, a) => svc().evict_owner(env, a[0]));
  }

  @query(M.is_admitted.args, M.is_admitted.ret, manual)
  is_admitted(): void {
    serve('is_admitted', (env, a) => svc().is_admitted(env, a[0]));
  }

  @query(M.last_call_profile.args, M.last_call_profile.ret, manual)
  last_call_profile(): void {
    serve('last_call_profile', (env) => {
      if (env.caller.isAnonymous() || !env.isController(env.caller)) throw new Fail({ Unauthorized: null });
      if (!lastProfile) throw new Fail({ NotFound: null });
      return lastProfile;
    });
  }
}
