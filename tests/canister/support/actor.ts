// A typed caller over the local IC: turns the generated idlFactory into an
// object whose methods encode their arguments with Candid, send them as the
// chosen principal through LocalIC.update/query, and decode the reply, so a
// test reads `await alice.put_chunk(sessionId, 0, bytes)`.
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import type { CallResult, LocalIC } from '../../../canister/local/index';
import type { _SERVICE } from '../../../src/declarations/forever/forever.did';
import { idlFactory } from '../../../src/declarations/forever/forever.did.js';

export type ForeverService = _SERVICE;
export type MethodName = keyof _SERVICE & string;

type Methods = {
  [K in MethodName]: (...args: Parameters<_SERVICE[K]>) => Promise<Awaited<ReturnType<_SERVICE[K]>>>;
};

/** A canister reject (trap, unknown method) surfaced as an exception. */
export class CanisterReject extends Error {
  constructor(
    readonly method: string,
    readonly rejectCode: number,
    readonly rejectMessage: string,
  ) {
    super(`${method} rejected (code ${rejectCode}): ${rejectMessage.split('\n')[0]}`);
  }
}

export interface ActorExtras {
  readonly caller: Principal;
  /** Instructions the last call of this actor executed (the runtime's metering). */
  readonly lastInstructions: bigint;
  /** Sends raw argument bytes (malformed-Candid tests). */
  raw(method: MethodName, arg: Uint8Array): Promise<CallResult>;
  /** The same canister as another principal. */
  as(caller: Principal): ForeverActor;
}

export type ForeverActor = Methods & ActorExtras;

const service = idlFactory({ IDL }) as IDL.ServiceClass;
export const foreverFuncs: ReadonlyMap<string, IDL.FuncClass> = new Map(service._fields);

export function isQuery(method: string): boolean {
  return foreverFuncs.get(method)?.annotations.includes('query') ?? false;
}

export function actorFor(ic: LocalIC, canisterId: Principal, caller: Principal): ForeverActor {
  let lastInstructions = 0n;
  const send = (method: string, arg: Uint8Array): Promise<CallResult> =>
    isQuery(method) ? ic.query(canisterId, method, arg, { caller }) : ic.update(canisterId, method, arg, { caller });
  const actor = Object.create(null) as Record<string, unknown>;
  for (const [name, func] of foreverFuncs) {
    actor[name] = async (...args: unknown[]) => {
      const r = await send(name, new Uint8Array(IDL.encode(func.argTypes, args)));
      lastInstructions = r.instructions;
      if (r.status !== 'replied') throw new CanisterReject(name, r.rejectCode, r.rejectMessage);
      return IDL.decode(func.retTypes, r.reply)[0];
    };
  }
  Object.defineProperties(actor, {
    caller: { value: caller },
    // A getter: the figure changes with every call.
    lastInstructions: { get: () => lastInstructions },
    raw: {
      value: async (method: MethodName, arg: Uint8Array) => {
        const r = await send(method, arg);
        lastInstructions = r.instructions;
        return r;
      },
    },
    as: { value: (other: Principal) => actorFor(ic, canisterId, other) },
  });
  return actor as unknown as ForeverActor;
}

/** A Candid blob as bytes (the agent's types allow number[] too; decoding gives Uint8Array). */
export const blob = (b: Uint8Array | number[]): Uint8Array => (b instanceof Uint8Array ? b : Uint8Array.from(b));

type ResultOf<T> = T extends { Ok: infer O } ? O : never;
type ErrOf<T> = T extends { Err: infer E } ? E : never;

/** The Ok value of a Result, or a failed assertion naming the error. */
export function ok<T extends { Ok: unknown } | { Err: unknown }>(r: T): ResultOf<T> {
  if ('Ok' in r) return r.Ok as ResultOf<T>;
  throw new Error(`expected Ok, got Err ${JSON.stringify((r as { Err: unknown }).Err, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
}

/** The Err value of a Result, or a failed assertion. */
export function err<T extends { Ok: unknown } | { Err: unknown }>(r: T): ErrOf<T> {
  if ('Err' in r) return r.Err as ErrOf<T>;
  throw new Error('expected Err, got Ok');
}
