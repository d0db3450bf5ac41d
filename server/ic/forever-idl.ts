// The part of the `forever` canister's Candid interface (canister/forever.did)
// the server calls: the principal proof and memory presence. Candid decoding
// ignores record fields this subset does not name, so the canister may grow.
import type { IDL } from '@dfinity/candid';

export const serverIdlFactory: IDL.InterfaceFactory = ({ IDL }) => {
  const Error = IDL.Variant({
    Unauthorized: IDL.Null,
    AlreadyExists: IDL.Null,
    NotFound: IDL.Null,
    InvalidHash: IDL.Null,
    InvalidArgument: IDL.Text,
    QuotaExceeded: IDL.Record({ used: IDL.Nat64, limit: IDL.Nat64 }),
    TooManyUploads: IDL.Record({ active: IDL.Nat32, max: IDL.Nat32 }),
    UploadExpired: IDL.Null,
    Internal: IDL.Text,
  });
  const Presence = IDL.Record({
    memory_id: IDL.Text,
    metadata_present: IDL.Bool,
    asset_present: IDL.Bool,
    sha256: IDL.Opt(IDL.Vec(IDL.Nat8)),
    size: IDL.Opt(IDL.Nat64),
  });
  const PresencePage = IDL.Record({ items: IDL.Vec(Presence), next_cursor: IDL.Opt(IDL.Text) });
  return IDL.Service({
    nonce_principal: IDL.Func([IDL.Text], [IDL.Opt(IDL.Principal)], ['query']),
    get_memory_list_presence: IDL.Func(
      [IDL.Principal, IDL.Vec(IDL.Text), IDL.Opt(IDL.Text), IDL.Opt(IDL.Nat32)],
      [IDL.Variant({ Ok: PresencePage, Err: Error })],
      ['query'],
    ),
  });
};
