// The part of the `forever` canister's Candid interface (canister/forever.did)
// that the server calls, declared here so the server depends on no other
// tier's folder: `nonce_principal` (sign-in), `verify_presence` (presence, as a
// verifier the canister's controller registered) and, for the embedded local
// IC, `get_presence_verifiers`/`set_presence_verifiers`. Candid is structural:
// a subset of the service with the same method types is a valid view of it,
// and tests/server/forever-idl.test.ts checks it against the .did file.
import type { ActorMethod } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import type { CanisterErrorName } from '../../contract/index.js';

export interface MemoryPresence {
  memory_id: string;
  owner: [] | [Principal];
  metadata_present: boolean;
  asset_present: boolean;
  sha256: [] | [Uint8Array | number[]];
  size: [] | [bigint];
}

/** The canister's `Error` variant; the server only reads which case it is. */
export type CanisterError = { [K in CanisterErrorName]?: unknown };

export type Result_presence_list = { Ok: MemoryPresence[] } | { Err: CanisterError };
export type Result_principals = { Ok: Principal[] } | { Err: CanisterError };

export interface ForeverService {
  nonce_principal: ActorMethod<[string], [] | [Principal]>;
  verify_presence: ActorMethod<[Principal, string[]], Result_presence_list>;
  get_presence_verifiers: ActorMethod<[], Result_principals>;
  set_presence_verifiers: ActorMethod<[Principal[]], Result_principals>;
}

export const foreverIdlFactory: IDL.InterfaceFactory = ({ IDL }) => {
  const Error = IDL.Variant({
    Internal: IDL.Text,
    WrongBucket: IDL.Null,
    NotFound: IDL.Null,
    InvalidHash: IDL.Null,
    Unauthorized: IDL.Null,
    AlreadyExists: IDL.Null,
    InvalidArgument: IDL.Text,
    UploadExpired: IDL.Null,
    QuotaExceeded: IDL.Record({ used: IDL.Nat64, limit: IDL.Nat64 }),
    TooManyUploads: IDL.Record({ max: IDL.Nat32, active: IDL.Nat32 }),
  });
  const MemoryPresence = IDL.Record({
    sha256: IDL.Opt(IDL.Vec(IDL.Nat8)),
    owner: IDL.Opt(IDL.Principal),
    metadata_present: IDL.Bool,
    size: IDL.Opt(IDL.Nat64),
    memory_id: IDL.Text,
    asset_present: IDL.Bool,
  });
  const Result_principals = IDL.Variant({ Ok: IDL.Vec(IDL.Principal), Err: Error });
  return IDL.Service({
    nonce_principal: IDL.Func([IDL.Text], [IDL.Opt(IDL.Principal)], ['query']),
    verify_presence: IDL.Func([IDL.Principal, IDL.Vec(IDL.Text)], [IDL.Variant({ Ok: IDL.Vec(MemoryPresence), Err: Error })], ['query']),
    get_presence_verifiers: IDL.Func([], [Result_principals], ['query']),
    set_presence_verifiers: IDL.Func([IDL.Vec(IDL.Principal)], [Result_principals], []),
  });
};

/** The canister answers `verify_presence` for at most this many ids per call. */
export const VERIFY_PRESENCE_MAX_IDS = 100;
