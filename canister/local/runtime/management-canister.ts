// The management canister (`aaaaa-aa`) as canisters call it: creating
// canisters, installing code (also from chunks uploaded to a chunk store, for
// modules over the 2 MiB message limit), controllers, stopping and starting,
// status, and `raw_rand`. Arguments and replies are the IC's Candid types
// (management-idl.ts); refusals carry the replica's reject codes, error codes
// and wording (errors.ts). The canisters and their installation belong to the
// runtime (local-ic.ts), reached through `ManagementHost`.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import type { Canister } from './canister.js';
import { ChunkStoreError } from './chunk-store.js';
import { InstallCodeError, LocalICError, rejects, type Reject } from './errors.js';
import {
  DEFAULT_SETTINGS,
  MAX_CONTROLLERS,
  ManagementArgs,
  ManagementResults,
  type ManagementMethod,
} from './management-idl.js';
import type { OutgoingCall } from './message.js';

export type Outcome = { kind: 'reply'; data: Uint8Array } | { kind: 'reject'; reject: Reject };

export type InstallMode = 'install' | 'reinstall' | 'upgrade';

/** Who calls the management canister: a canister of this runtime or of another one (threaded runtime). */
export type ManagementCaller = Pick<Canister, 'id' | 'idText'>;

/**
 * The canister a management call is about (`canister_id`, or
 * `target_canister` of install_chunked_code): the threaded runtime executes
 * the call where that canister lives. Undefined for create_canister,
 * raw_rand, unknown methods and arguments that do not decode (answered with
 * a reject wherever they run).
 */
export function managementTarget(call: Pick<OutgoingCall, 'method' | 'arg'>): Principal | undefined {
  if (!Object.hasOwn(ManagementArgs, call.method)) return undefined;
  try {
    const args = IDL.decode([ManagementArgs[call.method as keyof typeof ManagementArgs]], call.arg)[0] as {
      canister_id?: Principal;
      target_canister?: Principal;
    };
    return args.canister_id ?? args.target_canister;
  } catch {
    return undefined;
  }
}

export interface ManagementHost {
  canister(id: Principal): Canister | undefined;
  /** Creates an empty canister with these controllers (and persists it). */
  createCanister(controllers: Principal[]): Canister;
  /** Installs a module; throws LocalICError or InstallCodeError and then changed nothing. */
  installCode(c: Canister, wasm: Uint8Array, mode: InstallMode, arg: Uint8Array, sender: Principal, skipPreUpgrade: boolean): void;
  /** Persists controllers, status or the chunk store after they changed. */
  changed(c: Canister, what: 'meta' | { chunkAdded: [string, Uint8Array] } | 'chunksCleared'): void;
}

type Args<M extends keyof typeof ManagementArgs> = {
  create_canister: {
    settings: [] | [{ controllers: [] | [Principal[]] }];
  };
  update_settings: { canister_id: Principal; settings: { controllers: [] | [Principal[]] } };
  upload_chunk: { canister_id: Principal; chunk: Uint8Array | number[] };
  clear_chunk_store: { canister_id: Principal };
  stored_chunks: { canister_id: Principal };
  install_code: { mode: ModeArg; canister_id: Principal; wasm_module: Uint8Array | number[]; arg: Uint8Array | number[] };
  install_chunked_code: {
    mode: ModeArg;
    target_canister: Principal;
    store_canister: [] | [Principal];
    chunk_hashes_list: { hash: Uint8Array | number[] }[];
    wasm_module_hash: Uint8Array | number[];
    arg: Uint8Array | number[];
  };
  uninstall_code: { canister_id: Principal };
  start_canister: { canister_id: Principal };
  stop_canister: { canister_id: Principal };
  canister_status: { canister_id: Principal };
}[M];

type ModeArg =
  | { install: null }
  | { reinstall: null }
  | { upgrade: [] | [{ skip_pre_upgrade: [] | [boolean] }] };

/**
 * Whether a create_canister call would create a canister (its argument
 * decodes and its settings are valid): the threaded runtime allocates an id
 * for it only then, and answers the others where they were made.
 */
export function createCanisterWouldSucceed(call: Pick<OutgoingCall, 'arg'>): boolean {
  try {
    const { settings } = IDL.decode([ManagementArgs.create_canister], call.arg)[0] as unknown as Args<'create_canister'>;
    return (settings[0]?.controllers[0]?.length ?? 0) <= MAX_CONTROLLERS;
  } catch {
    return false;
  }
}

/** Thrown inside a handler to answer with a reject. */
class Refusal extends Error {
  constructor(readonly reject: Reject) {
    super(reject.rejectMessage);
  }
}

const bytes = (b: Uint8Array | number[]): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

const reply = (method: ManagementMethod, value?: unknown): Outcome => ({
  kind: 'reply',
  data: new Uint8Array(IDL.encode(ManagementResults[method], value === undefined ? [] : [value])),
});

export class ManagementCanister {
  /** Replies owed to `stop_canister` calls, per canister, until it is stopped. */
  private readonly pendingStops = new Map<string, ((o: Outcome) => void)[]>();

  constructor(private readonly host: ManagementHost) {}

  /** Handles one call from canister `from`; `respond` may be called later (a stop waits for open calls). */
  handle(from: ManagementCaller, call: Pick<OutgoingCall, 'method' | 'arg'>, respond: (o: Outcome) => void): void {
    const method = call.method;
    if (method === 'raw_rand') return respond(reply('raw_rand', randomBytes(32)));
    if (!Object.hasOwn(ManagementArgs, method)) {
      return respond({ kind: 'reject', reject: rejects.managementUnsupported(method) });
    }
    const m = method as keyof typeof ManagementArgs;
    let args: unknown;
    try {
      args = IDL.decode([ManagementArgs[m]], call.arg)[0];
    } catch (err) {
      return respond({ kind: 'reject', reject: rejects.invalidManagementPayload(err instanceof Error ? err.message : String(err)) });
    }
    try {
      const outcome = this.dispatch(m, args, from, respond);
      if (outcome) respond(outcome);
    } catch (err) {
      if (err instanceof Refusal) return respond({ kind: 'reject', reject: err.reject });
      throw err;
    }
  }

  private dispatch(m: keyof typeof ManagementArgs, a: unknown, from: ManagementCaller, respond: (o: Outcome) => void): Outcome | undefined {
    switch (m) {
      case 'create_canister': {
        const { settings } = a as Args<'create_canister'>;
        const controllers = settings[0]?.controllers[0] ?? [from.id];
        checkControllers(controllers);
        const c = this.host.createCanister(dedupe(controllers));
        return reply(m, { canister_id: c.id });
      }
      case 'update_settings': {
        const { canister_id, settings } = a as Args<'update_settings'>;
        const c = this.controlled(canister_id, from);
        const controllers = settings.controllers[0];
        if (controllers) {
          checkControllers(controllers);
          c.controllers = dedupe(controllers);
          this.host.changed(c, 'meta');
        }
        return reply(m);
      }
      case 'upload_chunk': {
        const { canister_id, chunk } = a as Args<'upload_chunk'>;
        const c = this.controlledOrSelf(canister_id, from);
        const data = bytes(chunk);
        const { hash, added } = this.chunkStoreOp(() => c.chunks.insert(data));
        if (added) this.host.changed(c, { chunkAdded: [Buffer.from(hash).toString('hex'), data] });
        return reply(m, { hash });
      }
      case 'clear_chunk_store': {
        const c = this.controlledOrSelf((a as Args<'clear_chunk_store'>).canister_id, from);
        c.chunks.clear();
        this.host.changed(c, 'chunksCleared');
        return reply(m);
      }
      case 'stored_chunks': {
        const c = this.controlledOrSelf((a as Args<'stored_chunks'>).canister_id, from);
        return reply(m, c.chunks.hashes().map((hash) => ({ hash })));
      }
      case 'install_code': {
        const { mode, canister_id, wasm_module, arg } = a as Args<'install_code'>;
        const c = this.controlled(canister_id, from);
        this.install(c, bytes(wasm_module), mode, bytes(arg), from);
        return reply(m);
      }
      case 'install_chunked_code': {
        const x = a as Args<'install_chunked_code'>;
        const target = this.controlled(x.target_canister, from);
        const store = x.store_canister[0] ? this.controlledOrSelf(x.store_canister[0], from) : target;
        const wasm = this.chunkStoreOp(() =>
          store.chunks.assemble(x.chunk_hashes_list.map((h) => bytes(h.hash)), bytes(x.wasm_module_hash)),
        );
        this.install(target, wasm, x.mode, bytes(x.arg), from);
        return reply(m);
      }
      case 'uninstall_code':
        throw new Refusal(rejects.managementUnsupported(m));
      case 'start_canister': {
        const c = this.controlled((a as Args<'start_canister'>).canister_id, from);
        if (c.status !== 'running') {
          c.status = 'running';
          this.host.changed(c, 'meta');
          const waiting = this.pendingStops.get(c.idText) ?? [];
          this.pendingStops.delete(c.idText);
          for (const r of waiting) r({ kind: 'reject', reject: rejects.stopCancelled(c.idText) });
        }
        return reply(m);
      }
      case 'stop_canister': {
        const c = this.controlled((a as Args<'stop_canister'>).canister_id, from);
        if (c.status === 'stopped') return reply(m);
        if (c.status === 'running') {
          c.status = 'stopping';
          this.host.changed(c, 'meta');
        }
        const waiting = this.pendingStops.get(c.idText) ?? [];
        waiting.push(respond);
        this.pendingStops.set(c.idText, waiting);
        this.settleStop(c);
        return undefined;
      }
      case 'canister_status': {
        const c = this.controlledOrSelf((a as Args<'canister_status'>).canister_id, from);
        return reply(m, statusOf(c));
      }
    }
  }

  /**
   * A stopping canister becomes stopped once it has no open call contexts
   * (no outstanding calls of its own); the runtime calls this after each of
   * its executions.
   */
  settleStop(c: Canister): void {
    if (c.status !== 'stopping' || c.callbacks.size > 0) return;
    c.status = 'stopped';
    this.host.changed(c, 'meta');
    const waiting = this.pendingStops.get(c.idText) ?? [];
    this.pendingStops.delete(c.idText);
    for (const r of waiting) r(reply('stop_canister'));
  }

  private install(c: Canister, wasm: Uint8Array, modeArg: ModeArg, arg: Uint8Array, from: ManagementCaller): void {
    let mode: InstallMode;
    let skipPreUpgrade = false;
    if ('install' in modeArg) mode = 'install';
    else if ('reinstall' in modeArg) mode = 'reinstall';
    else {
      mode = 'upgrade';
      skipPreUpgrade = modeArg.upgrade[0]?.skip_pre_upgrade[0] === true;
    }
    // The IC accepts gzip-compressed modules.
    let module = wasm;
    if (wasm[0] === 0x1f && wasm[1] === 0x8b && wasm[2] === 0x08) {
      try {
        module = new Uint8Array(gunzipSync(wasm));
      } catch (err) {
        throw new Refusal(rejects.invalidWasm(c.idText, `gzip: ${(err as Error).message}`));
      }
    }
    try {
      this.host.installCode(c, module, mode, arg, from.id, skipPreUpgrade);
    } catch (err) {
      if (err instanceof InstallCodeError) throw new Refusal(err.reject);
      if (err instanceof LocalICError) {
        if (err.code === 'CanisterNotEmpty') throw new Refusal(rejects.canisterNonEmpty(c.idText));
        if (err.code === 'CanisterEmpty') throw new Refusal(rejects.noModule(c.idText));
        if (err.code === 'InvalidModule' || err.code === 'MissingImports') throw new Refusal(rejects.invalidWasm(c.idText, err.message));
      }
      throw err;
    }
  }

  private chunkStoreOp<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof ChunkStoreError) throw new Refusal(rejects.chunkStore(err.message));
      throw err;
    }
  }

  private existing(id: Principal): Canister {
    const c = this.host.canister(id);
    if (!c) throw new Refusal(rejects.managementCanisterNotFound(id.toText()));
    return c;
  }

  /** The canister `id`, if `from` is one of its controllers. */
  private controlled(id: Principal, from: ManagementCaller): Canister {
    const c = this.existing(id);
    if (!c.isController(from.id)) {
      throw new Refusal(rejects.invalidController(c.idText, c.controllers.map((p) => p.toText()).sort(), from.idText));
    }
    return c;
  }

  /** The canister `id`, if `from` controls it or is it (chunk store and status). */
  private controlledOrSelf(id: Principal, from: ManagementCaller): Canister {
    const c = this.existing(id);
    return c.idText === from.idText ? c : this.controlled(id, from);
  }
}

function checkControllers(controllers: Principal[]): void {
  if (controllers.length > MAX_CONTROLLERS) {
    throw new Refusal(
      rejects.invalidSettings(`Invalid settings: 'controllers' length exceeds maximum size allowed of ${MAX_CONTROLLERS}.`),
    );
  }
}

function dedupe(ps: Principal[]): Principal[] {
  const seen = new Map<string, Principal>();
  for (const p of ps) seen.set(p.toText(), p);
  return [...seen.values()];
}

function statusOf(c: Canister): unknown {
  const stable = BigInt(c.stable.sizeBytes);
  const chunks = BigInt(c.chunks.chargedBytes);
  const binary = BigInt(c.module?.raw.length ?? 0);
  return {
    status: { [c.status]: null },
    ready_for_migration: false,
    version: c.version,
    settings: {
      controllers: c.controllers,
      compute_allocation: DEFAULT_SETTINGS.compute_allocation,
      memory_allocation: DEFAULT_SETTINGS.memory_allocation,
      freezing_threshold: DEFAULT_SETTINGS.freezing_threshold,
      reserved_cycles_limit: DEFAULT_SETTINGS.reserved_cycles_limit,
      log_visibility: { controllers: null },
      wasm_memory_limit: DEFAULT_SETTINGS.wasm_memory_limit,
      wasm_memory_threshold: DEFAULT_SETTINGS.wasm_memory_threshold,
      environment_variables: [],
    },
    module_hash: c.module ? [c.module.hash] : [],
    memory_size: stable + chunks + binary + BigInt(c.heapBytes),
    memory_metrics: {
      wasm_memory_size: BigInt(c.heapBytes),
      stable_memory_size: stable,
      global_memory_size: 0n,
      wasm_binary_size: binary,
      custom_sections_size: 0n,
      canister_history_size: 0n,
      wasm_chunk_store_size: chunks,
      snapshots_size: 0n,
    },
    cycles: 3_000_000_000_000n,
    reserved_cycles: 0n,
    idle_cycles_burned_per_day: 0n,
    query_stats: {
      num_calls_total: 0n,
      num_instructions_total: 0n,
      request_payload_bytes_total: 0n,
      response_payload_bytes_total: 0n,
    },
  };
}

