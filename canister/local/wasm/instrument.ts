// Instruments a canister module the way the IC's replica does before running
// it, directly on the binary (no IR round trip, so the instruction stream the
// costs are computed from is exactly the one a replica meters):
//
// - a mutable i64 global, exported as `canister counter_instructions`, starts
//   each message at the message's instruction limit; every basic block
//   subtracts its cost (from ./costs.ts) on entry, function entries and loop
//   headers also check for a negative counter and execute `unreachable` (the
//   runtime sees the negative counter and reports the limit, not a trap);
// - bulk memory instructions (memory.copy/fill/init, table.*) subtract their
//   byte count at run time through a small helper function;
// - every mutable global (the stack pointer among them) and the function table
//   are exported, so the runtime can save and restore them around a message
//   and call reply/reject callbacks by table index;
// - a start function is exported as `canister_start` instead, so it runs once
//   the counter is set;
// - memory 0 is exported under a name of the runtime's own: the IC finds a
//   module's memory whatever its export is called (Motoko calls it `mem`), or
//   when it is not exported at all;
// - a 64-bit table (table64, which moc's enhanced orthogonal persistence
//   emits next to 64-bit memory) is lowered to a 32-bit one: Node 20's V8
//   validates 64-bit memories behind a flag but not 64-bit tables at all.
//   Its index operands are wrapped to i32 (`call_indirect`, `table.get`,
//   `table.grow`, `table.size`); instructions whose index is not on top of
//   the stack are refused (moc uses none of them).
//
// Only entries are appended (a type, a global, a function, exports), so no
// existing index moves and the rest of the module is copied byte for byte.
import { miscOpcodeCost, OPCODE_COST } from './costs.js';
import {
  concatBytes,
  encodeName,
  encodeS64,
  encodeU32,
  readSections,
  Reader,
  SECTION,
  sectionRank,
  type Section,
  vectorPayload,
  WasmFormatError,
  writeSections,
} from './binary.js';

export const COUNTER_EXPORT = 'canister counter_instructions';
export const TABLE_EXPORT = '__local_ic_table';
export const GLOBAL_EXPORT_PREFIX = '__local_ic_global_';
export const START_EXPORT = 'canister_start';
export const MEMORY_EXPORT = '__local_ic_memory';

export interface InstrumentOptions {
  /** Inject the instruction counter (default true). Without it only the exports are added. */
  metering?: boolean;
}

export interface InstrumentResult {
  wasm: Uint8Array;
  /** Export names of the module's mutable globals (stack pointer and the like). */
  globalExports: string[];
  /** Export name of table 0, if the module has a table. */
  tableExport: string | undefined;
  /** Whether the module had a start function (now exported as `canister_start`). */
  hasStart: boolean;
  /** Number of function bodies instrumented. */
  functions: number;
  /** Export name of memory 0, if the module has a memory. */
  memoryExport: string | undefined;
  /** Memory 0 is a 64-bit memory (memory64): the system API then takes and returns i64 addresses. */
  memory64: boolean;
  /** A 64-bit table was lowered to a 32-bit one. */
  table64Lowered: boolean;
}

interface ImportCounts {
  funcs: number;
  tables: number;
  memories: number;
  globals: number;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 1) r.skipLeb();
}

function countImports(payload: Uint8Array): ImportCounts {
  const r = new Reader(payload);
  const n = r.u32();
  const counts: ImportCounts = { funcs: 0, tables: 0, memories: 0, globals: 0 };
  for (let i = 0; i < n; i++) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      counts.funcs++;
    } else if (kind === 1) {
      r.byte();
      skipLimits(r);
      counts.tables++;
    } else if (kind === 2) {
      skipLimits(r);
      counts.memories++;
    } else if (kind === 3) {
      r.byte();
      r.byte();
      counts.globals++;
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else {
      throw new WasmFormatError(`unknown import kind ${kind}`);
    }
  }
  return counts;
}

function vectorCount(payload: Uint8Array | undefined): number {
  return payload ? new Reader(payload).u32() : 0;
}

/** Items of a vector section without its leading count. */
function vectorItems(payload: Uint8Array | undefined): Uint8Array {
  if (!payload) return new Uint8Array(0);
  const r = new Reader(payload);
  r.u32();
  return payload.subarray(r.pos);
}

/** Indices (in the global index space) of the module's own mutable globals. */
function mutableGlobals(payload: Uint8Array | undefined, importedGlobals: number): number[] {
  if (!payload) return [];
  const r = new Reader(payload);
  const n = r.u32();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    r.byte(); // value type
    const mutable = r.byte() === 1;
    if (mutable) out.push(importedGlobals + i);
    skipConstExpr(r);
  }
  return out;
}

/** Growable output buffer for the rewritten code section. */
class Out {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  push(bytes: ArrayLike<number>): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }
  copy(src: Uint8Array, from: number, to: number): void {
    this.reserve(to - from);
    this.buf.set(src.subarray(from, to), this.len);
    this.len += to - from;
  }
}

// Injection event kinds. Positions are byte offsets of the instruction the
// event is inserted before; at equal positions events are emitted by `order`.
const ENTRY = 0; // function entry: load the counter into the function's local
const RELOAD = 1; // after a call: the callee (or the host) changed the counter
const PLAIN = 2; // non-reentrant block start or block end: subtract only
const REENTRANT = 3; // function entry or loop header: subtract and check
const DYNAMIC = 4; // before a bulk memory instruction: subtract its size operand
const FLUSH = 5; // before a call, a return or leaving the function: store the counter
const WRAP = 6; // table64 lowering: i32.wrap_i64 of the index operand before the instruction
const EXTEND_U = 7; // table64 lowering: i64.extend_i32_u of the result after the instruction
const EXTEND_S = 8; // table64 lowering: i64.extend_i32_s (table.grow's -1 stays -1)
const DYNAMIC64 = 9; // before a bulk instruction of a 64-bit memory: subtract its i64 size operand
const ORDER = [0, 0, 1, 1, 2, 2, 2, 2, 2, 2];
const LOWERING = new Set([WRAP, EXTEND_U, EXTEND_S]);

/** What the scan of a function body needs to know about the module. */
interface BodyContext {
  /** Per table index: whether it is a 64-bit table being lowered. */
  table64: boolean[];
  /** Memory 0 is 64-bit: memory.copy/fill take an i64 size. */
  memory64: boolean;
}

function table64Unsupported(what: string): never {
  throw new WasmFormatError(`${what} on a 64-bit table is not supported by the local IC`);
}

/**
 * Scans one function body's instructions from `start` to `end` and returns
 * its injection events as flat triples [position, kind, cost, ...] sorted for
 * emission. Basic blocks and their costs follow the replica's `injections`:
 * a block ends at loop, if, else, end, br, br_if, br_table, return,
 * unreachable and the return_call forms; a function entry or loop header is
 * re-entrant and checks the limit; a block that costs nothing gets no code.
 */
function injectionPoints(code: Uint8Array, start: number, end: number, ctx: BodyContext): number[] {
  const events: number[] = [start, ENTRY, 0];
  // The function itself is a re-entrant block and costs at least 1.
  let curPos = start;
  let curKind = REENTRANT;
  let curCost = 1;
  let depth = 0; // nesting of block/loop/if; a branch to label `depth` leaves the function
  const flush = (nextPos: number, nextKind: number): void => {
    if (curKind === REENTRANT || curCost > 0) events.push(curPos, curKind, curCost);
    curPos = nextPos;
    curKind = nextKind;
    curCost = 0;
  };
  const r = new Reader(code, start, end);
  while (r.pos < end) {
    const at = r.pos;
    const op = code[r.pos++];
    curCost += OPCODE_COST[op];
    switch (op) {
      case 0x02: // block
      case 0x03: // loop
      case 0x04: {
        // if
        const bt = code[r.pos];
        if (bt === 0x40 || (bt >= 0x6f && bt <= 0x7f)) r.pos++;
        else r.skipLeb();
        depth++;
        if (op === 0x03) flush(r.pos, REENTRANT);
        else if (op === 0x04) flush(r.pos, PLAIN);
        break;
      }
      case 0x0b: // end
        if (depth === 0) events.push(at, FLUSH, 0); // the function's own end
        depth--;
        flush(r.pos, PLAIN);
        break;
      case 0x05: // else
      case 0x00: // unreachable
        flush(r.pos, PLAIN);
        break;
      case 0x0f: // return
        events.push(at, FLUSH, 0);
        flush(r.pos, PLAIN);
        break;
      case 0x0c: // br
      case 0x0d: {
        // br_if
        if (r.u32() === depth) events.push(at, FLUSH, 0);
        flush(r.pos, PLAIN);
        break;
      }
      case 0x12: // return_call
        r.skipLeb();
        events.push(at, FLUSH, 0);
        flush(r.pos, PLAIN);
        break;
      case 0x13: {
        // return_call_indirect
        r.skipLeb();
        const table = r.u32();
        events.push(at, FLUSH, 0);
        if (ctx.table64[table]) events.push(at, WRAP, 0);
        flush(r.pos, PLAIN);
        break;
      }
      case 0x25: // table.get
        if (ctx.table64[r.u32()]) events.push(at, WRAP, 0);
        break;
      case 0x26: // table.set
        if (ctx.table64[r.u32()]) table64Unsupported('table.set');
        break;
      case 0x0e: {
        // br_table
        const n = r.u32();
        let leaves = false;
        for (let i = 0; i <= n; i++) if (r.u32() === depth) leaves = true;
        if (leaves) events.push(at, FLUSH, 0);
        flush(r.pos, PLAIN);
        break;
      }
      case 0x10: // call
        r.skipLeb();
        events.push(at, FLUSH, 0, r.pos, RELOAD, 0);
        break;
      case 0x11: {
        // call_indirect
        r.skipLeb();
        const table = r.u32();
        events.push(at, FLUSH, 0);
        if (ctx.table64[table]) events.push(at, WRAP, 0);
        events.push(r.pos, RELOAD, 0);
        break;
      }
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x24:
      case 0x3f:
      case 0x40:
      case 0x41:
      case 0x42:
      case 0xd0:
      case 0xd2:
        r.skipLeb();
        break;
      case 0x1c: {
        // select t*
        const n = r.u32();
        r.pos += n;
        break;
      }
      case 0x43:
        r.pos += 4;
        break;
      case 0x44:
        r.pos += 8;
        break;
      case 0xfc: {
        const sub = r.u32();
        curCost += miscOpcodeCost(sub);
        switch (sub) {
          case 8: // memory.init (its size is an i32 even for a 64-bit memory)
            r.skipLeb();
            r.skipLeb();
            events.push(at, DYNAMIC, 0);
            break;
          case 10: // memory.copy
            r.skipLeb();
            r.skipLeb();
            events.push(at, ctx.memory64 ? DYNAMIC64 : DYNAMIC, 0);
            break;
          case 12: // table.init
            r.skipLeb();
            if (ctx.table64[r.u32()]) table64Unsupported('table.init');
            events.push(at, DYNAMIC, 0);
            break;
          case 14: {
            // table.copy
            const dst = r.u32();
            const src = r.u32();
            if (ctx.table64[dst] || ctx.table64[src]) table64Unsupported('table.copy');
            events.push(at, DYNAMIC, 0);
            break;
          }
          case 11: // memory.fill
            r.skipLeb();
            events.push(at, ctx.memory64 ? DYNAMIC64 : DYNAMIC, 0);
            break;
          case 17: // table.fill
            if (ctx.table64[r.u32()]) table64Unsupported('table.fill');
            events.push(at, DYNAMIC, 0);
            break;
          case 15: // table.grow: [ref, n] -> old size or -1
            if (ctx.table64[r.u32()]) events.push(at, WRAP, 0, r.pos, EXTEND_S, 0);
            break;
          case 16: // table.size
            if (ctx.table64[r.u32()]) events.push(r.pos, EXTEND_U, 0);
            break;
          case 9:
          case 13:
            r.skipLeb();
            break;
          default:
            if (sub > 17) throw new WasmFormatError(`unknown 0xFC instruction ${sub}`);
        }
        break;
      }
      case 0xfd: {
        const sub = r.u32();
        curCost += 1;
        if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r);
        else if (sub === 12 || sub === 13) r.pos += 16;
        else if (sub >= 21 && sub <= 34) r.pos += 1;
        else if (sub >= 84 && sub <= 91) {
          skipMemarg(r);
          r.pos += 1;
        }
        break;
      }
      case 0xfe: {
        const sub = r.u32();
        curCost += 1;
        if (sub === 3) r.pos += 1;
        else skipMemarg(r);
        break;
      }
      default:
        if (op >= 0x28 && op <= 0x3e) skipMemarg(r);
        else if (
          op === 0x01 ||
          op === 0x1a ||
          op === 0x1b ||
          op === 0xd1 ||
          (op >= 0x45 && op <= 0xc4)
        ) {
          // no immediates
        } else {
          throw new WasmFormatError(`unsupported instruction 0x${op.toString(16)} at byte ${at}`);
        }
    }
  }
  if (r.pos !== end) throw new WasmFormatError('function body overruns its size');
  // Sort by (position, order) keeping insertion order otherwise.
  const n = events.length / 3;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => events[a * 3] - events[b * 3] || ORDER[events[a * 3 + 1]] - ORDER[events[b * 3 + 1]] || a - b);
  const out = new Array<number>(events.length);
  for (let i = 0; i < n; i++) {
    out[i * 3] = events[idx[i] * 3];
    out[i * 3 + 1] = events[idx[i] * 3 + 1];
    out[i * 3 + 2] = events[idx[i] * 3 + 2];
  }
  return out;
}

function skipMemarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.skipLeb();
  r.skipLeb();
}

/** Number of parameters of each function defined in the module, in order. */
function functionParamCounts(types: Uint8Array | undefined, funcs: Uint8Array | undefined): number[] {
  const params: number[] = [];
  if (types) {
    const r = new Reader(types);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const form = r.byte();
      if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)}`);
      const np = r.u32();
      for (let j = 0; j < np; j++) r.byte();
      const nr = r.u32();
      for (let j = 0; j < nr; j++) r.byte();
      params.push(np);
    }
  }
  const out: number[] = [];
  if (funcs) {
    const r = new Reader(funcs);
    const n = r.u32();
    for (let i = 0; i < n; i++) out.push(params[r.u32()]);
  }
  return out;
}

export function instrumentModule(wasm: Uint8Array, opts: InstrumentOptions = {}): InstrumentResult {
  const metering = opts.metering ?? true;
  const sections = readSections(wasm);
  const find = (id: number): Section | undefined => sections.find((s) => s.id === id);

  const imports = find(SECTION.import)
    ? countImports(find(SECTION.import)!.payload)
    : { funcs: 0, tables: 0, memories: 0, globals: 0 };
  const definedGlobals = vectorCount(find(SECTION.global)?.payload);
  const definedTables = vectorCount(find(SECTION.table)?.payload);

  const counterGlobal = imports.globals + definedGlobals;
  const G = encodeU32(counterGlobal);

  // Parameter counts of the module's own functions (their counter local follows the declared locals).
  const paramCounts = functionParamCounts(find(SECTION.type)?.payload, find(SECTION.function)?.payload);

  // Memory 0 and 64-bit tables.
  const memory64 = imports.memories === 0 ? firstMemoryIs64(find(SECTION.memory)?.payload) : false;
  const hasMemory = imports.memories > 0 || vectorCount(find(SECTION.memory)?.payload) > 0;
  const table64 = new Array<boolean>(imports.tables).fill(false);
  const tableSection = find(SECTION.table);
  if (tableSection) {
    const lowered = lowerTables(tableSection.payload);
    table64.push(...lowered.is64);
    tableSection.payload = lowered.payload;
  }
  const table64Lowered = table64.some(Boolean);
  const elements = find(SECTION.element);
  if (elements && table64Lowered) elements.payload = lowerElementOffsets(elements.payload, table64);
  const ctx: BodyContext = { table64, memory64 };

  // Rewrite the code section.
  const code = find(SECTION.code);
  let functions = 0;
  if (code) {
    const src = code.payload;
    const r = new Reader(src);
    const n = r.u32();
    functions = n;
    const out = new Out(Math.ceil(src.length * 1.8) + 64);
    out.push(encodeU32(n));
    const body = new Out(1 << 16);
    for (let f = 0; f < n; f++) {
      const size = r.u32();
      const bodyStart = r.pos;
      const bodyEnd = bodyStart + size;
      r.pos = bodyEnd;
      if (!metering && !table64Lowered) {
        out.push(encodeU32(size));
        out.copy(src, bodyStart, bodyEnd);
        continue;
      }
      // Local declarations: keep them and append the counter (i64), a scratch i32 and a scratch i64.
      const lr = new Reader(src, bodyStart, bodyEnd);
      const groups = lr.u32();
      const groupsStart = lr.pos;
      let declared = 0;
      for (let g = 0; g < groups; g++) {
        declared += lr.u32();
        lr.byte();
      }
      const codeStart = lr.pos;
      const C = encodeU32(paramCounts[f] + declared);
      const S = encodeU32(paramCounts[f] + declared + 1);
      const S64 = encodeU32(paramCounts[f] + declared + 2);
      const load = [0x23, ...G, 0x21, ...C];
      const store = [0x20, ...C, 0x24, ...G];
      const check = [0x20, ...C, 0x42, 0x00, 0x53, 0x04, 0x40, ...store, 0x00, 0x0b];
      const subPrefix = [0x20, ...C, 0x42];
      const subSuffix = [0x7d, 0x21, ...C];
      const dynamic = [0x22, ...S, 0x20, ...C, 0x20, ...S, 0xad, 0x7d, 0x21, ...C, ...check];
      const dynamic64 = [0x22, ...S64, 0x20, ...C, 0x20, ...S64, 0x7d, 0x21, ...C, ...check];

      let points = injectionPoints(src, codeStart, bodyEnd, ctx);
      body.len = 0;
      if (metering) {
        body.push(encodeU32(groups + 3));
        body.copy(src, groupsStart, codeStart);
        body.push([0x01, 0x7e, 0x01, 0x7f, 0x01, 0x7e]);
      } else {
        // Lowering only: the locals stay as they are.
        body.copy(src, bodyStart, codeStart);
        const kept: number[] = [];
        for (let p = 0; p < points.length; p += 3) {
          if (LOWERING.has(points[p + 1])) kept.push(points[p], points[p + 1], points[p + 2]);
        }
        points = kept;
      }
      let last = codeStart;
      for (let p = 0; p < points.length; p += 3) {
        const pos = points[p];
        const kind = points[p + 1];
        body.copy(src, last, pos);
        last = pos;
        switch (kind) {
          case ENTRY:
          case RELOAD:
            body.push(load);
            break;
          case FLUSH:
            body.push(store);
            break;
          case DYNAMIC:
            body.push(dynamic);
            break;
          case DYNAMIC64:
            body.push(dynamic64);
            break;
          case WRAP:
            body.push([0xa7]);
            break;
          case EXTEND_U:
            body.push([0xad]);
            break;
          case EXTEND_S:
            body.push([0xac]);
            break;
          default:
            body.push(subPrefix);
            body.push(encodeS64(BigInt(points[p + 2])));
            body.push(subSuffix);
            if (kind === REENTRANT) body.push(check);
        }
      }
      body.copy(src, last, bodyEnd);
      out.push(encodeU32(body.len));
      out.copy(body.buf, 0, body.len);
    }
    code.payload = out.buf.slice(0, out.len);
  }

  // The counter global starts high so that code run at instantiation never trips it.
  const mutables = mutableGlobals(find(SECTION.global)?.payload, imports.globals);
  const globalSection = find(SECTION.global) ?? addSection(sections, SECTION.global);
  globalSection.payload = vectorPayload(
    definedGlobals + 1,
    concatBytes([
      vectorItems(globalSection.payload),
      Uint8Array.from([0x7e, 0x01, 0x42, ...encodeS64(1n << 62n), 0x0b]),
    ]),
  );

  // Exports: counter, mutable globals, table 0, start function.
  const exportSection = find(SECTION.export) ?? addSection(sections, SECTION.export);
  const extra: number[] = [];
  let extraCount = 0;
  const addExport = (name: string, kind: number, index: number): void => {
    extra.push(...encodeName(name), kind, ...encodeU32(index));
    extraCount++;
  };
  addExport(COUNTER_EXPORT, 3, counterGlobal);
  const globalExports: string[] = [];
  for (const g of mutables) {
    const name = `${GLOBAL_EXPORT_PREFIX}${g}`;
    addExport(name, 3, g);
    globalExports.push(name);
  }
  let tableExport: string | undefined;
  if (imports.tables + definedTables > 0) {
    tableExport = TABLE_EXPORT;
    addExport(TABLE_EXPORT, 1, 0);
  }
  let memoryExport: string | undefined;
  if (hasMemory) {
    memoryExport = MEMORY_EXPORT;
    addExport(MEMORY_EXPORT, 2, 0);
  }
  const startIdx = sections.findIndex((s) => s.id === SECTION.start);
  const hasStart = startIdx !== -1;
  if (hasStart) {
    addExport(START_EXPORT, 0, new Reader(sections[startIdx].payload).u32());
    sections.splice(startIdx, 1);
  }
  exportSection.payload = vectorPayload(
    vectorCount(exportSection.payload) + extraCount,
    concatBytes([vectorItems(exportSection.payload), Uint8Array.from(extra)]),
  );

  return {
    wasm: writeSections(sections),
    globalExports,
    tableExport,
    hasStart,
    functions,
    memoryExport,
    memory64,
    table64Lowered,
  };
}

/** Whether the first memory the module defines is 64-bit (limits flag 0x04). */
function firstMemoryIs64(payload: Uint8Array | undefined): boolean {
  if (!payload) return false;
  const r = new Reader(payload);
  if (r.u32() === 0) return false;
  return (r.byte() & 0x04) !== 0;
}

/** Reads a limits value of any width as a number (table sizes fit easily). */
function readLimit(r: Reader): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = r.byte();
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return result;
    scale *= 128;
  }
}

/** The table section with every 64-bit table turned into a 32-bit one, and which tables were 64-bit. */
function lowerTables(payload: Uint8Array): { payload: Uint8Array; is64: boolean[] } {
  const r = new Reader(payload);
  const n = r.u32();
  const is64: boolean[] = [];
  const out: number[] = [...encodeU32(n)];
  let changed = false;
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    if (payload[r.pos] === 0x40) throw new WasmFormatError('tables with an initializer expression are not supported');
    const refType = r.byte();
    const flags = r.byte();
    const min = readLimit(r);
    const max = flags & 1 ? readLimit(r) : undefined;
    const wide = (flags & 0x04) !== 0;
    is64.push(wide);
    if (!wide) {
      out.push(...payload.subarray(start, r.pos));
      continue;
    }
    changed = true;
    if (min > 0xffffffff || (max !== undefined && max > 0xffffffff)) throw new WasmFormatError('64-bit table too large');
    out.push(refType, flags & ~0x04, ...encodeU32(min));
    if (max !== undefined) out.push(...encodeU32(max));
  }
  return { payload: changed ? Uint8Array.from(out) : payload, is64 };
}

/** Skips a constant expression up to and including its `end`. */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2 || op === 0xd0) r.skipLeb();
    else if (op === 0x43) r.pos += 4;
    else if (op === 0x44) r.pos += 8;
    else if (op === 0xfd) {
      r.u32();
      r.pos += 16;
    }
  }
}

/** Signed LEB128 of any width as a bigint (i64.const). */
function readS64(r: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  let b: number;
  do {
    b = r.byte();
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  if (shift < 64n && b & 0x40) result |= -1n << shift;
  return BigInt.asIntN(64, result);
}

/** Rewrites the `i64.const` offsets of active element segments for lowered 64-bit tables to `i32.const`. */
function lowerElementOffsets(payload: Uint8Array, table64: boolean[]): Uint8Array {
  const r = new Reader(payload);
  const n = r.u32();
  const out: number[] = [...encodeU32(n)];
  for (let i = 0; i < n; i++) {
    const segStart = r.pos;
    const flags = r.u32();
    const active = (flags & 1) === 0;
    const table = flags & 2 ? r.u32() : 0;
    if (active && table64[table]) {
      out.push(...payload.subarray(segStart, r.pos));
      if (r.byte() !== 0x42) throw new WasmFormatError('64-bit table: element offset must be an i64.const');
      const offset = readS64(r);
      if (r.byte() !== 0x0b) throw new WasmFormatError('64-bit table: element offset must be a single i64.const');
      out.push(0x41, ...encodeS64(BigInt.asIntN(32, offset)), 0x0b);
    } else if (active) {
      skipConstExpr(r);
      out.push(...payload.subarray(segStart, r.pos));
    } else {
      out.push(...payload.subarray(segStart, r.pos));
    }
    const itemsStart = r.pos;
    const exprs = (flags & 4) !== 0;
    if (flags & 3) r.byte(); // elemkind or reftype (flags 1, 2, 3 / 5, 6, 7)
    const count = r.u32();
    for (let k = 0; k < count; k++) {
      if (exprs) skipConstExpr(r);
      else r.skipLeb();
    }
    out.push(...payload.subarray(itemsStart, r.pos));
  }
  return Uint8Array.from(out);
}

/** Inserts an empty vector section at its canonical place. */
function addSection(sections: Section[], id: number): Section {
  const section: Section = { id, payload: Uint8Array.from([0]) };
  const rank = sectionRank(id);
  let at = sections.length;
  for (let i = 0; i < sections.length; i++) {
    if (sections[i].id !== SECTION.custom && sectionRank(sections[i].id) > rank) {
      at = i;
      break;
    }
  }
  sections.splice(at, 0, section);
  return section;
}
