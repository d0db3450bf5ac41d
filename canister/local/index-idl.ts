// The Candid of `forever_index` (canister/src/index-canister/main.ts) as the
// deploy and the tests call it. The canister declares it with azle's IDL,
// which Node cannot import; this copy is the one every caller outside the
// canister shares (the client keeps its own subset in the client tier).
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

export const Settings = IDL.Record({
  capacity_users: IDL.Nat32,
  capacity_bytes: IDL.Nat64,
  bucket_controllers: IDL.Vec(IDL.Principal),
  bucket_cycles: IDL.Nat,
  presence_verifiers: IDL.Vec(IDL.Principal),
});
export const IndexError = IDL.Variant({
  Unauthorized: IDL.Null,
  InvalidArgument: IDL.Text,
  NoBucketModule: IDL.Null,
  Busy: IDL.Null,
  CreateFailed: IDL.Text,
  AdmitFailed: IDL.Text,
});
export const UnitResult = IDL.Variant({ Ok: IDL.Null, Err: IndexError });
export const PrincipalResult = IDL.Variant({ Ok: IDL.Principal, Err: IndexError });
export const BucketInfo = IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 });
export const CertifiedBucket = IDL.Record({ bucket: IDL.Opt(IDL.Principal), certificate: IDL.Vec(IDL.Nat8), tree: IDL.Vec(IDL.Nat8) });
export type Settings = { capacity_users: number; capacity_bytes: bigint; bucket_controllers: Principal[]; bucket_cycles: bigint; presence_verifiers: Principal[] };
