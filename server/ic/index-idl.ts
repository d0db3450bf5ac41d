// The part of the index canister's (`forever_index`) Candid interface the
// server calls: `lookup_bucket`, which bucket keeps a principal's data.
// Declared here so the server depends on no other tier's folder (Candid is
// structural; tests/server/bucket-lookup.test.ts checks it against the index's .did).
import type { ActorMethod } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

export interface IndexService {
  lookup_bucket: ActorMethod<[Principal], [] | [Principal]>;
}

export const indexIdlFactory: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    lookup_bucket: IDL.Func([IDL.Principal], [IDL.Opt(IDL.Principal)], ['query']),
  });
