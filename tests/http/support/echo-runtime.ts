// A stand-in runtime for the HTTP layer's own tests: a tiny "canister" in
// TypeScript speaking Candid (whoami, a counter, a trap that leaves state
// unchanged), so the HTTP interface can be exercised with the real agent
// independently of the Wasm runtime. End-to-end tests use the real LocalIC.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import type { CallResult, IcRuntime } from '../../../canister/local/http/runtime.js';
import { protocolMethods } from './http-fixture-idl.js';

export const echoIdl: IDL.InterfaceFactory = ({ IDL }) => IDL.Service(protocolMethods(IDL));

export class EchoRuntime implements IcRuntime {
  readonly canisterId = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
  counter = 0n;
  executions = 0;
  offsetNs = 0n;
  /** Delays each update (to observe in-flight duplicates). */
  updateDelayMs = 0;

  timeNs(): bigint {
    return BigInt(Date.now()) * 1_000_000n + this.offsetNs;
  }
  canisterIds(): Principal[] {
    return [this.canisterId];
  }
  controllers(): Principal[] {
    return [Principal.anonymous()];
  }
  moduleHash(): Uint8Array {
    return new Uint8Array(32).fill(7);
  }
  metadata(_id: Principal, name: string): Uint8Array | undefined {
    return name === 'candid:service' ? new TextEncoder().encode('service : { whoami : () -> (principal) }') : undefined;
  }
  isPrivateMetadata(): boolean {
    return false;
  }
  metadataNames(): string[] {
    return ['candid:service'];
  }
  certifiedData(): Uint8Array {
    return new Uint8Array();
  }

  async update(_id: Principal, method: string, _arg: Uint8Array, opts?: { caller?: Principal }): Promise<CallResult> {
    this.executions++;
    if (this.updateDelayMs) await new Promise((r) => setTimeout(r, this.updateDelayMs));
    return this.#run(method, opts?.caller ?? Principal.anonymous(), true);
  }
  async query(_id: Principal, method: string, _arg: Uint8Array, opts?: { caller?: Principal }): Promise<CallResult> {
    return this.#run(method, opts?.caller ?? Principal.anonymous(), false);
  }

  #run(method: string, caller: Principal, commit: boolean): CallResult {
    const reply = (types: IDL.Type[], values: unknown[]): CallResult => ({ status: 'replied', reply: new Uint8Array(IDL.encode(types, values)), instructions: 1n });
    switch (method) {
      case 'whoami':
      case 'whoami_query':
        return reply([IDL.Principal], [caller]);
      case 'increment':
        if (commit) this.counter++;
        return reply([IDL.Nat64], [this.counter]);
      case 'count':
        return reply([IDL.Nat64], [this.counter]);
      case 'trap_after_increment':
        // The increment is rolled back, as the IC does on a trap.
        return { status: 'rejected', rejectCode: 5, rejectMessage: `Canister ${this.canisterId.toText()} trapped explicitly: boom`, errorCode: 'IC0503', instructions: 1n };
      default:
        return { status: 'rejected', rejectCode: 3, rejectMessage: `Canister ${this.canisterId.toText()} has no update method '${method}'`, errorCode: 'IC0302', instructions: 0n };
    }
  }
}
