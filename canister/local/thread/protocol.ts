// Messages between the worker host (host.ts, main thread) and the workers
// running the local IC's runtimes (worker.ts), and the (de)serialisation of the
// runtime's errors so they arrive as the same classes. Pure: no I/O.
//
// Principals travel as their bytes (structured clone drops classes); bigints
// and Uint8Arrays clone natively.
import { InstallCodeError, LocalICError, type Reject } from '../runtime/errors.js';
import type { CallResult, LocalICOptions, RemoteCall } from '../runtime/local-ic.js';
import type { Outcome } from '../runtime/management-canister.js';
import type { ReplicaDelta, ReplicaResult } from '../runtime/query-replica.js';

/** Options the worker can receive (functions cannot cross threads). */
export type WorkerOptions = Omit<LocalICOptions, 'log' | 'thread' | 'queries' | 'workers'>;

export interface WorkerInit {
  options: WorkerOptions;
  /** Hand committed state to a query thread after every task. */
  replicas: boolean;
  /** This runtime's place in the pool (what `ReplyTo.worker` names). */
  worker: number;
  /** The canisters (textual ids) it loads from the data directory. */
  canisters: string[];
}

/** Where the outcome of a call between runtimes goes back to: the calling worker and its token. */
export interface ReplyTo {
  worker: number;
  token: number;
}

/**
 * Calls between canisters of different runtimes, routed by the host (which
 * knows where each canister lives, allocates canister ids and places new
 * canisters). A worker sends `call` and `response`; the host forwards them.
 */
export type PeerMessage =
  /** worker → host: a call to a canister elsewhere (or a create_canister). */
  | { peer: 'call'; token: number; from: Uint8Array; call: RemoteCall }
  /** host → worker: a call to execute here; `assignId` for a create_canister placed here. */
  | { peer: 'accept'; from: Uint8Array; call: RemoteCall; replyTo: ReplyTo; assignId?: Uint8Array }
  /** worker → host: the outcome of an accepted call. */
  | { peer: 'reply'; replyTo: ReplyTo; outcome: Outcome }
  /** host → worker: the outcome of a call it sent. */
  | { peer: 'outcome'; token: number; outcome: Outcome };

/** One request from the host; `id` pairs it with its answer. */
export type Request = { id: number } & (
  | { op: 'createCanister'; controllers?: Uint8Array[]; canisterId?: Uint8Array }
  | {
      op: 'installCode';
      canisterId: Uint8Array;
      wasm: Uint8Array;
      mode: 'install' | 'reinstall' | 'upgrade';
      arg?: Uint8Array;
      sender?: Uint8Array;
    }
  | { op: 'update'; canisterId: Uint8Array; method: string; arg: Uint8Array; caller?: Uint8Array }
  | { op: 'query'; canisterId: Uint8Array; method: string; arg: Uint8Array; caller?: Uint8Array; certificate?: Uint8Array }
  | { op: 'setControllers'; canisterId: Uint8Array; controllers: Uint8Array[] }
  | { op: 'setTime'; ns: bigint }
  | { op: 'advanceTime'; ms: number }
  | { op: 'close' }
);

export type Op = Request['op'];

/** What the host keeps of each canister to answer the synchronous getters. */
export interface CanisterState {
  id: Uint8Array;
  controllers: Uint8Array[];
  moduleHash: Uint8Array | undefined;
  certifiedData: Uint8Array;
  /** Present when the module changed since the last state sent: its metadata sections. */
  metadata?: [string, Uint8Array][];
  /** With `metadata`: the names of its `icp:private` sections. */
  privateMetadata?: string[];
}

/** Canisters whose mirrored fields changed, and the runtime's clock. */
export interface StateDelta {
  now: bigint;
  canisters: CanisterState[];
}

export type SerializedError =
  | { kind: 'LocalICError'; message: string; code: LocalICError['code']; stack?: string }
  | { kind: 'InstallCodeError'; reject: Reject; stack?: string }
  | { kind: 'Error'; name: string; message: string; stack?: string };

/** Messages from the worker, in the order it posted them. */
export type WorkerMessage =
  | { kind: 'ready'; state: StateDelta }
  | { kind: 'failed'; error: SerializedError }
  | { kind: 'state'; state: StateDelta }
  | { kind: 'log'; canisterId: string; line: string }
  /** What committed messages changed, for the query thread (sent before the task's answer). */
  | { kind: 'replica'; deltas: ReplicaDelta[] }
  | { kind: 'result'; id: number; value: CallResult | Uint8Array | undefined }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'peer'; message: PeerMessage };

/** What the query thread needs to execute queries as the runtime would. */
export interface QueryWorkerInit {
  metering: boolean;
  queryLimit: bigint;
  cacheDir?: string;
}

/** Messages from the query thread. */
export type QueryWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; error: SerializedError }
  | { kind: 'log'; canisterId: string; line: string }
  | { kind: 'result'; id: number; value: ReplicaResult }
  | { kind: 'error'; id: number; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof InstallCodeError) return { kind: 'InstallCodeError', reject: { ...error.reject }, stack: error.stack };
  if (error instanceof LocalICError) return { kind: 'LocalICError', message: error.message, code: error.code, stack: error.stack };
  if (error instanceof Error) return { kind: 'Error', name: error.name, message: error.message, stack: error.stack };
  return { kind: 'Error', name: 'Error', message: String(error) };
}

/**
 * Rebuilds an error thrown in the worker as the same class with the same
 * fields. The stack is the caller's on this thread, followed by the worker's.
 */
export function deserializeError(e: SerializedError): Error {
  let error: Error;
  if (e.kind === 'LocalICError') error = new LocalICError(e.message, e.code);
  else if (e.kind === 'InstallCodeError') error = new InstallCodeError(e.reject);
  else {
    error = new Error(e.message);
    error.name = e.name;
  }
  if (e.stack) error.stack = `${error.stack ?? ''}\n    at <local IC worker>\n${e.stack}`;
  return error;
}

/**
 * The buffers of `value` that can move to the other thread instead of being
 * copied: only a Uint8Array that owns its whole ArrayBuffer (a view into a
 * larger or pooled buffer would take its neighbours along).
 */
export function ownedBuffer(bytes: Uint8Array | undefined): ArrayBuffer | undefined {
  if (!bytes) return undefined;
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer)) return undefined;
  return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength && buffer.byteLength > 0 ? buffer : undefined;
}
