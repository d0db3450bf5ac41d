// Instruction costs of the IC's Wasm metering (the replica's
// `instruction_to_cost`, Wasm32 memory): most instructions cost 1, block
// markers 0, division 10, calls 5/10, branches 2, global access 2, memory.grow
// 300, bulk memory 100 plus one per byte (charged at run time), float
// operations by their measured weight. A plain table so the instrumentation
// can price every basic block exactly as a replica would.

/** Cost of a single-byte opcode (0x00..0xD2). */
export const OPCODE_COST = new Uint16Array(256).fill(1);

function set(cost: number, ...opcodes: number[]): void {
  for (const op of opcodes) OPCODE_COST[op] = cost;
}
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// block, loop, else, end: markers only.
set(0, 0x02, 0x03, 0x05, 0x0b);
// if, br, br_if, br_table.
set(2, 0x04, 0x0c, 0x0d, 0x0e);
// call, call_indirect, return_call, return_call_indirect.
set(5, 0x10);
set(10, 0x11);
set(3, 0x12);
set(60, 0x13);
// global.get/set, table.get/set.
set(2, 0x23, 0x24);
set(5, 0x25, 0x26);
// memory.size, memory.grow.
set(20, 0x3f);
set(300, 0x40);
// integer division and remainder.
set(10, 0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82);
// float comparisons.
set(3, ...range(0x5b, 0x66));
// f32 unary/binary.
set(2, 0x8d, 0x8e, 0x8f, 0x90, 0x92, 0x93, 0x94, 0x98);
set(5, 0x91);
set(3, 0x95);
set(18, 0x96, 0x97);
// f64 unary/binary.
set(2, 0x9b, 0x9c, 0x9d, 0x9e, 0xa0, 0xa1, 0xa2);
set(8, 0x9f);
set(5, 0xa3);
set(18, 0xa4, 0xa5);
set(3, 0xa6);
// float -> int truncations.
set(20, 0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1);
// int -> float conversions: signed 3, unsigned 16.
set(3, 0xb2, 0xb4, 0xb7, 0xb9);
set(16, 0xb3, 0xb5, 0xb8, 0xba);
// Prefix bytes: the instruction's cost is added once its sub-opcode is read.
set(0, 0xfc, 0xfd, 0xfe);
// ref.is_null, ref.func.
set(5, 0xd1);
set(130, 0xd2);

/** Cost of a 0xFC-prefixed instruction by sub-opcode. */
export function miscOpcodeCost(sub: number): number {
  if (sub <= 7) return 20; // saturating truncations
  if (sub === 9 || sub === 13) return 300; // data.drop, elem.drop
  if (sub === 15) return 300; // table.grow
  if (sub === 16) return 100; // table.size
  return 100; // memory.init/copy/fill, table.init/copy/fill
}

/**
 * Fixed cost, in instructions, the IC charges for each system API call on top
 * of the call instruction itself ("new" metering); calls that move bytes
 * between the heap and the system add one instruction per byte.
 */
export const SYSTEM_API_OVERHEAD: Record<string, number> = {
  accept_message: 500,
  call_cycles_add: 500,
  call_cycles_add128: 500,
  call_data_append: 500,
  call_new: 1_500,
  call_on_cleanup: 500,
  call_perform: 5_000,
  call_with_best_effort_response: 500,
  canister_cycle_balance: 500,
  canister_cycle_balance128: 500,
  canister_liquid_cycle_balance128: 500,
  canister_self_copy: 500,
  canister_self_size: 500,
  canister_status: 500,
  canister_version: 500,
  certified_data_set: 500,
  cycles_burn128: 100,
  data_certificate_copy: 500,
  data_certificate_present: 500,
  data_certificate_size: 500,
  debug_print: 100,
  global_timer_set: 500,
  is_controller: 1_000,
  msg_arg_data_copy: 500,
  msg_arg_data_size: 500,
  msg_caller_copy: 500,
  msg_caller_size: 500,
  msg_cycles_accept: 500,
  msg_cycles_accept128: 500,
  msg_cycles_available: 500,
  msg_cycles_available128: 500,
  msg_cycles_refunded: 500,
  msg_cycles_refunded128: 500,
  msg_method_name_copy: 500,
  msg_method_name_size: 500,
  msg_reject_code: 500,
  msg_reject_msg_copy: 500,
  msg_reject_msg_size: 500,
  msg_reject: 500,
  msg_reply_data_append: 500,
  msg_reply: 500,
  performance_counter: 200,
  stable_grow: 100,
  stable_read: 20,
  stable_size: 20,
  stable_write: 20,
  stable64_grow: 100,
  stable64_read: 20,
  stable64_size: 20,
  stable64_write: 20,
  time: 500,
  trap: 500,
};
