// The local Internet Computer: canisters side by side, one message at a time
// (a single serial queue, like one execution thread of a subnet), ingress updates and
// queries, inter-canister calls and their callbacks, the management canister
// (management-canister.ts: creating, installing, stopping canisters, called
// from canisters), install/reinstall/upgrade, the clock and global timers,
// and the hand-off of committed state to persistence.
//
// The threaded runtime (thread/host.ts) runs several of these, one per
// worker thread, each holding some of the canisters; calls to a canister of
// another runtime go out through `Peers` and their outcome comes back as a
// later task (`deliverRemote`), calls from one come in through `acceptRemote`.
import { Principal } from '@dfinity/principal';
import { Canister, type CallContext, type ExecResult } from './canister.js';
import { InstallCodeError, LocalICError, rejects, type Reject } from './errors.js';
import { loadModule, moduleMetadata, moduleMetadataEntries, modulePrivateMetadataNames, type LoadedModule } from './module.js';
import { createCanisterWouldSucceed, ManagementCanister, managementTarget, type InstallMode, type ManagementCaller, type Outcome } from './management-canister.js';
import { newMessage, type MessageKind, type OutgoingCall, type Response } from './message.js';
import { Persistence, type PersistedCanister } from './persistence.js';
import { collectReplicaDelta, type Published, type ReplicaDelta } from './query-replica.js';
import { StableMemory } from './stable-memory.js';

export type CallResult =
  | { status: 'replied'; reply: Uint8Array; instructions: bigint }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string; instructions: bigint };

export interface LocalICOptions {
  /** Stable memory and state files; omitted = in-memory only. */
  dataDir?: string;
  /** Start of the clock, ns since the epoch; default now. */
  startTime?: bigint;
  /** 'manual': time moves only via setTime/advanceTime (tests). Default 'system'. */
  clock?: 'system' | 'manual';
  /** Receives `ic0.debug_print` lines. Default: console.log with the canister id. */
  log?: (canisterId: string, line: string) => void;
  /** Instruction metering (default true). Off only to measure its overhead. */
  metering?: boolean;
  /** Heap snapshot and stable undo log (default true). Off only to measure their overhead. */
  rollback?: boolean;
  /** Lower per-message instruction limits (tests); default the IC's. */
  instructionLimits?: Partial<Record<keyof typeof INSTRUCTION_LIMITS, bigint>>;
  /**
   * Where canister code executes (used by `LocalIC.create` in index.ts):
   * 'main' (default) on the calling thread, 'worker' on a worker thread so
   * the caller's event loop stays free while a message runs.
   */
  thread?: 'main' | 'worker';
  /**
   * With `thread: 'worker'`: 'replica' (default) runs queries on a second
   * worker against the latest committed state, so they never wait behind
   * updates; 'serial' queues them with the updates (to measure the difference).
   */
  queries?: 'replica' | 'serial';
  /**
   * With `thread: 'worker'`: how many runtime threads execute canisters in
   * parallel (each canister is pinned to one); default
   * `os.availableParallelism()`.
   */
  workers?: number;
}

/** A call to a canister another runtime holds (the threaded runtime's workers). */
export interface RemoteCall {
  callee: Uint8Array;
  method: string;
  arg: Uint8Array;
  /** For a call to the management canister: the canister it is about (absent for create_canister). */
  target?: Uint8Array;
}

/**
 * The other runtimes of a threaded local IC (thread/worker.ts implements it
 * over the host's message ports). Messages are handed to it after the task
 * that produced them is durable.
 */
export interface Peers {
  /** Sends a call; its outcome comes back through `deliverRemote(token, outcome)`. */
  send(token: number, from: Uint8Array, call: RemoteCall): void;
  /** Answers a call another runtime sent (`replyTo` as it came with `acceptRemote`). */
  reply(replyTo: unknown, outcome: Outcome): void;
}

/** How a threaded local IC starts one of its runtimes. */
export interface RuntimeShare {
  peers: Peers;
  /** The canisters (textual ids) this runtime loads from the data directory. */
  canisters: string[];
}

/**
 * The public API of a local IC, whichever thread executes it: the in-thread
 * runtime below and the worker host (thread/host.ts) both implement it.
 */
export interface LocalICApi {
  createCanister(opts?: { controllers?: Principal[]; canisterId?: Principal }): Promise<Principal>;
  installCode(
    canisterId: Principal,
    wasm: Uint8Array,
    opts: { mode: 'install' | 'reinstall' | 'upgrade'; arg?: Uint8Array; sender?: Principal },
  ): Promise<void>;
  update(canisterId: Principal, method: string, arg: Uint8Array, opts?: { caller?: Principal }): Promise<CallResult>;
  query(
    canisterId: Principal,
    method: string,
    arg: Uint8Array,
    opts?: { caller?: Principal; certificate?: Uint8Array },
  ): Promise<CallResult>;
  canisterIds(): Principal[];
  controllers(canisterId: Principal): Principal[];
  setControllers(canisterId: Principal, controllers: Principal[]): Promise<void>;
  moduleHash(canisterId: Principal): Uint8Array | undefined;
  metadata(canisterId: Principal, name: string): Uint8Array | undefined;
  /** Names of the installed module's `icp:public`/`icp:private` sections. */
  metadataNames(canisterId: Principal): string[];
  /** Whether `name` is an `icp:private` section of the installed module (readable by controllers only). */
  isPrivateMetadata(canisterId: Principal, name: string): boolean;
  certifiedData(canisterId: Principal): Uint8Array;
  timeNs(): bigint;
  setTime(ns: bigint): Promise<void>;
  advanceTime(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** The IC's per-message instruction limits. */
export const INSTRUCTION_LIMITS = {
  update: 40_000_000_000n,
  query: 5_000_000_000n,
  install: 300_000_000_000n,
} as const;

/** Largest ingress message argument the IC accepts (2 MiB). */
export const MAX_INGRESS_BYTES = 2 * 1024 * 1024;

/**
 * Canister ids are allocated from this range, the first subnet range of a
 * local dfx replica: the first canister is bkyz2-fmaaa-aaaaa-qaaaq-cai.
 */
export const CANISTER_RANGE_START = 0x8000000000100000n;
export const CANISTER_RANGE_END = 0x80000000001fffffn;

export function canisterIdFromIndex(index: bigint): Principal {
  const bytes = new Uint8Array(10);
  new DataView(bytes.buffer).setBigUint64(0, index);
  bytes[8] = 0x01;
  bytes[9] = 0x01;
  return Principal.fromUint8Array(bytes);
}

const MANAGEMENT = Principal.managementCanister().toText();
const MANAGEMENT_BYTES = Buffer.from(Principal.managementCanister().toUint8Array());
/** Bound on messages processed for one request, so a call loop cannot hang the process. */
const MAX_MESSAGES_PER_TASK = 100_000;
const MAX_TIMER_ROUNDS = 1_000;

type Task =
  | { kind: 'request'; from: Canister; call: OutgoingCall; callback: number }
  | { kind: 'response'; to: Canister; callback: number; outcome: Outcome };

function toOutcome(r: Response | Reject): Outcome {
  if ('rejectCode' in r) return { kind: 'reject', reject: r };
  if (r.kind === 'reply') return { kind: 'reply', data: r.data };
  return { kind: 'reject', reject: rejects.explicit(r.message) };
}

function toCallResult(outcome: Outcome, instructions: bigint): CallResult {
  if (outcome.kind === 'reply') return { status: 'replied', reply: outcome.data, instructions };
  return rejected(outcome.reject, instructions);
}

function rejected(reject: Reject, instructions = 0n): CallResult {
  return { status: 'rejected', ...reject, instructions };
}

export class LocalIC implements LocalICApi {
  private readonly canisters = new Map<string, Canister>();
  private nextIndex = CANISTER_RANGE_START + 1n;
  private readonly tasks: Task[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private now: bigint;
  private readonly manualClock: boolean;
  private readonly logLine: (canisterId: string, line: string) => void;
  private readonly metering: boolean;
  private readonly limits: Record<keyof typeof INSTRUCTION_LIMITS, bigint>;
  private readonly rollback: boolean;
  private readonly store: Persistence | undefined;
  private nextContextId = 1;
  private timerHandle: NodeJS.Timeout | undefined;
  private closed = false;
  private taskObserver: (() => void) | undefined;
  private readonly mgmt: ManagementCanister;
  private readonly peers: Peers | undefined;
  /** Calls sent to other runtimes, by token, until their outcome comes back. */
  private readonly remoteCalls = new Map<number, { from: Canister; callback: number }>();
  private nextToken = 1;
  /** Messages for other runtimes, sent at the end of the task (after its flush). */
  private outbox: (() => void)[] = [];
  /** Ingress answers, delivered at the end of the task (after the task observer). */
  private answers: (() => void)[] = [];
  /** Open call contexts of ingress messages and of calls from other runtimes, with their canister. */
  private readonly external = new Map<CallContext, string>();
  /** The id the host assigned to the canister a create_canister of another runtime makes here. */
  private assignId: Principal | undefined;

  private constructor(opts: LocalICOptions, share?: RuntimeShare) {
    this.peers = share?.peers;
    this.manualClock = opts.clock === 'manual';
    this.now = opts.startTime ?? BigInt(Date.now()) * 1_000_000n;
    this.logLine = opts.log ?? ((id, line) => console.log(`[canister ${id}] ${line}`));
    this.metering = opts.metering ?? true;
    this.limits = { ...INSTRUCTION_LIMITS, ...opts.instructionLimits };
    this.rollback = opts.rollback ?? true;
    this.store = opts.dataDir ? new Persistence(opts.dataDir) : undefined;
    this.mgmt = new ManagementCanister({
      canister: (id) => this.canister(id),
      createCanister: (controllers) => {
        // With peers, ids are the host's: a create_canister reaches here only with the id it assigned.
        if (this.peers && !this.assignId) throw new Error('create_canister without an id from the host');
        return this.allocateCanister(controllers, this.assignId);
      },
      installCode: (c, wasm, mode, arg, sender, skipPreUpgrade) =>
        this.installNow(c, wasm, mode, arg, sender.toUint8Array(), skipPreUpgrade),
      changed: (c, what) => {
        if (what === 'meta') this.store?.noteCommit(c, [], true);
        else if (what === 'chunksCleared') this.store?.clearChunks(c);
        else this.store?.saveChunk(c, ...what.chunkAdded);
      },
    });
  }

  /** `share`: this runtime is one worker of a threaded local IC (thread/worker.ts). */
  static async create(opts: LocalICOptions = {}, share?: RuntimeShare): Promise<LocalIC> {
    const ic = new LocalIC(opts, share);
    if (ic.store) {
      const only = share ? new Set(share.canisters) : undefined;
      await ic.restore(await ic.store.open(only && ((id) => only.has(id))));
    }
    ic.endTask();
    return ic;
  }

  // --- serial execution ---

  /** Runs `fn` after every earlier task: messages execute one at a time. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(new LocalICError('the local IC is closed', 'Closed'));
    // endTask runs before the caller sees the result, so state the observer
    // publishes (the worker host's mirror) is current when the call resolves.
    const run = this.chain.then(fn).finally(() => this.endTask());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * The end of every task: open ingress (and remote) call contexts that
   * nothing can answer any more get IC0506; then the task observer; then
   * messages for other runtimes go out and ingress answers are delivered.
   */
  private endTask(): void {
    if (this.remoteCalls.size === 0) {
      // Every call made here was answered, so an open call context now means
      // nothing will ever reply.
      for (const [cc, canisterId] of this.external) this.respond(cc, rejects.didNotReply(canisterId));
    }
    this.taskObserver?.();
    const outbox = this.outbox;
    const answers = this.answers;
    this.outbox = [];
    this.answers = [];
    for (const send of outbox) send();
    for (const answer of answers) answer();
  }

  /**
   * Calls `fn` at the end of every task (calls, installs, clock moves, timers
   * firing on the system clock), before its result is delivered: the worker
   * host publishes the canister state the main thread mirrors from here.
   */
  observeTasks(fn: () => void): void {
    this.taskObserver = fn;
  }

  private readonly replicaPublished = new Map<string, Published>();

  /**
   * What committed messages changed in each canister since the last call, for
   * query replicas on another thread (query-replica.ts). Called between tasks.
   */
  takeReplicaDeltas(): ReplicaDelta[] {
    const out: ReplicaDelta[] = [];
    for (const c of this.canisters.values()) {
      const d = collectReplicaDelta(c, this.replicaPublished);
      if (d) out.push(d);
    }
    return out;
  }

  /** Advances the system clock (monotonic) at the start of a task. */
  private tick(): void {
    if (this.manualClock) return;
    const wall = BigInt(Date.now()) * 1_000_000n;
    this.now = wall > this.now ? wall : this.now + 1n;
  }

  // --- canisters ---

  private canister(id: Principal): Canister | undefined {
    return this.canisters.get(id.toText());
  }

  private requireCanister(id: Principal): Canister {
    const c = this.canister(id);
    if (!c) throw new LocalICError(`Canister ${id.toText()} not found`, 'CanisterNotFound');
    return c;
  }

  private newCanister(id: Principal, controllers: Principal[]): Canister {
    const c = new Canister(id, controllers, { log: (canister, line) => this.logLine(canister.idText, line) });
    c.rollbackEnabled = this.rollback;
    this.canisters.set(c.idText, c);
    return c;
  }

  createCanister(opts: { controllers?: Principal[]; canisterId?: Principal } = {}): Promise<Principal> {
    return this.serial(async () => {
      const c = this.allocateCanister([...(opts.controllers ?? [])], opts.canisterId);
      await this.store?.flush();
      return c.id;
    });
  }

  /** A new empty canister: the given id, or the next free one of the range (noted for persistence). */
  private allocateCanister(controllers: Principal[], wanted?: Principal): Canister {
    let id = wanted;
    if (id) {
      if (this.canister(id)) throw new LocalICError(`Canister ${id.toText()} already exists`, 'InvalidArgument');
    } else {
      do {
        if (this.nextIndex > CANISTER_RANGE_END) throw new LocalICError('canister id range exhausted', 'InvalidArgument');
        id = canisterIdFromIndex(this.nextIndex++);
      } while (this.canister(id));
    }
    const c = this.newCanister(id, controllers);
    this.store?.noteCommit(c, [], true);
    return c;
  }

  canisterIds(): Principal[] {
    return [...this.canisters.values()].map((c) => c.id);
  }

  controllers(canisterId: Principal): Principal[] {
    return [...this.requireCanister(canisterId).controllers];
  }

  setControllers(canisterId: Principal, controllers: Principal[]): Promise<void> {
    return this.serial(async () => {
      const c = this.requireCanister(canisterId);
      c.controllers = [...controllers];
      this.store?.noteCommit(c, [], true);
      await this.store?.flush();
    });
  }

  moduleHash(canisterId: Principal): Uint8Array | undefined {
    const m = this.canister(canisterId)?.module;
    return m ? new Uint8Array(m.hash) : undefined;
  }

  metadata(canisterId: Principal, name: string): Uint8Array | undefined {
    const m = this.canister(canisterId)?.module;
    return m ? moduleMetadata(m, name) : undefined;
  }

  certifiedData(canisterId: Principal): Uint8Array {
    return new Uint8Array(this.requireCanister(canisterId).certifiedData);
  }

  metadataNames(canisterId: Principal): string[] {
    return this.metadataEntries(canisterId).map(([name]) => name);
  }

  isPrivateMetadata(canisterId: Principal, name: string): boolean {
    return this.privateMetadataNames(canisterId).includes(name);
  }

  privateMetadataNames(canisterId: Principal): string[] {
    const m = this.canister(canisterId)?.module;
    return m ? modulePrivateMetadataNames(m) : [];
  }

  /** Every `icp:public`/`icp:private` metadata section of the installed module. */
  metadataEntries(canisterId: Principal): [string, Uint8Array][] {
    const m = this.canister(canisterId)?.module;
    return m ? moduleMetadataEntries(m) : [];
  }

  // --- install ---

  installCode(
    canisterId: Principal,
    wasm: Uint8Array,
    opts: { mode: 'install' | 'reinstall' | 'upgrade'; arg?: Uint8Array; sender?: Principal },
  ): Promise<void> {
    return this.serial(async () => {
      this.tick();
      const c = this.requireCanister(canisterId);
      if (opts.sender && !c.isController(opts.sender)) {
        throw new LocalICError(
          `Only controllers of canister ${c.idText} can install code; ${opts.sender.toText()} is not one`,
          'NotController',
        );
      }
      const sender = (opts.sender ?? Principal.anonymous()).toUint8Array();
      this.installNow(c, wasm, opts.mode, opts.arg ?? new Uint8Array(0), sender);
      this.drain();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
    });
  }

  /**
   * Loads `wasm` and installs, reinstalls or upgrades `c` with it inside the
   * running task (also for the management canister's install_code); throws
   * and changes nothing when it fails.
   */
  private installNow(
    c: Canister,
    wasm: Uint8Array,
    mode: InstallMode,
    arg: Uint8Array,
    sender: Uint8Array,
    skipPreUpgrade = false,
  ): void {
    const module = loadModule(wasm, { metering: this.metering, cacheDir: this.store?.moduleCacheDir });
    if (mode === 'install' && c.hasModule) {
      throw new LocalICError(`Canister ${c.idText} is not empty; use mode 'reinstall' or 'upgrade'`, 'CanisterNotEmpty');
    }
    let blocks: number[];
    if (mode === 'upgrade') {
      if (!c.hasModule) throw new LocalICError(`Canister ${c.idText} is empty; cannot upgrade`, 'CanisterEmpty');
      blocks = this.upgrade(c, module, arg, sender, skipPreUpgrade);
    } else {
      blocks = this.install(c, module, arg, sender);
    }
    this.store?.saveModule(module);
    this.store?.noteCommit(c, blocks, true, mode !== 'upgrade');
  }

  /** install / reinstall: fresh heap and stable memory, then start and canister_init. */
  private install(c: Canister, module: LoadedModule, arg: Uint8Array, sender: Uint8Array): number[] {
    const restore = c.saveInstance();
    c.stable = new StableMemory();
    c.certifiedData = new Uint8Array(0);
    c.globalTimer = 0n;
    c.callbacks.clear();
    c.freshInstance(module);
    c.stable.begin();
    const error = this.runInstallSteps(c, [
      ['start', 'canister_start', new Uint8Array(0)],
      ['init', 'canister_init', arg],
    ], sender);
    if (error) {
      restore();
      throw new InstallCodeError(error);
    }
    return this.commitInstall(c, arg);
  }

  /** upgrade: pre_upgrade on the old instance, fresh heap, start and post_upgrade; stable memory kept. */
  private upgrade(c: Canister, module: LoadedModule, arg: Uint8Array, sender: Uint8Array, skipPreUpgrade = false): number[] {
    const restore = c.saveInstance();
    const broken = c.broken;
    c.stable.begin();
    // A canister left broken by a failed restart has no initialized heap to run pre_upgrade on.
    const preError = broken || skipPreUpgrade
      ? undefined
      : this.runInstallSteps(c, [['pre_upgrade', 'canister_pre_upgrade', new Uint8Array(0)]], sender);
    if (preError) {
      c.stable.rollback();
      restore();
      throw new InstallCodeError(preError);
    }
    const used = this.lastInstallInstructions;
    c.callbacks.clear();
    c.freshInstance(module);
    c.globalTimer = 0n; // the IC deactivates the timer when the module changes
    const error = this.runInstallSteps(
      c,
      [
        ['start', 'canister_start', new Uint8Array(0)],
        ['post_upgrade', 'canister_post_upgrade', arg],
      ],
      sender,
      used,
    );
    if (error) {
      c.stable.rollback();
      restore();
      throw new InstallCodeError(error);
    }
    return this.commitInstall(c, arg);
  }

  /** Makes a successful install, reinstall or upgrade final; returns the stable-memory blocks it changed. */
  private commitInstall(c: Canister, arg: Uint8Array): number[] {
    const { blocks } = c.stable.commit();
    c.commitHeap();
    c.version += 1n;
    c.lastInstallArg = arg;
    c.broken = undefined;
    return blocks;
  }

  private lastInstallInstructions = 0n;

  /** Runs install-time entry points in one transaction sharing the install limit; returns the first error. */
  private runInstallSteps(
    c: Canister,
    steps: [MessageKind, string, Uint8Array][],
    sender: Uint8Array,
    alreadyUsed = 0n,
  ): Reject | undefined {
    let used = alreadyUsed;
    for (const [kind, entry, arg] of steps) {
      if (!c.exports(entry)) continue;
      const msg = newMessage({
        kind,
        method: entry,
        arg,
        caller: sender,
        time: this.now,
        limit: this.limits.install - used,
      });
      const res = c.execute(msg, entry, 'external');
      used += res.instructions;
      if (res.error) {
        this.lastInstallInstructions = used;
        return res.error.errorCode === 'IC0522' ? rejects.instructionLimit(c.idText, this.limits.install) : res.error;
      }
      c.applyStaged(msg);
    }
    this.lastInstallInstructions = used;
    return undefined;
  }

  // --- ingress ---

  /**
   * What update and query calls share before the canister runs: the size
   * bound (refused before the message is queued), the queue, the clock, and a
   * canister that exists, has a module and was not left broken by a failed
   * restart.
   */
  private ingress<R extends CallResult | { later: Promise<CallResult> }>(
    canisterId: Principal,
    arg: Uint8Array,
    run: (c: Canister) => R | CallResult | Promise<R | CallResult>,
  ): Promise<R | CallResult> {
    if (arg.length > MAX_INGRESS_BYTES) {
      return Promise.resolve(rejected(rejects.payloadTooLarge(arg.length, MAX_INGRESS_BYTES)));
    }
    return this.serial(() => {
      this.tick();
      const c = this.canister(canisterId);
      if (!c) return rejected(rejects.canisterNotFound(canisterId.toText()));
      if (!c.hasModule) return rejected(rejects.noModule(c.idText));
      if (c.broken) return rejected(c.broken);
      if (c.status !== 'running') return rejected(this.notRunning(c));
      return run(c);
    });
  }

  private notRunning(c: Canister): Reject {
    return c.status === 'stopped' ? rejects.canisterStopped(c.idText) : rejects.canisterStopping(c.idText);
  }

  update(
    canisterId: Principal,
    method: string,
    arg: Uint8Array,
    opts: { caller?: Principal } = {},
  ): Promise<CallResult> {
    const run = this.ingress(canisterId, arg, async (c): Promise<CallResult | { later: Promise<CallResult> }> => {
      const caller = (opts.caller ?? Principal.anonymous()).toUint8Array();

      let entry = `canister_update ${method}`;
      let kind: MessageKind = 'update';
      if (!c.exports(entry)) {
        if (c.exports(`canister_query ${method}`)) {
          entry = `canister_query ${method}`;
          kind = 'replicated_query';
        } else {
          return rejected(rejects.methodNotFound(c.idText, 'update', method));
        }
      }
      if (c.exports('canister_inspect_message')) {
        const inspect = newMessage({
          kind: 'inspect_message',
          method,
          arg,
          caller,
          time: this.now,
          limit: this.limits.query,
        });
        const res = c.execute(inspect, 'canister_inspect_message', 'discard');
        if (res.error) return rejected(res.error, res.instructions);
        if (!inspect.accepted) return rejected(rejects.inspectRejected(c.idText), res.instructions);
      }

      // Answered at the end of the task that responds: this one, or (when the
      // message waits for a canister of another runtime) a later one.
      let answer!: (r: CallResult) => void;
      const later = new Promise<CallResult>((resolve) => (answer = resolve));
      const cc = this.newContext(
        {
          kind: 'ingress',
          settle: ({ response, instructions }) => {
            const result = toCallResult(toOutcome(response), instructions);
            this.answers.push(() => answer(result));
          },
        },
        caller,
        method,
      );
      this.external.set(cc, c.idText);
      this.deliver(c, cc, kind, entry, arg);
      this.drain();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
      return { later };
    });
    return run.then((r) => ('later' in r ? r.later : r));
  }

  query(
    canisterId: Principal,
    method: string,
    arg: Uint8Array,
    opts: { caller?: Principal; certificate?: Uint8Array } = {},
  ): Promise<CallResult> {
    return this.ingress(canisterId, arg, (c) => {
      let entry = `canister_query ${method}`;
      if (!c.exports(entry)) {
        // Composite queries run as plain queries here; a call from one traps.
        entry = `canister_composite_query ${method}`;
        if (!c.exports(entry)) {
          return rejected(rejects.methodNotFound(c.idText, 'query', method));
        }
      }
      const msg = newMessage({
        kind: 'query',
        method,
        arg,
        caller: (opts.caller ?? Principal.anonymous()).toUint8Array(),
        time: this.now,
        limit: this.limits.query,
        certificate: opts.certificate,
      });
      const res = c.execute(msg, entry, 'discard');
      if (res.error) return rejected(res.error, res.instructions);
      if (!res.response) return rejected(rejects.didNotReply(c.idText), res.instructions);
      return toCallResult(toOutcome(res.response), res.instructions);
    });
  }

  // --- messages between canisters ---

  private newContext(origin: CallContext['origin'], caller: Uint8Array, method: string): CallContext {
    return { id: this.nextContextId++, origin, caller, method, responded: false, outstanding: 0, instructions: 0n };
  }

  /** Executes an incoming call (ingress or from a canister) in `c` under call context `cc`. */
  private deliver(c: Canister, cc: CallContext, kind: MessageKind, entry: string, arg: Uint8Array): void {
    const msg = newMessage({
      kind,
      method: cc.method,
      arg,
      caller: cc.caller,
      time: this.now,
      limit: this.limits.update,
    });
    const res = c.execute(msg, entry, kind === 'replicated_query' ? 'discard' : 'commit');
    this.afterExecution(c, cc, res);
  }

  /** Bookkeeping after any execution in call context `cc`: respond, send calls, persist. */
  private afterExecution(c: Canister, cc: CallContext, res: ExecResult): void {
    this.afterExecutionOf(c, cc, res);
    this.mgmt.settleStop(c);
  }

  private afterExecutionOf(c: Canister, cc: CallContext, res: ExecResult): void {
    cc.instructions += res.instructions;
    if (res.ok) {
      this.store?.noteCommit(c, res.stableBlocks, res.stableSizeChanged || res.metaChanged);
      if (res.response) this.respond(cc, res.response);
      for (const call of res.outgoing) {
        const id = c.nextCallbackId++;
        c.callbacks.set(id, { id, context: cc, reply: call.reply, reject: call.reject, cleanup: call.cleanup });
        cc.outstanding++;
        this.tasks.push({ kind: 'request', from: c, call, callback: id });
      }
    }
    if (!cc.responded && cc.outstanding === 0) {
      this.respond(cc, res.error ?? rejects.didNotReply(c.idText));
    }
  }

  private respond(cc: CallContext, response: Response | Reject): void {
    if (cc.responded) return;
    cc.responded = true;
    this.external.delete(cc);
    const origin = cc.origin;
    if (origin.kind === 'ingress') {
      origin.settle({ response, instructions: cc.instructions });
    } else if (origin.kind === 'call' && origin.caller) {
      this.tasks.push({ kind: 'response', to: origin.caller, callback: origin.callback, outcome: toOutcome(response) });
    }
  }

  /** Processes queued requests and responses until none are left. */
  private drain(): void {
    let processed = 0;
    while (this.tasks.length > 0) {
      if (++processed > MAX_MESSAGES_PER_TASK) {
        this.tasks.length = 0;
        throw new Error(`more than ${MAX_MESSAGES_PER_TASK} messages for one request: call loop?`);
      }
      const task = this.tasks.shift()!;
      if (task.kind === 'request') this.handleRequest(task.from, task.call, task.callback);
      else this.handleResponse(task.to, task.callback, task.outcome);
    }
  }

  private handleRequest(from: Canister, call: OutgoingCall, callback: number): void {
    const reply = (outcome: Outcome): void => {
      this.tasks.push({ kind: 'response', to: from, callback, outcome });
    };
    if (this.peers && this.isRemote(call)) {
      const token = this.nextToken++;
      this.remoteCalls.set(token, { from, callback });
      const peers = this.peers;
      const remote: RemoteCall = { callee: call.callee, method: call.method, arg: call.arg, target: this.managementSubject(call)?.toUint8Array() };
      this.outbox.push(() => peers.send(token, from.idBytes, remote));
      return;
    }
    this.executeRequest(from, call, reply, { kind: 'call', caller: from, callerId: from.idBytes, callback });
  }

  /** For a call to the management canister: the canister it is about (undefined for create_canister, raw_rand, bad arguments). */
  private managementSubject(call: Pick<OutgoingCall, 'callee' | 'method' | 'arg'>): Principal | undefined {
    return Buffer.from(call.callee).equals(MANAGEMENT_BYTES) ? managementTarget(call) : undefined;
  }

  /**
   * Whether a call must go to another runtime: its callee is not here, or it
   * asks the management canister about a canister that is not here, or it
   * creates a canister (the host allocates ids and places canisters).
   */
  private isRemote(call: OutgoingCall): boolean {
    if (!Buffer.from(call.callee).equals(MANAGEMENT_BYTES)) {
      try {
        return !this.canisters.has(Principal.fromUint8Array(call.callee).toText());
      } catch {
        return false; // answered here: not found
      }
    }
    if (call.method === 'create_canister') return createCanisterWouldSucceed(call);
    const subject = managementTarget(call);
    return subject !== undefined && !this.canisters.has(subject.toText());
  }

  /**
   * A call from a canister of another runtime (or a create_canister it made,
   * with the id the host assigned): executed as a task of its own, its
   * outcome sent back once that task is durable.
   */
  acceptRemote(from: Uint8Array, call: RemoteCall, replyTo: unknown, assignId?: Uint8Array): void {
    const peers = this.peers;
    if (!peers) throw new Error('acceptRemote needs peers');
    const reply = (outcome: Outcome): void => {
      this.outbox.push(() => peers.reply(replyTo, outcome));
    };
    void this.serial(async () => {
      this.tick();
      const id = Principal.fromUint8Array(from);
      const caller: ManagementCaller & { idBytes: Uint8Array } = { id, idText: id.toText(), idBytes: from };
      const cc = this.newContext(
        { kind: 'ingress', settle: ({ response }) => reply(toOutcome(response)) },
        from,
        call.method,
      );
      this.assignId = assignId && Principal.fromUint8Array(assignId);
      try {
        const target = this.executeRequest(caller, call, reply, cc.origin, cc);
        if (target && !cc.responded) this.external.set(cc, target);
      } finally {
        this.assignId = undefined;
      }
      this.drain();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
    }).catch((err: unknown) => {
      // Closed, or a call loop: the caller gets a reject instead of waiting forever.
      peers.reply(replyTo, { kind: 'reject', reject: rejects.explicit(`the local IC could not execute the call: ${String(err)}`) });
    });
  }

  /** The outcome of a call this runtime sent to another one: runs its callback as a task. */
  deliverRemote(token: number, outcome: Outcome): void {
    void this.serial(async () => {
      const pending = this.remoteCalls.get(token);
      if (!pending) return;
      this.remoteCalls.delete(token);
      this.tick();
      this.tasks.push({ kind: 'response', to: pending.from, callback: pending.callback, outcome });
      this.drain();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
    }).catch((err: unknown) => {
      if (!this.closed) this.logLine('local-ic', `a response from another thread failed: ${String(err)}`);
    });
  }

  /**
   * Executes a call to `call.callee` (here) from `from` in a new call
   * context with `origin`, or answers it with `reply`; returns the callee's
   * id when a call context was opened.
   */
  private executeRequest(
    from: ManagementCaller & { idBytes: Uint8Array },
    call: Pick<OutgoingCall, 'callee' | 'method' | 'arg'>,
    reply: (outcome: Outcome) => void,
    origin: CallContext['origin'],
    context?: CallContext,
  ): string | undefined {
    let callee: Principal;
    try {
      callee = Principal.fromUint8Array(call.callee);
    } catch {
      reply({ kind: 'reject', reject: rejects.canisterNotFound(Buffer.from(call.callee).toString('hex')) });
      return;
    }
    const calleeText = callee.toText();
    if (calleeText === MANAGEMENT) {
      this.mgmt.handle(from, call, reply);
      return;
    }
    const target = this.canisters.get(calleeText);
    if (!target) return void reply({ kind: 'reject', reject: rejects.canisterNotFound(calleeText) });
    if (!target.hasModule) return void reply({ kind: 'reject', reject: rejects.noModule(calleeText) });
    if (target.broken) return void reply({ kind: 'reject', reject: target.broken });
    if (target.status !== 'running') return void reply({ kind: 'reject', reject: this.notRunning(target) });
    let entry = `canister_update ${call.method}`;
    let kind: MessageKind = 'update';
    if (!target.exports(entry)) {
      entry = `canister_query ${call.method}`;
      kind = 'replicated_query';
      if (!target.exports(entry)) {
        return void reply({ kind: 'reject', reject: rejects.methodNotFound(calleeText, 'update', call.method) });
      }
    }
    const cc = context ?? this.newContext(origin, from.idBytes, call.method);
    this.deliver(target, cc, kind, entry, call.arg);
    return calleeText;
  }

  private handleResponse(to: Canister, callbackId: number, outcome: Outcome): void {
    const cb = to.callbacks.get(callbackId);
    if (!cb || !to.hasModule) {
      // the caller was reinstalled or upgraded meanwhile
      this.mgmt.settleStop(to);
      return;
    }
    to.callbacks.delete(callbackId);
    const cc = cb.context;
    cc.outstanding--;
    const msg = newMessage({
      kind: outcome.kind === 'reply' ? 'reply_callback' : 'reject_callback',
      method: cc.method,
      arg: outcome.kind === 'reply' ? outcome.data : new Uint8Array(0),
      caller: cc.caller,
      time: this.now,
      limit: this.limits.update,
      rejectCode: outcome.kind === 'reject' ? outcome.reject.rejectCode : 0,
      rejectMessage: outcome.kind === 'reject' ? outcome.reject.rejectMessage : '',
      canRespond: !cc.responded,
      callContextInstructions: cc.instructions,
    });
    const res = to.execute(msg, outcome.kind === 'reply' ? cb.reply : cb.reject, 'commit');
    if (!res.ok && cb.cleanup) {
      const cleanup = newMessage({
        kind: 'cleanup',
        method: cc.method,
        arg: new Uint8Array(0),
        caller: cc.caller,
        time: this.now,
        limit: this.limits.update,
      });
      const cres = to.execute(cleanup, cb.cleanup, 'commit');
      cc.instructions += cres.instructions;
      if (cres.ok) this.store?.noteCommit(to, cres.stableBlocks, cres.stableSizeChanged || cres.metaChanged);
    }
    this.afterExecution(to, cc, res);
  }

  // --- time and timers ---

  timeNs(): bigint {
    if (!this.manualClock) {
      const wall = BigInt(Date.now()) * 1_000_000n;
      return wall > this.now ? wall : this.now;
    }
    return this.now;
  }

  setTime(ns: bigint): Promise<void> {
    return this.serial(async () => {
      if (ns < this.now) throw new LocalICError('time cannot move backwards', 'InvalidArgument');
      this.now = ns;
      this.runHeartbeats();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
    });
  }

  advanceTime(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new LocalICError('advanceTime needs a non-negative number of milliseconds', 'InvalidArgument'));
    }
    return this.serial(async () => {
      this.now += BigInt(Math.round(ms * 1_000_000));
      this.runHeartbeats();
      this.fireDueTimers();
      await this.store?.flush();
      this.scheduleTimers();
    });
  }

  /** One execution round of `canister_heartbeat` for every canister that exports it. */
  private runHeartbeats(): void {
    for (const c of this.canisters.values()) {
      if (c.status === 'running' && c.exports('canister_heartbeat')) this.runSystemTask(c, 'heartbeat', 'canister_heartbeat');
    }
  }

  /** Runs `canister_global_timer` of every canister whose deadline has passed, round after round. */
  private fireDueTimers(): void {
    for (let round = 0; round < MAX_TIMER_ROUNDS; round++) {
      const due = [...this.canisters.values()].filter(
        (c) => c.hasModule && c.status === 'running' && c.globalTimer !== 0n && c.globalTimer <= this.now,
      );
      if (due.length === 0) return;
      for (const c of due) {
        c.globalTimer = 0n; // deactivated before it runs, as on the IC
        this.store?.noteCommit(c, [], true);
        if (c.exports('canister_global_timer')) this.runSystemTask(c, 'global_timer', 'canister_global_timer');
      }
    }
  }

  /**
   * A message the system sends on its own (heartbeat, global timer): no
   * argument, the canister is its own caller, the update limit applies, and
   * the calls it makes are processed before the next canister's turn.
   */
  private runSystemTask(c: Canister, kind: Extract<MessageKind, 'heartbeat' | 'global_timer'>, entry: string): void {
    const cc = this.newContext({ kind: 'system' }, c.idBytes, entry);
    const msg = newMessage({
      kind,
      method: entry,
      arg: new Uint8Array(0),
      caller: c.idBytes,
      time: this.now,
      limit: this.limits.update,
    });
    this.afterExecution(c, cc, c.execute(msg, entry, 'commit'));
    this.drain();
  }

  /** With the system clock, wakes up at the earliest timer deadline. */
  private scheduleTimers(): void {
    if (this.manualClock || this.closed) return;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    this.timerHandle = undefined;
    let earliest: bigint | undefined;
    const nowWall = BigInt(Date.now()) * 1_000_000n;
    for (const c of this.canisters.values()) {
      if (c.hasModule && c.globalTimer !== 0n && (earliest === undefined || c.globalTimer < earliest)) {
        earliest = c.globalTimer;
      }
      // Heartbeats run about once a second, as rounds do on the IC.
      const beat = nowWall + 1_000_000_000n;
      if (c.exports('canister_heartbeat') && (earliest === undefined || beat < earliest)) earliest = beat;
    }
    if (earliest === undefined) return;
    const delayMs = Number((earliest - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
    this.timerHandle = setTimeout(
      () => {
        this.timerHandle = undefined;
        void this.serial(async () => {
          this.tick();
          this.runHeartbeats();
          this.fireDueTimers();
          await this.store?.flush();
          this.scheduleTimers();
        }).catch((err: unknown) => this.logLine('local-ic', `timer execution failed: ${String(err)}`));
      },
      Math.min(Math.max(delayMs + 1, 0), 2 ** 31 - 1),
    );
    this.timerHandle.unref();
  }

  // --- persistence ---

  /** Recreates canisters from disk: each module is re-installed as an upgrade (heap reset, stable kept). */
  private async restore(saved: { nextIndex: bigint; canisters: PersistedCanister[] }): Promise<void> {
    if (saved.nextIndex > this.nextIndex) this.nextIndex = saved.nextIndex;
    for (const p of saved.canisters) {
      const c = this.newCanister(p.id, p.controllers);
      c.stable = p.stable;
      c.certifiedData = p.certifiedData;
      c.version = p.version;
      c.lastInstallArg = p.lastInstallArg;
      // A canister stopping when the process ended had no open calls left: it is stopped.
      c.status = p.status === 'running' ? 'running' : 'stopped';
      for (const [hash, chunk] of p.chunks) c.chunks.restore(hash, chunk);
      if (!p.wasm) continue;
      const module = loadModule(p.wasm, { metering: this.metering, cacheDir: this.store?.moduleCacheDir });
      c.freshInstance(module);
      c.stable.begin();
      const error = this.runInstallSteps(
        c,
        [
          ['start', 'canister_start', new Uint8Array(0)],
          ['post_upgrade', 'canister_post_upgrade', p.lastInstallArg],
        ],
        Principal.anonymous().toUint8Array(),
      );
      if (error) {
        // Keep the canister, its module and its data; it answers with this
        // error until an upgrade (which skips pre_upgrade) or reinstall.
        c.stable.rollback();
        c.broken = error;
        this.logLine(c.idText, `restart: post_upgrade failed: ${error.rejectMessage}`);
        continue;
      }
      c.stable.commit();
      c.commitHeap();
    }
    this.drain();
    this.fireDueTimers();
    await this.store?.flush();
    this.scheduleTimers();
  }

  /** Refuses new work, waits for the running task, makes everything durable and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    this.timerHandle = undefined;
    await this.chain;
    await this.store?.flush();
    await this.store?.close();
  }
}
