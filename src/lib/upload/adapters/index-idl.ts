// The part of the index canister's (`forever_index`) Candid interface the
// client calls: where is my bucket (certified query), and place me (update).
// The index has no generated declarations, so the client declares the subset
// it uses; Candid is structural, and tests/client/bucket-locator.test.ts checks
// these types against the index's own .did.
import type { ActorMethod } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

export type IndexError =
  | { Unauthorized: null }
  | { InvalidArgument: string }
  | { NoBucketModule: null }
  | { Busy: null }
  | { CreateFailed: string }
  | { AdmitFailed: string };

export interface CertifiedBucket {
  bucket: [] | [Principal];
  /** `ic0.data_certificate()`: the IC's signature over the index's certified data. */
  certificate: Uint8Array | number[];
  /** CBOR hash tree whose root hash is that certified data: `bucket/<caller principal>` → bucket principal bytes. */
  tree: Uint8Array | number[];
}

export interface IndexService {
  my_bucket_certified: ActorMethod<[], CertifiedBucket>;
  assign_bucket: ActorMethod<[], { Ok: Principal } | { Err: IndexError }>;
}

export const indexIdlFactory: IDL.InterfaceFactory = ({ IDL }) => {
  const IndexError = IDL.Variant({
    Unauthorized: IDL.Null,
    InvalidArgument: IDL.Text,
    NoBucketModule: IDL.Null,
    Busy: IDL.Null,
    CreateFailed: IDL.Text,
    AdmitFailed: IDL.Text,
  });
  return IDL.Service({
    my_bucket_certified: IDL.Func([], [IDL.Record({ bucket: IDL.Opt(IDL.Principal), certificate: IDL.Vec(IDL.Nat8), tree: IDL.Vec(IDL.Nat8) })], ['query']),
    assign_bucket: IDL.Func([], [IDL.Variant({ Ok: IDL.Principal, Err: IndexError })], []),
  });
};
