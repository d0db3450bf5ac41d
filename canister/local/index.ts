// Public API of the local Internet Computer (see docs/local-ic.md): the
// runtime that executes azle-built canister modules in Node with IC semantics.
//
// `LocalIC` is both the API (a type) and its factory: `LocalIC.create(opts)`
// runs canisters on the calling thread, or with `thread: 'worker'` on a worker
// thread (thread/host.ts) behind the same API, so the caller's event loop is
// not blocked while a message executes.
import { LocalIC as InThreadLocalIC, type LocalICApi, type LocalICOptions } from './runtime/local-ic.js';
import { LocalICThread } from './thread/host.js';

export type LocalIC = LocalICApi;
export const LocalIC = {
  create(opts: LocalICOptions = {}): Promise<LocalIC> {
    return opts.thread === 'worker' ? LocalICThread.create(opts) : InThreadLocalIC.create(opts);
  },
};

export { InThreadLocalIC, LocalICThread };
export {
  INSTRUCTION_LIMITS,
  MAX_INGRESS_BYTES,
  CANISTER_RANGE_START,
  CANISTER_RANGE_END,
  canisterIdFromIndex,
  type CallResult,
  type LocalICApi,
  type LocalICOptions,
} from './runtime/local-ic.js';
export { RejectCode, LocalICError, InstallCodeError, type Reject } from './runtime/errors.js';
export { addMetadata } from './wasm/metadata.js';
