// One canister: its module and Wasm instance, heap snapshot, stable memory,
// controllers, timer and certified data, and the execution of a single
// message with IC semantics (commit, or roll back heap, globals and stable
// memory on a trap; queries always rolled back). Scheduling between messages
// and canisters lives in local-ic.ts.
import { Principal } from '@dfinity/principal';
import { COUNTER_EXPORT, START_EXPORT } from '../wasm/instrument.js';
import {
  CanisterTrap,
  InstructionLimitExceeded,
  rejects,
  wasmTrapReason,
  type Reject,
} from './errors.js';
import { ChunkStore } from './chunk-store.js';
import { HeapSnapshot, type HeapDelta } from './heap-snapshot.js';
import type { LoadedModule } from './module.js';
import type { Closure, MessageContext, OutgoingCall, Response } from './message.js';
import { StableMemory } from './stable-memory.js';
import { createSystemApi, forMemory64, type SystemApiHost } from './system-api.js';

/** How a message's effects end. */
export type ExecMode =
  | 'commit' // keep heap, stable memory and staged effects if it did not trap
  | 'discard' // always roll back (queries, inspect_message)
  | 'external'; // leave everything as is; the caller commits or rolls back (upgrades)

export interface ExecResult {
  /** The message ran to completion (no trap, no limit). */
  ok: boolean;
  error: Reject | undefined;
  instructions: bigint;
  response: Response | undefined;
  outgoing: OutgoingCall[];
  /** Stable memory blocks the committed message changed. */
  stableBlocks: number[];
  stableSizeChanged: boolean;
  /** Whether certified data or the timer changed (state to persist). */
  metaChanged: boolean;
}

export interface CallContext {
  id: number;
  origin:
    | { kind: 'ingress'; settle: (r: { response: Response | Reject; instructions: bigint }) => void }
    | { kind: 'call'; caller: Canister | undefined; callerId: Uint8Array; callback: number }
    | { kind: 'system' };
  caller: Uint8Array;
  method: string;
  responded: boolean;
  outstanding: number;
  instructions: bigint;
}

export interface Callback {
  id: number;
  context: CallContext;
  reply: Closure;
  reject: Closure;
  cleanup: Closure | undefined;
}

export interface CanisterHooks {
  log(canister: Canister, line: string): void;
}

export class Canister {
  readonly idText: string;
  readonly idBytes: Uint8Array;
  controllers: Principal[];
  module: LoadedModule | undefined;
  stable: StableMemory = new StableMemory();
  certifiedData: Uint8Array = new Uint8Array(0);
  globalTimer = 0n;
  version = 0n;
  /**
   * Off only to measure what rollback costs (bench): messages then keep their
   * writes even when they trap, and queries are not undone.
   */
  rollbackEnabled = true;
  /**
   * Set when re-running post_upgrade at a restart failed: the module stays
   * installed (so it can be upgraded, without pre_upgrade) but every message
   * is answered with this error.
   */
  broken: Reject | undefined;
  /** The argument of the last install/upgrade, passed again when a restart re-runs post_upgrade. */
  lastInstallArg: Uint8Array = new Uint8Array(0);
  /** Set by the management canister's stop_canister/start_canister. */
  status: 'running' | 'stopping' | 'stopped' = 'running';
  /** Wasm chunks uploaded with upload_chunk, for install_chunked_code. */
  readonly chunks = new ChunkStore();

  private instance: WebAssembly.Instance | undefined;
  private memory: WebAssembly.Memory | undefined;
  private counter: WebAssembly.Global | undefined;
  private globals: WebAssembly.Global[] = [];
  private table: WebAssembly.Table | undefined;
  private snapshot: HeapSnapshot | undefined;
  private heapView: Uint8Array = new Uint8Array(0);
  private current: MessageContext | undefined;
  private readonly api: ReturnType<typeof createSystemApi>;
  private api64: ReturnType<typeof createSystemApi> | undefined;

  readonly callbacks = new Map<number, Callback>();
  nextCallbackId = 1;

  constructor(
    readonly id: Principal,
    controllers: Principal[],
    private readonly hooks: CanisterHooks,
  ) {
    this.idText = id.toText();
    this.idBytes = id.toUint8Array();
    this.controllers = controllers;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const host: SystemApiHost = {
      message: () => {
        if (!this.current) throw new CanisterTrap('system API called outside a message', 'contract');
        return this.current;
      },
      heap: () => this.heap(),
      charge: (n) => this.charge(n),
      instructionsUsed: () => this.instructionsUsed(),
      get stable() {
        return self.stable;
      },
      selfId: this.idBytes,
      isController: (p) => this.controllers.some((c) => bytesEqual(c.toUint8Array(), p)),
      committedTimer: () => this.globalTimer,
      canisterVersion: () => this.version,
      cyclesBalance: () => 3_000_000_000_000n,
      log: (line) => this.hooks.log(this, line),
    };
    this.api = createSystemApi(host);
  }

  /** Size of the Wasm heap in bytes (0 without an instance). */
  get heapBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  get hasModule(): boolean {
    return this.module !== undefined;
  }

  exports(name: string): boolean {
    return this.module?.exports.has(name) ?? false;
  }

  isController(p: Principal): boolean {
    return this.controllers.some((c) => c.compareTo(p) === 'eq');
  }

  private heap(): Uint8Array {
    // Every system API call asks; `memory.buffer` is a slow getter. Growing a
    // Wasm memory detaches its old buffer, which empties every view on it, so
    // a view that still has bytes is the current one (instance changes reset it).
    if (this.heapView.length !== 0) return this.heapView;
    const mem = this.memory;
    if (mem) this.heapView = new Uint8Array(mem.buffer);
    return this.heapView;
  }

  private charge(n: number): void {
    const counter = this.counter;
    if (!counter) return;
    const next = (counter.value as bigint) - BigInt(n);
    counter.value = next;
    if (next < 0n) throw new InstructionLimitExceeded(this.current?.limit ?? 0n);
  }

  private instructionsUsed(): bigint {
    const m = this.current;
    if (!m || !this.counter) return 0n;
    const used = m.limit - (this.counter.value as bigint);
    return used < 0n ? m.limit : used;
  }

  // --- instances ---

  /** Makes a fresh instance of `module` (not yet the canister's until adopted). */
  private createInstance(module: LoadedModule): {
    instance: WebAssembly.Instance;
    memory: WebAssembly.Memory | undefined;
    counter: WebAssembly.Global;
    globals: WebAssembly.Global[];
    table: WebAssembly.Table | undefined;
  } {
    const api = module.info.memory64 ? (this.api64 ??= forMemory64(this.api)) : this.api;
    const instance = new WebAssembly.Instance(module.compiled, { ic0: api as WebAssembly.ModuleImports });
    const ex = instance.exports;
    // The instrumentation exports memory 0 under its own name, whatever the
    // module calls it (or when it exports none), as the IC finds it.
    const memory = module.info.memoryExport ? ex[module.info.memoryExport] : undefined;
    return {
      instance,
      memory: memory instanceof WebAssembly.Memory ? memory : undefined,
      counter: ex[COUNTER_EXPORT] as WebAssembly.Global,
      globals: module.info.globalExports.map((n) => ex[n] as WebAssembly.Global),
      table: module.info.tableExport ? (ex[module.info.tableExport] as WebAssembly.Table) : undefined,
    };
  }

  private adopt(module: LoadedModule, parts: ReturnType<Canister['createInstance']>): void {
    this.module = module;
    this.instance = parts.instance;
    this.memory = parts.memory;
    this.counter = parts.counter;
    this.globals = parts.globals;
    this.table = parts.table;
    this.heapView = new Uint8Array(0);
  }

  /** Saved state of the current instance, to come back to if an install or upgrade fails. */
  saveInstance(): () => void {
    const saved = {
      module: this.module,
      instance: this.instance,
      memory: this.memory,
      counter: this.counter,
      globals: this.globals,
      table: this.table,
      snapshot: this.snapshot,
      stable: this.stable,
      certifiedData: this.certifiedData,
      globalTimer: this.globalTimer,
      version: this.version,
      lastInstallArg: this.lastInstallArg,
      broken: this.broken,
    };
    return () => {
      Object.assign(this, saved);
      this.heapView = new Uint8Array(0);
      // Undo whatever the failed attempt did to the old instance's heap.
      this.rollbackHeap();
    };
  }

  /** Replaces the instance with a fresh one of `module` (heap reset). */
  freshInstance(module: LoadedModule): void {
    this.adopt(module, this.createInstance(module));
    this.snapshot = this.memory ? new HeapSnapshot(this.memory, this.globals) : undefined;
  }

  /** Drops module and heap (uninstall / before reinstall). */
  clearInstance(): void {
    this.module = undefined;
    this.instance = undefined;
    this.memory = undefined;
    this.counter = undefined;
    this.globals = [];
    this.table = undefined;
    this.snapshot = undefined;
    this.heapView = new Uint8Array(0);
  }

  /** Committed heap pages changed since the last call, for a query replica (query-replica.ts). */
  takeHeapDelta(): HeapDelta | undefined {
    return this.snapshot?.takeDelta();
  }

  /** A query replica: makes `delta` the committed heap (a full one on a fresh instance of `module`). */
  loadHeapDelta(module: LoadedModule, delta: HeapDelta): void {
    if (delta.full || !this.memory || this.module !== module) this.freshInstance(module);
    if (!this.memory || !this.snapshot) return;
    this.snapshot.loadDelta(this.memory, this.globals, delta);
    this.heapView = new Uint8Array(0);
  }

  hasStartFunction(): boolean {
    return this.exports(START_EXPORT);
  }

  /** Makes the current heap the committed one (after an install or upgrade succeeded). */
  commitHeap(): void {
    if (this.memory && this.snapshot) this.snapshot.commit(this.memory, this.globals);
    else if (this.memory) this.snapshot = new HeapSnapshot(this.memory, this.globals);
  }

  private rollbackHeap(): void {
    if (!this.memory || !this.snapshot || !this.module) return;
    if (this.snapshot.restore(this.memory, this.globals)) return;
    // The memory grew during the message and cannot shrink: start a fresh
    // instance and fill it with the committed heap.
    const parts = this.createInstance(this.module);
    this.adopt(this.module, parts);
    if (this.memory) this.snapshot.restoreInto(this.memory, this.globals);
  }

  // --- execution ---

  /**
   * Runs one message: calls `exportName` (or the table function of a callback)
   * with the message context installed, then commits or rolls back.
   */
  execute(message: MessageContext, entry: string | Closure, mode: ExecMode): ExecResult {
    if (!this.instance || !this.counter) throw new Error(`canister ${this.idText} has no instance`);
    let fn: (...args: number[]) => unknown;
    let args: number[] = [];
    if (typeof entry === 'string') {
      fn = this.instance.exports[entry] as (...args: number[]) => unknown;
    } else {
      const f = this.table?.get(entry.fn) as ((env: number) => unknown) | null | undefined;
      if (!f) throw new Error(`canister ${this.idText}: no function at table index ${entry.fn}`);
      fn = f;
      args = [entry.env];
    }
    this.current = message;
    this.counter.value = message.limit;
    const tracked = mode !== 'external' && this.rollbackEnabled;
    if (tracked) this.stable.begin();
    let error: Reject | undefined;
    try {
      fn(...args);
    } catch (err) {
      error = this.classify(err, message.limit);
    }
    const left = this.counter.value as bigint;
    const instructions = error?.errorCode === 'IC0522' || left < 0n ? message.limit : message.limit - left;
    this.current = undefined;

    const result: ExecResult = {
      ok: error === undefined,
      error,
      instructions,
      response: undefined,
      outgoing: [],
      stableBlocks: [],
      stableSizeChanged: false,
      metaChanged: false,
    };
    if (error === undefined) {
      result.response = message.response;
      result.outgoing = message.outgoing;
    }
    if (error === undefined && mode === 'commit') {
      if (tracked) {
        this.commitHeap();
        const { blocks, sizeChanged } = this.stable.commit();
        result.stableBlocks = blocks;
        result.stableSizeChanged = sizeChanged;
      }
      if (message.globalTimer !== undefined) {
        this.globalTimer = message.globalTimer;
        result.metaChanged = true;
      }
      if (message.certifiedData !== undefined) {
        this.certifiedData = message.certifiedData;
        result.metaChanged = true;
      }
    } else if (tracked) {
      this.rollbackHeap();
      this.stable.rollback();
    }
    return result;
  }

  /** Applies the staged effects of an externally committed message (install/upgrade steps). */
  applyStaged(message: MessageContext): void {
    if (message.globalTimer !== undefined) this.globalTimer = message.globalTimer;
    if (message.certifiedData !== undefined) this.certifiedData = message.certifiedData;
  }

  rollbackAfterExternal(): void {
    this.rollbackHeap();
  }

  private classify(err: unknown, limit: bigint): Reject {
    const counterLeft = this.counter ? (this.counter.value as bigint) : 0n;
    if (err instanceof InstructionLimitExceeded || counterLeft < 0n) {
      return rejects.instructionLimit(this.idText, limit);
    }
    if (err instanceof CanisterTrap) {
      return err.kind === 'explicit'
        ? rejects.calledTrap(this.idText, err.message)
        : rejects.contractViolation(this.idText, err.message);
    }
    if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError) {
      return rejects.trapped(this.idText, wasmTrapReason(err.message));
    }
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return rejects.trapped(this.idText, `local IC internal error: ${text}`);
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
