// The `ic0` system API: one JavaScript function per import a canister module
// may declare. Each charges the IC's fixed overhead (plus one instruction per
// byte moved), checks the rules the IC enforces for the calling context, and
// reads or stages state through the host (the canister being executed).
import { SYSTEM_API_OVERHEAD } from '../wasm/costs.js';
import { CanisterTrap } from './errors.js';
import type { MessageContext } from './message.js';
import { StableMemoryOutOfBounds, type StableMemory } from './stable-memory.js';

export interface SystemApiHost {
  /** The message being executed (throws when none is). */
  message(): MessageContext;
  /** The canister's Wasm memory as bytes (fresh view after growth). */
  heap(): Uint8Array;
  /** Subtracts instructions from the message's counter; throws past the limit. */
  charge(instructions: number): void;
  /** Instructions used so far by the running message. */
  instructionsUsed(): bigint;
  readonly stable: StableMemory;
  readonly selfId: Uint8Array;
  isController(principal: Uint8Array): boolean;
  /** Global timer deadline as committed (0 = inactive). */
  committedTimer(): bigint;
  canisterVersion(): bigint;
  cyclesBalance(): bigint;
  log(line: string): void;
}

/** Cycles balance reported to canisters (the local IC does not charge cycles). */
const decoder = new TextDecoder();
const MAX_CALL_ARG = 2 * 1024 * 1024;

type Fn = (...args: never[]) => unknown;

export function createSystemApi(host: SystemApiHost): Record<string, Fn> {
  const charge = (name: string, bytes = 0): void => host.charge((SYSTEM_API_OVERHEAD[name] ?? 0) + bytes);

  const bounds = (heap: Uint8Array, ptr: number, size: number, what: string): void => {
    if (ptr < 0 || size < 0 || ptr + size > heap.length) {
      throw new CanisterTrap(`${what}: heap out of bounds`, 'contract');
    }
  };
  const readHeap = (ptr: number, size: number, what: string): Uint8Array => {
    const heap = host.heap();
    bounds(heap, ptr, size, what);
    return heap.slice(ptr, ptr + size);
  };
  /** The `*_copy(dst, offset, size)` pattern: copy a slice of `data` into the heap. */
  const copyOut = (name: string, data: Uint8Array, dst: number, offset: number, size: number): void => {
    charge(name, size);
    if (offset + size > data.length) {
      throw new CanisterTrap(`ic0.${name}: offset ${offset} + size ${size} exceeds ${data.length}`, 'contract');
    }
    const heap = host.heap();
    bounds(heap, dst, size, `ic0.${name}`);
    heap.set(data.subarray(offset, offset + size), dst);
  };
  const write128 = (dst: number, value: bigint): void => {
    const heap = host.heap();
    bounds(heap, dst, 16, 'cycles');
    const view = new DataView(heap.buffer, heap.byteOffset + dst, 16);
    view.setBigUint64(0, value & 0xffffffffffffffffn, true);
    view.setBigUint64(8, value >> 64n, true);
  };
  const notIn = (name: string, ...kinds: MessageContext['kind'][]): MessageContext => {
    const m = host.message();
    if (kinds.includes(m.kind)) {
      throw new CanisterTrap(`"ic0_${name}" cannot be executed in ${m.kind.replace(/_/g, ' ')} mode`, 'contract');
    }
    return m;
  };
  const respond = (name: string): MessageContext => {
    const m = host.message();
    if (!m.canRespond) {
      throw new CanisterTrap(`ic0.${name}: the call is already replied or cannot be replied to`, 'contract');
    }
    return m;
  };
  const stableAccess = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof StableMemoryOutOfBounds) throw new CanisterTrap(err.message, 'contract');
      throw err;
    }
  };

  const api = {
    // --- message data ---
    msg_arg_data_size: (): number => {
      charge('msg_arg_data_size');
      return host.message().arg.length;
    },
    msg_arg_data_copy: (dst: number, offset: number, size: number): void =>
      copyOut('msg_arg_data_copy', host.message().arg, dst, offset, size),
    msg_caller_size: (): number => {
      charge('msg_caller_size');
      return host.message().caller.length;
    },
    msg_caller_copy: (dst: number, offset: number, size: number): void =>
      copyOut('msg_caller_copy', host.message().caller, dst, offset, size),
    msg_method_name_size: (): number => {
      charge('msg_method_name_size');
      return new TextEncoder().encode(host.message().method).length;
    },
    msg_method_name_copy: (dst: number, offset: number, size: number): void =>
      copyOut('msg_method_name_copy', new TextEncoder().encode(host.message().method), dst, offset, size),
    msg_reject_code: (): number => {
      charge('msg_reject_code');
      return host.message().rejectCode;
    },
    msg_reject_msg_size: (): number => {
      charge('msg_reject_msg_size');
      const m = host.message();
      if (m.kind !== 'reject_callback') throw new CanisterTrap('ic0.msg_reject_msg_size: not in a reject callback', 'contract');
      return new TextEncoder().encode(m.rejectMessage).length;
    },
    msg_reject_msg_copy: (dst: number, offset: number, size: number): void => {
      const m = host.message();
      if (m.kind !== 'reject_callback') throw new CanisterTrap('ic0.msg_reject_msg_copy: not in a reject callback', 'contract');
      copyOut('msg_reject_msg_copy', new TextEncoder().encode(m.rejectMessage), dst, offset, size);
    },

    // --- responding ---
    msg_reply_data_append: (src: number, size: number): void => {
      charge('msg_reply_data_append', size);
      const m = respond('msg_reply_data_append');
      m.replyChunks.push(readHeap(src, size, 'ic0.msg_reply_data_append'));
    },
    msg_reply: (): void => {
      charge('msg_reply');
      const m = respond('msg_reply');
      const total = m.replyChunks.reduce((n, c) => n + c.length, 0);
      const data = new Uint8Array(total);
      let off = 0;
      for (const c of m.replyChunks) {
        data.set(c, off);
        off += c.length;
      }
      m.response = { kind: 'reply', data };
      m.canRespond = false;
    },
    msg_reject: (src: number, size: number): void => {
      charge('msg_reject', size);
      const m = respond('msg_reject');
      m.response = { kind: 'reject', message: decoder.decode(readHeap(src, size, 'ic0.msg_reject')) };
      m.canRespond = false;
    },
    accept_message: (): void => {
      charge('accept_message');
      const m = host.message();
      if (m.kind !== 'inspect_message') throw new CanisterTrap('ic0.accept_message: only in canister_inspect_message', 'contract');
      if (m.accepted) throw new CanisterTrap('ic0.accept_message: message already accepted', 'contract');
      m.accepted = true;
    },

    // --- cycles (not charged locally; a large constant balance) ---
    msg_cycles_available: (): bigint => (charge('msg_cycles_available'), 0n),
    msg_cycles_available128: (dst: number): void => (charge('msg_cycles_available128'), write128(dst, 0n)),
    msg_cycles_refunded: (): bigint => (charge('msg_cycles_refunded'), 0n),
    msg_cycles_refunded128: (dst: number): void => (charge('msg_cycles_refunded128'), write128(dst, 0n)),
    msg_cycles_accept: (): bigint => (charge('msg_cycles_accept'), 0n),
    msg_cycles_accept128: (_high: bigint, _low: bigint, dst: number): void => (
      charge('msg_cycles_accept128'), write128(dst, 0n)
    ),
    canister_cycle_balance: (): bigint => (charge('canister_cycle_balance'), host.cyclesBalance()),
    canister_cycle_balance128: (dst: number): void => (
      charge('canister_cycle_balance128'), write128(dst, host.cyclesBalance())
    ),
    canister_liquid_cycle_balance128: (dst: number): void => (
      charge('canister_liquid_cycle_balance128'), write128(dst, host.cyclesBalance())
    ),
    cycles_burn128: (_high: bigint, _low: bigint, dst: number): void => (charge('cycles_burn128'), write128(dst, 0n)),
    call_cycles_add: (): void => charge('call_cycles_add'),
    call_cycles_add128: (): void => charge('call_cycles_add128'),
    cost_call: (_methodNameSize: bigint, _payloadSize: bigint, dst: number): void => write128(dst, 0n),
    cost_create_canister: (dst: number): void => write128(dst, 0n),
    cost_http_request: (_a: bigint, _b: bigint, dst: number): void => write128(dst, 0n),

    // --- canister ---
    canister_self_size: (): number => (charge('canister_self_size'), host.selfId.length),
    canister_self_copy: (dst: number, offset: number, size: number): void =>
      copyOut('canister_self_copy', host.selfId, dst, offset, size),
    canister_version: (): bigint => (charge('canister_version'), host.canisterVersion()),
    canister_status: (): number => (charge('canister_status'), 1),
    is_controller: (src: number, size: number): number => {
      charge('is_controller', size);
      if (size > 29) throw new CanisterTrap('ic0.is_controller: principal longer than 29 bytes', 'contract');
      return host.isController(readHeap(src, size, 'ic0.is_controller')) ? 1 : 0;
    },
    in_replicated_execution: (): number => {
      const k = host.message().kind;
      return k === 'query' || k === 'inspect_message' ? 0 : 1;
    },

    // --- inter-canister calls ---
    call_new: (
      calleeSrc: number,
      calleeSize: number,
      nameSrc: number,
      nameSize: number,
      replyFn: number,
      replyEnv: number,
      rejectFn: number,
      rejectEnv: number,
    ): void => {
      charge('call_new', calleeSize + nameSize);
      const m = notIn('call_new', 'query', 'inspect_message', 'init', 'pre_upgrade', 'post_upgrade', 'start', 'cleanup');
      m.pendingCall = {
        callee: readHeap(calleeSrc, calleeSize, 'ic0.call_new'),
        method: decoder.decode(readHeap(nameSrc, nameSize, 'ic0.call_new')),
        reply: { fn: replyFn, env: replyEnv },
        reject: { fn: rejectFn, env: rejectEnv },
        cleanup: undefined,
        chunks: [],
      };
    },
    call_on_cleanup: (fn: number, env: number): void => {
      charge('call_on_cleanup');
      const p = host.message().pendingCall;
      if (!p) throw new CanisterTrap('ic0.call_on_cleanup: no call under construction', 'contract');
      if (p.cleanup) throw new CanisterTrap('ic0.call_on_cleanup: cleanup already set', 'contract');
      p.cleanup = { fn, env };
    },
    call_data_append: (src: number, size: number): void => {
      charge('call_data_append', size);
      const p = host.message().pendingCall;
      if (!p) throw new CanisterTrap('ic0.call_data_append: no call under construction', 'contract');
      p.chunks.push(readHeap(src, size, 'ic0.call_data_append'));
    },
    call_with_best_effort_response: (): void => {
      charge('call_with_best_effort_response');
      if (!host.message().pendingCall) {
        throw new CanisterTrap('ic0.call_with_best_effort_response: no call under construction', 'contract');
      }
    },
    call_perform: (): number => {
      charge('call_perform');
      const m = host.message();
      const p = m.pendingCall;
      if (!p) throw new CanisterTrap('ic0.call_perform: no call under construction', 'contract');
      m.pendingCall = undefined;
      const total = p.chunks.reduce((n, c) => n + c.length, 0);
      if (total > MAX_CALL_ARG) return 2; // SYS_TRANSIENT-style synchronous failure, as the IC does for oversized requests
      const arg = new Uint8Array(total);
      let off = 0;
      for (const c of p.chunks) {
        arg.set(c, off);
        off += c.length;
      }
      m.outgoing.push({ callee: p.callee, method: p.method, arg, reply: p.reply, reject: p.reject, cleanup: p.cleanup });
      return 0;
    },

    // --- stable memory (64-bit and legacy 32-bit) ---
    stable64_size: (): bigint => (charge('stable64_size'), BigInt(host.stable.sizePages)),
    stable64_grow: (pages: bigint): bigint => {
      charge('stable64_grow');
      return BigInt(host.stable.grow(Number(pages)));
    },
    stable64_read: (dst: bigint, offset: bigint, size: bigint): void => {
      charge('stable64_read', Number(size));
      const heap = host.heap();
      bounds(heap, Number(dst), Number(size), 'ic0.stable64_read');
      stableAccess(() => host.stable.read(heap, Number(dst), Number(offset), Number(size)));
    },
    stable64_write: (offset: bigint, src: bigint, size: bigint): void => {
      charge('stable64_write', Number(size));
      const heap = host.heap();
      bounds(heap, Number(src), Number(size), 'ic0.stable64_write');
      stableAccess(() => host.stable.write(heap, Number(src), Number(offset), Number(size)));
    },
    stable_size: (): number => {
      charge('stable_size');
      if (host.stable.sizePages > 65536) throw new CanisterTrap('ic0.stable_size: stable memory beyond 4 GiB', 'contract');
      return host.stable.sizePages;
    },
    stable_grow: (pages: number): number => {
      charge('stable_grow');
      if (host.stable.sizePages + pages > 65536) return -1;
      return host.stable.grow(pages);
    },
    stable_read: (dst: number, offset: number, size: number): void => {
      charge('stable_read', size);
      const heap = host.heap();
      bounds(heap, dst, size, 'ic0.stable_read');
      stableAccess(() => host.stable.read(heap, dst, offset >>> 0, size));
    },
    stable_write: (offset: number, src: number, size: number): void => {
      charge('stable_write', size);
      const heap = host.heap();
      bounds(heap, src, size, 'ic0.stable_write');
      stableAccess(() => host.stable.write(heap, src, offset >>> 0, size));
    },

    // --- certification ---
    certified_data_set: (src: number, size: number): void => {
      charge('certified_data_set', size);
      const m = notIn('certified_data_set', 'query', 'inspect_message');
      if (size > 32) throw new CanisterTrap('ic0.certified_data_set: certified data is at most 32 bytes', 'contract');
      m.certifiedData = readHeap(src, size, 'ic0.certified_data_set');
    },
    data_certificate_present: (): number => {
      charge('data_certificate_present');
      return host.message().certificate ? 1 : 0;
    },
    data_certificate_size: (): number => {
      charge('data_certificate_size');
      const cert = host.message().certificate;
      if (!cert) throw new CanisterTrap('ic0.data_certificate_size: no certificate in this context', 'contract');
      return cert.length;
    },
    data_certificate_copy: (dst: number, offset: number, size: number): void => {
      const cert = host.message().certificate;
      if (!cert) throw new CanisterTrap('ic0.data_certificate_copy: no certificate in this context', 'contract');
      copyOut('data_certificate_copy', cert, dst, offset, size);
    },

    // --- time, timers, counters ---
    time: (): bigint => (charge('time'), host.message().time),
    global_timer_set: (timestamp: bigint): bigint => {
      charge('global_timer_set');
      const m = notIn('global_timer_set', 'query', 'inspect_message');
      const previous = m.globalTimer ?? host.committedTimer();
      m.globalTimer = BigInt.asUintN(64, timestamp);
      return previous;
    },
    performance_counter: (type: number): bigint => {
      charge('performance_counter');
      const used = host.instructionsUsed();
      if (type === 0) return used;
      if (type === 1) return host.message().callContextInstructions + used;
      throw new CanisterTrap(`ic0.performance_counter: unknown counter type ${type}`, 'contract');
    },
    instruction_counter: (): bigint => (charge('performance_counter'), host.instructionsUsed()),

    // --- debugging ---
    debug_print: (src: number, size: number): void => {
      charge('debug_print', size);
      host.log(decoder.decode(readHeap(src, size, 'ic0.debug_print')));
    },
    trap: (src: number, size: number): never => {
      charge('trap', size);
      throw new CanisterTrap(decoder.decode(readHeap(src, size, 'ic0.trap')));
    },
  };
  return api as unknown as Record<string, Fn>;
}

/**
 * The arguments (by position) and results the interface specification types
 * `I`: i32 in a module with a 32-bit memory, i64 with a 64-bit one (memory64,
 * as moc emits for enhanced orthogonal persistence). Other i64 arguments
 * (stable memory offsets, timestamps, cycle amounts) are i64 either way.
 */
const ADDRESS_TYPED: Record<string, { args: number[]; result?: true }> = {
  msg_arg_data_size: { args: [], result: true },
  msg_arg_data_copy: { args: [0, 1, 2] },
  msg_caller_size: { args: [], result: true },
  msg_caller_copy: { args: [0, 1, 2] },
  msg_method_name_size: { args: [], result: true },
  msg_method_name_copy: { args: [0, 1, 2] },
  msg_reject_msg_size: { args: [], result: true },
  msg_reject_msg_copy: { args: [0, 1, 2] },
  msg_reply_data_append: { args: [0, 1] },
  msg_reject: { args: [0, 1] },
  msg_cycles_available128: { args: [0] },
  msg_cycles_refunded128: { args: [0] },
  msg_cycles_accept128: { args: [2] },
  canister_cycle_balance128: { args: [0] },
  canister_liquid_cycle_balance128: { args: [0] },
  cycles_burn128: { args: [2] },
  canister_self_size: { args: [], result: true },
  canister_self_copy: { args: [0, 1, 2] },
  is_controller: { args: [0, 1] },
  call_new: { args: [0, 1, 2, 3, 4, 5, 6, 7] },
  call_on_cleanup: { args: [0, 1] },
  call_data_append: { args: [0, 1] },
  certified_data_set: { args: [0, 1] },
  data_certificate_size: { args: [], result: true },
  data_certificate_copy: { args: [0, 1, 2] },
  cost_call: { args: [2] },
  cost_create_canister: { args: [0] },
  cost_http_request: { args: [2] },
  debug_print: { args: [0, 1] },
  trap: { args: [0, 1] },
};

/**
 * The system API as a module with a 64-bit memory imports it: its addresses
 * and sizes arrive as BigInt and the `I`-typed sizes must be returned as
 * BigInt. The functions above work on numbers (a heap here stays far below
 * 2^53 bytes), so only those arguments and results are converted.
 */
export function forMemory64(api: Record<string, Fn>): Record<string, Fn> {
  const out: Record<string, Fn> = { ...api };
  for (const [name, spec] of Object.entries(ADDRESS_TYPED)) {
    const f = api[name] as (...a: unknown[]) => unknown;
    if (!f) continue;
    const { args, result } = spec;
    out[name] = ((...a: unknown[]) => {
      for (const i of args) if (typeof a[i] === 'bigint') a[i] = Number(a[i]);
      const r = f(...a);
      return result && typeof r === 'number' ? BigInt(r) : r;
    }) as Fn;
  }
  return out;
}

/** Names of the `ic0` functions this runtime implements. */
export const IMPLEMENTED_IC0 = new Set(
  Object.keys(
    createSystemApi({
      message: () => {
        throw new Error('unused');
      },
    } as unknown as SystemApiHost),
  ),
);
