// The forever canister's behaviour, free of azle I/O: a thin facade over one
// module per feature (memories, uploads, thumbnails, galleries, proofs,
// admin, sweeper, invariants). Every method takes decoded Candid arguments,
// reads and writes the byte maps in `Tables`, and returns the `Ok` value or
// throws `Fail`. index.ts adapts it to azle (stable maps, caller, time,
// timers); Node tests run it over in-memory maps.
//
// Rule: everything is validated before the first write. The adapter replies
// `Err` only if no write happened; a Fail after a write (a bug) traps, and the
// IC rolls the message back. Fails marked `keep` are the deliberate exception:
// their writes are a consistent state of their own (e.g. a failed upload freed).
import type { Principal } from '@dfinity/principal';
import * as admin from './admin';
import * as admission from './admission';
import type { Gallery, Limits, MemoryMetadata, MemoryType } from './candid-types';
import * as galleries from './galleries';
import { check_invariants } from './invariants';
import * as memories from './memories';
import * as proofs from './proofs';
import type { ConfigRecord } from './records';
import { type Bytes, type Env, State } from './state';
import type { KV, Tables } from './store';
import { sweep } from './sweeper';
import * as thumbnails from './thumbnails';
import * as uploads from './uploads';

export { type Env, WORK_BUDGET } from './state';

export class ForeverService {
  /** Set by the first insert or remove of the current message. */
  wrote = false;
  private readonly st: State;

  constructor(tables: Tables) {
    // Wrapping the maps lets the adapter know whether an error may still be replied (no write yet).
    const mark = (): void => {
      this.wrote = true;
    };
    const wrapped = Object.fromEntries(
      Object.entries(tables).map(([name, kv]) => [
        name,
        {
          get: (k: Uint8Array) => kv.get(k),
          has: (k: Uint8Array) => kv.has(k),
          insert: (k: Uint8Array, v: Uint8Array) => {
            mark();
            kv.insert(k, v);
          },
          remove: (k: Uint8Array) => {
            mark();
            kv.remove(k);
          },
          items: (s?: number, l?: number) => kv.items(s, l),
          keys: (s?: number, l?: number) => kv.keys(s, l),
          len: () => kv.len(),
        } satisfies KV,
      ]),
    ) as Tables;
    this.st = new State(wrapped);
  }

  config(): ConfigRecord {
    return this.st.config();
  }

  /**
   * Every owner-facing method starts here: on a bucket with an index, a
   * caller the index did not admit gets WrongBucket before anything is read
   * or written. Always true otherwise (so it chains with `&&`).
   */
  private owner(env: Env): true {
    admission.requireAdmitted(env, this.st);
    return true;
  }

  /** The init or upgrade argument: the index to answer to, the presence verifiers. */
  configure(arg: admission.BucketInit): void {
    if (arg.index[0]) admission.setIndex(this.st, arg.index[0]);
    if (arg.presence_verifiers.length > 0) admin.replace_presence_verifiers(this.st, arg.presence_verifiers);
  }

  // Memories
  upsert_metadata = (env: Env, id: string, type: MemoryType, m: MemoryMetadata, key: string) => this.owner(env) && memories.upsert_metadata(env, this.st, id, type, m, key);
  get_memory = (env: Env, id: string) => this.owner(env) && memories.get_memory(env, this.st, id);
  list_memories = (env: Env, cursor: [] | [string], limit: [] | [number]) => this.owner(env) && memories.list_memories(env, this.st, cursor, limit);
  get_memory_presence = (env: Env, id: string) => this.owner(env) && memories.get_memory_presence(env, this.st, id);
  get_memory_list_presence = (env: Env, ids: string[], cursor: [] | [string], limit: [] | [number]) => this.owner(env) && memories.get_memory_list_presence(env, this.st, ids, cursor, limit);
  /**
   * The server asks about an owner: on a bucket with an index, an owner not
   * admitted here is WrongBucket (not "absent", which would read as lost
   * data). Checked after the caller's own check, so only verifiers learn it.
   */
  verify_presence = (env: Env, owner: Principal, ids: string[]) => {
    const answer = memories.verify_presence(env, this.st, owner, ids);
    admission.requireOwnerAdmitted(this.st, owner);
    return answer;
  };
  delete_memory = (env: Env, id: string) => this.owner(env) && memories.delete_memory(env, this.st, id);
  // Thumbnails
  set_thumbnail = (env: Env, id: string, bytes: Bytes) => this.owner(env) && thumbnails.set_thumbnail(env, this.st, id, bytes);
  get_thumbnail = (env: Env, id: string) => this.owner(env) && thumbnails.get_thumbnail(env, this.st, id);
  // Chunked uploads
  begin_asset_upload = (env: Env, id: string, sha: Bytes, n: number, size: bigint) => this.owner(env) && uploads.begin_asset_upload(env, this.st, id, sha, n, size);
  put_chunk = (env: Env, sid: string, index: number, data: Bytes) => this.owner(env) && uploads.put_chunk(env, this.st, sid, index, data);
  commit_asset = (env: Env, sid: string, sha: Bytes) => this.owner(env) && uploads.commit_asset(env, this.st, sid, sha);
  cancel_upload = (env: Env, sid: string) => this.owner(env) && uploads.cancel_upload(env, this.st, sid);
  get_upload_progress = (env: Env, sid: string) => this.owner(env) && uploads.get_upload_progress(env, this.st, sid);
  list_my_uploads = (env: Env) => this.owner(env) && uploads.list_my_uploads(env, this.st);
  read_chunk = (env: Env, id: string, index: number) => this.owner(env) && uploads.read_chunk(env, this.st, id, index);
  // Galleries
  store_gallery = (env: Env, g: Gallery) => this.owner(env) && galleries.store_gallery(env, this.st, g);
  get_gallery = (env: Env, id: string) => this.owner(env) && galleries.get_gallery(env, this.st, id);
  list_galleries = (env: Env, cursor: [] | [string], limit: [] | [number]) => this.owner(env) && galleries.list_galleries(env, this.st, cursor, limit);
  // Principal proofs
  prove_principal = (env: Env, nonce: string) => this.owner(env) && proofs.prove_principal(env, this.st, nonce);
  nonce_principal = (env: Env, nonce: string) => proofs.nonce_principal(env, this.st, nonce);
  // Usage and administration
  get_usage = (env: Env) => this.owner(env) && admin.get_usage(env, this.st);
  get_limits = () => admin.get_limits(this.st);
  set_limits = (env: Env, l: Limits) => admin.set_limits(env, this.st, l);
  set_quota = (env: Env, p: Principal, quota: [] | [bigint]) => admin.set_quota(env, this.st, p, quota);
  set_presence_verifiers = (env: Env, v: Principal[]) => admin.set_presence_verifiers(env, this.st, v);
  get_presence_verifiers = (env: Env) => admin.get_presence_verifiers(env, this.st);
  get_stats = (env: Env) => admin.get_stats(env, this.st);
  check_invariants = (env: Env) => check_invariants(env, this.st);
  // Admission (the index or a controller)
  admit_owner = (env: Env, p: Principal) => admission.admit_owner(env, this.st, p);
  evict_owner = (env: Env, p: Principal) => admission.evict_owner(env, this.st, p);
  is_admitted = (env: Env, p: Principal) => admission.is_admitted(env, this.st, p);
  /** Timer work; true when work is left for another round. */
  sweep = (env: Env) => sweep(env, this.st);
  /** Controllers only (the caller is checked by the adapter's callers): requires an admin. */
  requireAdmin = (env: Env) => this.st.requireAdmin(env);
}
