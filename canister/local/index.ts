// Public API of the local Internet Computer (see docs/local-ic.md): the
// runtime that executes azle-built canister modules in Node with IC semantics.
export {
  LocalIC,
  INSTRUCTION_LIMITS,
  MAX_INGRESS_BYTES,
  CANISTER_RANGE_START,
  CANISTER_RANGE_END,
  canisterIdFromIndex,
  type CallResult,
  type LocalICOptions,
} from './runtime/local-ic.js';
export { RejectCode, LocalICError, InstallCodeError, type Reject } from './runtime/errors.js';
export { addMetadata } from './wasm/metadata.js';
