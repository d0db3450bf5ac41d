// Which principals this bucket keeps data for. A bucket installed with an
// index (`index` in its init argument) serves only the principals the index
// admitted (`admit_owner`, before `assign_bucket` answers; `evict_owner` at
// the end of a move); every other caller of an owner-facing method gets
// `WrongBucket` and changes nothing; so does a presence verifier asking about
// an owner not admitted here. A bucket installed without an index (the
// standalone form) serves every caller as its own owner, as before.
//
// State (the `admission` map): key [0] holds the index principal's bytes;
// key [1] ++ principal marks an admitted owner.
import { Principal } from '@dfinity/principal';
import { bytesEqual, concatBytes } from './bytes';
import { Fail, invalid, unauthorized } from './errors';
import type { Env, State } from './state';

const INDEX_KEY = new Uint8Array([0]);
const ADMITTED = new Uint8Array([1]);
const EMPTY = new Uint8Array(0);

const admittedKey = (p: Uint8Array): Uint8Array => concatBytes(ADMITTED, p);

export const wrongBucket = (): Fail => new Fail({ WrongBucket: null });

/** The bucket's init (and upgrade) argument: `opt BucketInit`. */
export interface BucketInit {
  index: [] | [Principal];
  presence_verifiers: Principal[];
}

/** The index this bucket answers to, if it was installed with one. */
export function indexOf(st: State): Uint8Array | undefined {
  return st.t.admission.get(INDEX_KEY);
}

/** Records the index named in an init or upgrade argument (an absent index leaves the recorded one). */
export function setIndex(st: State, index: Principal): void {
  if (index.isAnonymous()) throw invalid('the anonymous principal cannot be an index');
  st.t.admission.insert(INDEX_KEY, index.toUint8Array());
}

/** Throws WrongBucket when this bucket has an index and the caller was not admitted by it. */
export function requireAdmitted(env: Env, st: State): void {
  if (indexOf(st) === undefined) return;
  if (!st.t.admission.has(admittedKey(env.caller.toUint8Array()))) throw wrongBucket();
}

/** Throws WrongBucket when this bucket has an index and `owner` (the subject of a verifier's question) was not admitted. */
export function requireOwnerAdmitted(st: State, owner: Principal): void {
  if (indexOf(st) === undefined) return;
  if (!st.t.admission.has(admittedKey(owner.toUint8Array()))) throw wrongBucket();
}

/** The index or a controller only. */
function requireIndexOrController(env: Env, st: State): void {
  if (env.caller.isAnonymous()) throw unauthorized();
  const index = indexOf(st);
  if (index !== undefined && bytesEqual(index, env.caller.toUint8Array())) return;
  if (!env.isController(env.caller)) throw unauthorized();
}

function ownerArg(p: Principal): Uint8Array {
  if (p.isAnonymous()) throw invalid('the anonymous principal cannot own data');
  return p.toUint8Array();
}

/** Idempotent: admitting an admitted owner changes nothing. */
export function admit_owner(env: Env, st: State, p: Principal): null {
  requireIndexOrController(env, st);
  const key = admittedKey(ownerArg(p));
  if (!st.t.admission.has(key)) st.t.admission.insert(key, EMPTY);
  return null;
}

/** Idempotent: the owner's data stays (a move deletes it on its own); only the admission goes. */
export function evict_owner(env: Env, st: State, p: Principal): null {
  requireIndexOrController(env, st);
  const key = admittedKey(ownerArg(p));
  if (st.t.admission.has(key)) st.t.admission.remove(key);
  return null;
}

/** Whether `p` is admitted here (true for everyone on a standalone bucket); the index or a controller asks. */
export function is_admitted(env: Env, st: State, p: Principal): boolean {
  requireIndexOrController(env, st);
  if (indexOf(st) === undefined) return true;
  return st.t.admission.has(admittedKey(p.toUint8Array()));
}
