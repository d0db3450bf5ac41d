// The state of one message execution as the system API sees it. Everything a
// message does besides writing heap and stable memory (its reply, the calls it
// makes, the timer and certified data it sets) is staged here and applied
// only if the message commits, so a trap leaves no trace.

export type MessageKind =
  | 'start'
  | 'init'
  | 'pre_upgrade'
  | 'post_upgrade'
  | 'update'
  | 'query'
  | 'replicated_query'
  | 'inspect_message'
  | 'global_timer'
  | 'heartbeat'
  | 'reply_callback'
  | 'reject_callback'
  | 'cleanup';

export interface Closure {
  fn: number;
  env: number;
}

export interface OutgoingCall {
  callee: Uint8Array;
  method: string;
  arg: Uint8Array;
  reply: Closure;
  reject: Closure;
  cleanup: Closure | undefined;
}

export interface PendingCall extends Omit<OutgoingCall, 'arg'> {
  chunks: Uint8Array[];
}

export type Response = { kind: 'reply'; data: Uint8Array } | { kind: 'reject'; message: string };

export interface MessageContext {
  kind: MessageKind;
  method: string;
  arg: Uint8Array;
  caller: Uint8Array;
  /** Reject code and message seen by a reject callback. */
  rejectCode: number;
  rejectMessage: string;
  /** Certificate for `data_certificate_*` (non-replicated queries only). */
  certificate: Uint8Array | undefined;
  time: bigint;
  limit: bigint;
  /** Instructions already used by earlier executions in the same call context. */
  callContextInstructions: bigint;
  /** False once the call context has been responded to (or for contexts without a caller). */
  canRespond: boolean;
  replyChunks: Uint8Array[];
  response: Response | undefined;
  pendingCall: PendingCall | undefined;
  outgoing: OutgoingCall[];
  globalTimer: bigint | undefined;
  certifiedData: Uint8Array | undefined;
  accepted: boolean;
}

export function newMessage(
  init: Pick<MessageContext, 'kind' | 'method' | 'arg' | 'caller' | 'time' | 'limit'> &
    Partial<Pick<MessageContext, 'rejectCode' | 'rejectMessage' | 'certificate' | 'callContextInstructions' | 'canRespond'>>,
): MessageContext {
  const respondable =
    init.kind === 'update' ||
    init.kind === 'query' ||
    init.kind === 'replicated_query' ||
    init.kind === 'reply_callback' ||
    init.kind === 'reject_callback';
  return {
    rejectCode: 0,
    rejectMessage: '',
    certificate: undefined,
    callContextInstructions: 0n,
    canRespond: respondable,
    replyChunks: [],
    response: undefined,
    pendingCall: undefined,
    outgoing: [],
    globalTimer: undefined,
    certifiedData: undefined,
    accepted: false,
    ...init,
  };
}

/** Whether a message kind may change state that survives it. */
export function isReplicated(kind: MessageKind): boolean {
  return kind !== 'query' && kind !== 'inspect_message';
}
