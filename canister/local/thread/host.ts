// The threaded local IC: the same API as the in-thread `LocalIC`
// (runtime/local-ic.ts), with canister execution on a worker thread
// (worker.ts), so a long message (a 1 MiB `put_chunk` runs about a second of
// Wasm) does not stop this thread's event loop: HTTP servers, timers and
// tests sharing the process keep running, as the IC's endpoints stay
// responsive while canisters execute on their own threads.
//
// Calls become messages, answered in order; errors come back as the same
// classes (LocalICError with its code, InstallCodeError with its reject).
// The synchronous getters (canisterIds, controllers, moduleHash, metadata,
// certifiedData, timeNs) answer from a mirror the worker updates at the end
// of every task, before that task's answer, so a resolved call is always
// reflected in them.
//
// Queries do not wait behind updates: a second worker (query-worker.ts)
// keeps a query replica of every canister, and the runtime's worker hands it,
// through this thread, what committed messages changed, before the answer of
// the task that committed them. So a query sees every update that resolved
// before it was made, and runs while the runtime executes the next update.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Principal } from '@dfinity/principal';
import { LocalICError } from '../runtime/errors.js';
import { INSTRUCTION_LIMITS, type CallResult, type LocalICApi, type LocalICOptions } from '../runtime/local-ic.js';
import { transferablesOf, type ReplicaQuery } from '../runtime/query-replica.js';
import {
  deserializeError,
  type Op,
  type QueryWorkerInit,
  type QueryWorkerMessage,
  type Request,
  type SerializedError,
  type StateDelta,
  type WorkerInit,
  type WorkerMessage,
  type WorkerOptions,
} from './protocol.js';

type Payload<O extends Op> = Omit<Extract<Request, { op: O }>, 'id' | 'op'>;

interface Mirrored {
  id: Principal;
  controllers: Principal[];
  moduleHash: Uint8Array | undefined;
  certifiedData: Uint8Array;
  metadata: Map<string, Uint8Array>;
  privateMetadata: Set<string>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);
const QUERY_ENTRY = new URL('./query-worker-entry.mjs', import.meta.url);

export class LocalICThread implements LocalICApi {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly canisters = new Map<string, Mirrored>();
  private now = 0n;
  private closing: Promise<void> | undefined;
  /** Set when the worker died: every later call fails with it. */
  private dead: Error | undefined;
  private readonly pendingQueries = new Map<number, Pending>();

  private constructor(
    private readonly worker: Worker,
    private queryWorker: Worker | undefined,
    private readonly manualClock: boolean,
    private readonly logLine: (canisterId: string, line: string) => void,
  ) {}

  /** Starts the worker, which opens `dataDir` (recovering canisters) before this resolves. */
  static create(opts: LocalICOptions = {}): Promise<LocalICThread> {
    const { log, thread: _thread, queries, ...rest } = opts;
    const options: WorkerOptions = rest;
    // Without rollback (a bench setting) commits are not tracked, so a replica could not follow.
    const replicas = queries !== 'serial' && opts.rollback !== false;
    const worker = new Worker(ENTRY, { workerData: { options, replicas } satisfies WorkerInit, name: 'local-ic' });
    const queryWorker = replicas
      ? new Worker(QUERY_ENTRY, {
          workerData: {
            metering: opts.metering ?? true,
            queryLimit: opts.instructionLimits?.query ?? INSTRUCTION_LIMITS.query,
            cacheDir: opts.dataDir ? join(opts.dataDir, 'modules') : undefined,
          } satisfies QueryWorkerInit,
          name: 'local-ic-queries',
        })
      : undefined;
    const host = new LocalICThread(
      worker,
      queryWorker,
      opts.clock === 'manual',
      log ?? ((id, line) => console.log(`[canister ${id}] ${line}`)),
    );
    if (queryWorker) host.watchQueryWorker(queryWorker);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (m: WorkerMessage) => {
        if (m.kind === 'ready') {
          started = true;
          host.apply(m.state);
          host.refreshRef();
          resolve(host);
        } else if (m.kind === 'failed') {
          started = true;
          reject(deserializeError(m.error));
          void worker.terminate();
        } else {
          host.onMessage(m);
        }
      });
      worker.on('error', (error) => {
        host.fail(error);
        if (!started) reject(error);
      });
      worker.on('exit', (code) => {
        host.fail(new LocalICError(`the local IC worker exited (code ${code})`, 'Closed'));
        if (!started) reject(new Error(`the local IC worker exited with code ${code} before it was ready`));
      });
    });
  }

  // --- messaging ---

  private onMessage(m: WorkerMessage): void {
    switch (m.kind) {
      case 'state':
        this.apply(m.state);
        return;
      case 'log':
        this.logLine(m.canisterId, m.line);
        return;
      case 'replica':
        // Forwarded before the answer of the task that committed it, so later queries see it.
        this.queryWorker?.postMessage({ kind: 'apply', deltas: m.deltas }, transferablesOf(m.deltas));
        return;
      case 'result':
      case 'error':
        this.settle(this.pending, m);
        return;
      default:
        return;
    }
  }

  /** Answers the waiting call a worker's result or error belongs to (the main worker's and the query worker's alike). */
  private settle(waiting: Map<number, Pending>, m: { kind: 'result'; id: number; value: unknown } | { kind: 'error'; id: number; error: SerializedError }): void {
    const p = waiting.get(m.id);
    if (!p) return;
    waiting.delete(m.id);
    this.refreshRef();
    if (m.kind === 'result') p.resolve(m.value);
    else p.reject(deserializeError(m.error));
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const p of this.pendingQueries.values()) p.reject(error);
    this.pendingQueries.clear();
  }

  private watchQueryWorker(w: Worker): void {
    w.on('message', (m: QueryWorkerMessage) => {
      switch (m.kind) {
        case 'log':
          this.logLine(m.canisterId, m.line);
          return;
        case 'failed':
          this.dropQueryWorker(deserializeError(m.error));
          return;
        case 'result':
        case 'error':
          this.settle(this.pendingQueries, m);
          return;
        default:
          return;
      }
    });
    w.on('error', (error) => this.dropQueryWorker(error));
    w.on('exit', (code) => this.dropQueryWorker(new Error(`the query worker exited (code ${code})`)));
  }

  /**
   * A replica that could not follow its canister must not answer: queries go
   * back to the runtime's own queue (slower, never stale).
   */
  private dropQueryWorker(error: Error): void {
    const w = this.queryWorker;
    if (!w) return;
    this.queryWorker = undefined;
    w.removeAllListeners('exit');
    if (!this.closing) this.logLine('local-ic', `query replicas stopped (${error.message}); queries wait for updates again`);
    void w.terminate();
    for (const p of this.pendingQueries.values()) p.reject(error);
    this.pendingQueries.clear();
  }

  /**
   * The workers keep the process alive only while a call is waiting for them,
   * like the in-thread runtime, whose timers do not hold the process either.
   */
  private refreshRef(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
    if (this.pendingQueries.size > 0) this.queryWorker?.ref();
    else this.queryWorker?.unref();
  }

  private sendQuery(query: ReplicaQuery): Promise<CallResult> {
    const w = this.queryWorker!;
    const id = this.nextId++;
    return new Promise<CallResult>((resolve, reject) => {
      this.pendingQueries.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.refreshRef();
      w.postMessage({ kind: 'query', id, query });
    });
  }

  private send<O extends Op, T>(op: O, payload: Payload<O>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closing && op !== 'close') return Promise.reject(new LocalICError('the local IC is closed', 'Closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.refreshRef();
      // Arguments are copied, not transferred: they belong to the caller, who
      // may still use them (the HTTP interface passes views into request bodies).
      this.worker.postMessage({ id, op, ...payload } as Request);
    });
  }

  private apply(state: StateDelta): void {
    this.now = state.now;
    for (const c of state.canisters) {
      const id = Principal.fromUint8Array(c.id);
      const before = this.canisters.get(id.toText());
      this.canisters.set(id.toText(), {
        id,
        controllers: c.controllers.map((p) => Principal.fromUint8Array(p)),
        moduleHash: c.moduleHash,
        certifiedData: c.certifiedData,
        metadata: c.metadata ? new Map(c.metadata) : (before?.metadata ?? new Map()),
        privateMetadata: c.metadata ? new Set(c.privateMetadata ?? []) : (before?.privateMetadata ?? new Set()),
      });
    }
  }

  private mirrored(canisterId: Principal): Mirrored {
    const c = this.canisters.get(canisterId.toText());
    if (!c) throw new LocalICError(`Canister ${canisterId.toText()} not found`, 'CanisterNotFound');
    return c;
  }

  // --- the LocalIC API ---

  async createCanister(opts: { controllers?: Principal[]; canisterId?: Principal } = {}): Promise<Principal> {
    const bytes = await this.send<'createCanister', Uint8Array>('createCanister', {
      controllers: opts.controllers?.map((p) => p.toUint8Array()),
      canisterId: opts.canisterId?.toUint8Array(),
    });
    return Principal.fromUint8Array(bytes);
  }

  installCode(
    canisterId: Principal,
    wasm: Uint8Array,
    opts: { mode: 'install' | 'reinstall' | 'upgrade'; arg?: Uint8Array; sender?: Principal },
  ): Promise<void> {
    return this.send('installCode', {
      canisterId: canisterId.toUint8Array(),
      wasm,
      mode: opts.mode,
      arg: opts.arg,
      sender: opts.sender?.toUint8Array(),
    });
  }

  update(canisterId: Principal, method: string, arg: Uint8Array, opts: { caller?: Principal } = {}): Promise<CallResult> {
    return this.send('update', { canisterId: canisterId.toUint8Array(), method, arg, caller: opts.caller?.toUint8Array() });
  }

  query(
    canisterId: Principal,
    method: string,
    arg: Uint8Array,
    opts: { caller?: Principal; certificate?: Uint8Array } = {},
  ): Promise<CallResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closing) return Promise.reject(new LocalICError('the local IC is closed', 'Closed'));
    if (this.queryWorker) {
      return this.sendQuery({
        canisterId: canisterId.toUint8Array(),
        method,
        arg,
        caller: opts.caller?.toUint8Array(),
        certificate: opts.certificate,
        time: this.timeNs(),
      });
    }
    return this.send('query', {
      canisterId: canisterId.toUint8Array(),
      method,
      arg,
      caller: opts.caller?.toUint8Array(),
      certificate: opts.certificate,
    });
  }

  setControllers(canisterId: Principal, controllers: Principal[]): Promise<void> {
    return this.send('setControllers', {
      canisterId: canisterId.toUint8Array(),
      controllers: controllers.map((p) => p.toUint8Array()),
    });
  }

  canisterIds(): Principal[] {
    return [...this.canisters.values()].map((c) => c.id);
  }

  controllers(canisterId: Principal): Principal[] {
    return [...this.mirrored(canisterId).controllers];
  }

  moduleHash(canisterId: Principal): Uint8Array | undefined {
    const hash = this.canisters.get(canisterId.toText())?.moduleHash;
    return hash ? new Uint8Array(hash) : undefined;
  }

  metadata(canisterId: Principal, name: string): Uint8Array | undefined {
    const c = this.canisters.get(canisterId.toText());
    if (!c?.moduleHash) return undefined;
    const data = c.metadata.get(name);
    return data ? new Uint8Array(data) : undefined;
  }

  isPrivateMetadata(canisterId: Principal, name: string): boolean {
    const c = this.canisters.get(canisterId.toText());
    return c?.moduleHash !== undefined && c.privateMetadata.has(name);
  }

  metadataNames(canisterId: Principal): string[] {
    const c = this.canisters.get(canisterId.toText());
    return c?.moduleHash ? [...c.metadata.keys()] : [];
  }

  certifiedData(canisterId: Principal): Uint8Array {
    return new Uint8Array(this.mirrored(canisterId).certifiedData);
  }

  timeNs(): bigint {
    if (this.manualClock) return this.now;
    // The system clock, never behind the time the worker last used (the
    // runtime keeps time strictly increasing between tasks).
    const wall = BigInt(Date.now()) * 1_000_000n;
    return wall > this.now ? wall : this.now;
  }

  setTime(ns: bigint): Promise<void> {
    return this.send('setTime', { ns });
  }

  advanceTime(ms: number): Promise<void> {
    return this.send('advanceTime', { ms });
  }

  /** Refuses new calls, lets the worker finish every call made before (durably), then stops it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.dead) await this.send('close', {});
      this.worker.removeAllListeners('exit');
      await this.worker.terminate();
      const q = this.queryWorker;
      if (q) {
        this.queryWorker = undefined;
        q.removeAllListeners('exit');
        await q.terminate();
        for (const p of this.pendingQueries.values()) p.reject(new LocalICError('the local IC is closed', 'Closed'));
        this.pendingQueries.clear();
      }
    })();
    return this.closing;
  }
}
