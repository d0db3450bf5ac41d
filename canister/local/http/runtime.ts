// What the HTTP interface needs from the local IC runtime: the subset of the
// `LocalIC` API (canister/local/index.ts) it calls, so this layer depends on
// the contract, not on the runtime's internals.
import type { Principal } from '@dfinity/principal';

export type CallResult =
  | { status: 'replied'; reply: Uint8Array; instructions: bigint }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string; instructions: bigint };

export interface IcRuntime {
  update(canisterId: Principal, method: string, arg: Uint8Array, opts?: { caller?: Principal }): Promise<CallResult>;
  query(canisterId: Principal, method: string, arg: Uint8Array, opts?: { caller?: Principal; certificate?: Uint8Array }): Promise<CallResult>;
  canisterIds(): Principal[];
  controllers(canisterId: Principal): Principal[];
  moduleHash(canisterId: Principal): Uint8Array | undefined;
  metadata(canisterId: Principal, name: string): Uint8Array | undefined;
  /** Names of every custom section (`icp:public`/`icp:private`) of the installed module, for the certified tree. */
  metadataNames(canisterId: Principal): string[];
  /** Whether `name` is an `icp:private` section: read_state serves it to controllers only. */
  isPrivateMetadata(canisterId: Principal, name: string): boolean;
  certifiedData(canisterId: Principal): Uint8Array;
  timeNs(): bigint;
}
