// Reject codes, IC error codes and the IC's wording for them, plus the errors
// that end a message execution. Pure: no I/O.

/** Reject codes of the IC interface specification. */
export const RejectCode = {
  SysFatal: 1,
  SysTransient: 2,
  DestinationInvalid: 3,
  CanisterReject: 4,
  CanisterError: 5,
} as const;

/** A reject as the IC reports it: code, message, and the IC0xxx error code. */
export interface Reject {
  rejectCode: number;
  rejectMessage: string;
  errorCode: string;
}

/** Thrown by the system API when the canister calls `ic0.trap` or breaks a rule of the system API. */
export class CanisterTrap extends Error {
  constructor(
    message: string,
    readonly kind: 'explicit' | 'contract' = 'explicit',
  ) {
    super(message);
    this.name = 'CanisterTrap';
  }
}

/** Thrown when a message passes its instruction limit (from a system API charge). */
export class InstructionLimitExceeded extends Error {
  constructor(readonly limit: bigint) {
    super(`instruction limit ${limit} exceeded`);
    this.name = 'InstructionLimitExceeded';
  }
}

/** Errors of the programmatic API (bad input, wrong state): not IC rejects. */
export class LocalICError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'CanisterNotFound'
      | 'CanisterNotEmpty'
      | 'CanisterEmpty'
      | 'InvalidModule'
      | 'MissingImports'
      | 'InvalidArgument'
      | 'Closed'
      | 'NotController',
  ) {
    super(message);
    this.name = 'LocalICError';
  }
}

/** Thrown by installCode when init, pre_upgrade or post_upgrade rejects or traps. */
export class InstallCodeError extends Error {
  constructor(readonly reject: Reject) {
    super(reject.rejectMessage);
    this.name = 'InstallCodeError';
  }
}

export const rejects = {
  canisterNotFound: (id: string): Reject => ({
    rejectCode: RejectCode.DestinationInvalid,
    errorCode: 'IC0301',
    rejectMessage: `Canister ${id} not found`,
  }),
  methodNotFound: (id: string, kind: 'update' | 'query', method: string): Reject => ({
    rejectCode: RejectCode.DestinationInvalid,
    errorCode: 'IC0302',
    rejectMessage: `Canister ${id} has no ${kind} method '${method}'`,
  }),
  explicit: (message: string): Reject => ({
    rejectCode: RejectCode.CanisterReject,
    errorCode: 'IC0406',
    rejectMessage: message,
  }),
  inspectRejected: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterReject,
    errorCode: 'IC0406',
    rejectMessage: `Canister ${id} rejected the message`,
  }),
  calledTrap: (id: string, message: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0503',
    rejectMessage: `Canister ${id} trapped explicitly: ${message}`,
  }),
  trapped: (id: string, reason: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0502',
    rejectMessage: `Canister ${id} trapped: ${reason}`,
  }),
  contractViolation: (id: string, message: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0504',
    rejectMessage: `Canister ${id} violated contract: ${message}`,
  }),
  didNotReply: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0506',
    rejectMessage: `Canister ${id} did not produce a response`,
  }),
  instructionLimit: (id: string, limit: bigint): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0522',
    rejectMessage: `Canister ${id} exceeded the limit of ${limit} instructions for single message execution.`,
  }),
  noModule: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0537',
    rejectMessage: `Attempted to execute a message, but the canister ${id} contains no Wasm module.`,
  }),
  /**
   * The replica's HTTP handler refuses such a request with 413 before it
   * reaches a canister; the HTTP interface maps this errorCode to that status.
   */
  payloadTooLarge: (size: number, max: number): Reject => ({
    rejectCode: RejectCode.SysFatal,
    errorCode: 'PayloadTooLarge',
    rejectMessage: `Request is too large. Message byte size ${size} is larger than the max allowed ${max}.`,
  }),
  /** The management canister's errors, with the replica's error codes and wording. */
  managementCanisterNotFound: (id: string): Reject => ({
    rejectCode: RejectCode.DestinationInvalid,
    errorCode: 'IC0301',
    rejectMessage: `Canister ${id} not found.`,
  }),
  invalidController: (id: string, controllers: string[], sender: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0512',
    rejectMessage:
      `Only the controllers of the canister ${id} can control it.\n` +
      `Canister's controllers: ${controllers.join(' ')}\n` +
      `Sender's ID: ${sender}`,
  }),
  canisterNonEmpty: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0514',
    rejectMessage: `Canister ${id} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.`,
  }),
  invalidWasm: (id: string, reason: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0505',
    rejectMessage: `Error from Canister ${id}: Canister's Wasm module is not valid: ${reason}`,
  }),
  chunkStore: (message: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0504',
    rejectMessage: `Error from Wasm chunk store: ${message}.`,
  }),
  invalidSettings: (message: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0504',
    rejectMessage: `Could not validate the settings: ${message}`,
  }),
  invalidManagementPayload: (message: string): Reject => ({
    rejectCode: RejectCode.CanisterReject,
    errorCode: 'IC0408',
    rejectMessage: `Error decoding candid: ${message}`,
  }),
  unknownManagementMethod: (method: string): Reject => ({
    rejectCode: RejectCode.CanisterReject,
    errorCode: 'IC0407',
    rejectMessage: `Management canister has no method '${method}'`,
  }),
  canisterStopped: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0508',
    rejectMessage: `Canister ${id} is stopped`,
  }),
  canisterStopping: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0509',
    rejectMessage: `Canister ${id} is stopping`,
  }),
  stopCancelled: (id: string): Reject => ({
    rejectCode: RejectCode.CanisterError,
    errorCode: 'IC0511',
    rejectMessage: `Canister ${id}'s stop request was cancelled.`,
  }),
  managementUnsupported: (method: string): Reject => ({
    rejectCode: RejectCode.DestinationInvalid,
    errorCode: 'IC0302',
    rejectMessage: `Management canister method '${method}' is not supported by the local IC`,
  }),
};

/** Maps V8's Wasm trap messages to the replica's trap names. */
export function wasmTrapReason(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('unreachable')) return 'unreachable';
  if (m.includes('memory access out of bounds')) return 'heap out of bounds';
  if (m.includes('divide by zero') || m.includes('remainder by zero')) return 'integer division by 0';
  if (m.includes('integer overflow') || m.includes('divide result unrepresentable')) return 'integer overflow';
  if (m.includes('float unrepresentable')) return 'float unrepresentable in integer range';
  if (m.includes('table index is out of bounds')) return 'table out of bounds';
  if (m.includes('null function') || m.includes('function signature mismatch')) return 'indirect call type mismatch';
  if (m.includes('maximum call stack')) return 'stack overflow';
  return message;
}
