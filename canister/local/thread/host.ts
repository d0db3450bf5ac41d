// The threaded local IC: the same API as the in-thread `LocalIC`
// (runtime/local-ic.ts), with canister execution on a pool of worker
// threads (worker.ts), each running a runtime that holds some of the
// canisters. A long message (a 1 MiB `put_chunk` runs about a second of
// Wasm) stops neither this thread's event loop (HTTP servers, timers and
// tests sharing the process keep running) nor the canisters of the other
// workers: as on the IC, where a subnet executes different canisters on
// several threads, independent canisters overlap.
//
// This thread is the router: it allocates canister ids (one range for all,
// as before), places each new canister on the worker holding the fewest
// (pinned there for its life, so its messages keep their order), sends each
// call to its canister's worker, and forwards calls between canisters of
// different workers and their outcomes (`PeerMessage`). Errors come back as
// the same classes (LocalICError with its code, InstallCodeError with its
// reject). The synchronous getters (canisterIds, controllers, moduleHash,
// metadata, certifiedData, timeNs) answer from a mirror each worker updates
// at the end of every task, before that task's answer, so a resolved call is
// always reflected in them. A manual clock moves on every worker at once.
//
// Queries do not wait behind updates: another worker (query-worker.ts)
// keeps a query replica of every canister, and each runtime worker hands it,
// through this thread, what committed messages changed, before the answer of
// the task that committed them. So a query sees every update that resolved
// before it was made, and runs while the runtimes execute updates.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Principal } from '@dfinity/principal';
import { LocalICError, rejects } from '../runtime/errors.js';
import {
  CANISTER_RANGE_END,
  CANISTER_RANGE_START,
  INSTRUCTION_LIMITS,
  canisterIdFromIndex,
  type CallResult,
  type LocalICApi,
  type LocalICOptions,
} from '../runtime/local-ic.js';
import type { Outcome } from '../runtime/management-canister.js';
import { persistedCanisterIds } from '../runtime/persistence.js';
import { transferablesOf, type ReplicaQuery } from '../runtime/query-replica.js';
import {
  deserializeError,
  ownedBuffer,
  type Op,
  type PeerMessage,
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

/** One runtime thread of the pool and the canisters pinned to it. */
interface Runtime {
  index: number;
  worker: Worker;
  /** Calls of the API waiting for this worker. */
  pending: Map<number, Pending>;
  canisters: number;
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);
const QUERY_ENTRY = new URL('./query-worker-entry.mjs', import.meta.url);
const MANAGEMENT = Principal.managementCanister().toText();

export class LocalICThread implements LocalICApi {
  private nextId = 1;
  private readonly canisters = new Map<string, Mirrored>();
  /** Where each canister lives (also canisters being created). */
  private readonly owner = new Map<string, Runtime>();
  private nextIndex = CANISTER_RANGE_START + 1n;
  private now = 0n;
  private closing: Promise<void> | undefined;
  /** Set when a worker died: every later call fails with it. */
  private dead: Error | undefined;
  private readonly pendingQueries = new Map<number, Pending>();
  /** Every call of the API not answered yet: close() lets them finish. */
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(
    private readonly runtimes: Runtime[],
    private queryWorker: Worker | undefined,
    private readonly manualClock: boolean,
    private readonly logLine: (canisterId: string, line: string) => void,
  ) {}

  /**
   * Starts the workers, which open `dataDir` (recovering the canisters
   * placed on each) before this resolves.
   */
  static create(opts: LocalICOptions = {}): Promise<LocalICThread> {
    const { log, thread: _thread, queries, workers: count, ...rest } = opts;
    const options: WorkerOptions = rest;
    const size = Math.max(1, Math.floor(count ?? availableParallelism()));
    // Without rollback (a bench setting) commits are not tracked, so a replica could not follow.
    const replicas = queries !== 'serial' && opts.rollback !== false;
    // Stored canisters are dealt out in id order, as new ones are placed.
    const stored = opts.dataDir ? persistedCanisterIds(opts.dataDir) : [];
    const placed: string[][] = Array.from({ length: size }, () => []);
    stored.forEach((id, i) => placed[i % size].push(id.toText()));
    const runtimes: Runtime[] = placed.map((canisters, index) => ({
      index,
      canisters: canisters.length,
      pending: new Map(),
      worker: new Worker(ENTRY, {
        workerData: { options, replicas, worker: index, canisters } satisfies WorkerInit,
        name: `local-ic-${index}`,
      }),
    }));
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
      runtimes,
      queryWorker,
      opts.clock === 'manual',
      log ?? ((id, line) => console.log(`[canister ${id}] ${line}`)),
    );
    for (const [i, id] of stored.entries()) host.owner.set(id.toText(), runtimes[i % size]);
    for (const id of stored) {
      const bytes = id.toUint8Array();
      if (bytes.length === 10 && bytes[8] === 1 && bytes[9] === 1) {
        const index = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0);
        if (index + 1n > host.nextIndex) host.nextIndex = index + 1n;
      }
    }
    if (queryWorker) host.watchQueryWorker(queryWorker);
    return new Promise((resolve, reject) => {
      let waiting = runtimes.length;
      let failed = false;
      const failStart = (error: Error): void => {
        if (failed) return;
        failed = true;
        reject(error);
        for (const r of runtimes) {
          r.worker.removeAllListeners('exit');
          void r.worker.terminate();
        }
        queryWorker?.removeAllListeners();
        void queryWorker?.terminate();
      };
      for (const r of runtimes) {
        let started = false;
        r.worker.on('message', (m: WorkerMessage) => {
          if (m.kind === 'ready') {
            started = true;
            host.apply(m.state);
            if (--waiting === 0 && !failed) {
              host.refreshRef();
              resolve(host);
            }
          } else if (m.kind === 'failed') {
            started = true;
            failStart(deserializeError(m.error));
          } else {
            host.onMessage(r, m);
          }
        });
        r.worker.on('error', (error) => {
          host.fail(error);
          if (!started) failStart(error);
        });
        r.worker.on('exit', (code) => {
          host.fail(new LocalICError(`the local IC worker exited (code ${code})`, 'Closed'));
          if (!started) failStart(new Error(`the local IC worker exited with code ${code} before it was ready`));
        });
      }
    });
  }

  // --- messaging ---

  private onMessage(from: Runtime, m: WorkerMessage): void {
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
      case 'peer':
        this.route(from, m.message);
        return;
      case 'result':
      case 'error':
        this.settle(from.pending, m);
        return;
      default:
        return;
    }
  }

  /**
   * Forwards a call between canisters of different runtimes to the runtime
   * of its callee (for the management canister: of the canister the call is
   * about), and its outcome back. A create_canister gets the next id and
   * the least loaded runtime here, so ids stay one sequence for all.
   */
  private route(from: Runtime, m: PeerMessage): void {
    if (m.peer === 'reply') {
      const to = this.runtimes[m.replyTo.worker];
      const data = m.outcome.kind === 'reply' ? ownedBuffer(m.outcome.data) : undefined;
      to?.worker.postMessage({ peer: 'outcome', token: m.replyTo.token, outcome: m.outcome } satisfies PeerMessage, data ? [data] : []);
      return;
    }
    if (m.peer !== 'call') return;
    const replyTo = { worker: from.index, token: m.token };
    const answer = (outcome: Outcome): void => {
      from.worker.postMessage({ peer: 'outcome', token: m.token, outcome } satisfies PeerMessage);
    };
    const callee = Principal.fromUint8Array(m.call.callee).toText();
    if (callee === MANAGEMENT && !m.call.target) {
      // create_canister (the runtime routes no other subject-less management call here)
      let id: Principal;
      try {
        id = this.allocateId();
      } catch (error) {
        return answer({ kind: 'reject', reject: rejects.explicit((error as Error).message) });
      }
      const to = this.place(id);
      to.worker.postMessage({ peer: 'accept', from: m.from, call: m.call, replyTo, assignId: id.toUint8Array() } satisfies PeerMessage);
      return;
    }
    const key = callee === MANAGEMENT ? Principal.fromUint8Array(m.call.target!).toText() : callee;
    const to = this.owner.get(key);
    if (!to) {
      const reject = callee === MANAGEMENT ? rejects.managementCanisterNotFound(key) : rejects.canisterNotFound(key);
      return answer({ kind: 'reject', reject });
    }
    // The argument is this thread's copy (structured clone): move it on.
    const arg = ownedBuffer(m.call.arg);
    to.worker.postMessage({ peer: 'accept', from: m.from, call: m.call, replyTo } satisfies PeerMessage, arg ? [arg] : []);
  }

  /** The next free id of the range (what the in-thread runtime allocates). */
  private allocateId(): Principal {
    for (;;) {
      if (this.nextIndex > CANISTER_RANGE_END) throw new LocalICError('canister id range exhausted', 'InvalidArgument');
      const id = canisterIdFromIndex(this.nextIndex++);
      if (!this.owner.has(id.toText())) return id;
    }
  }

  /** Pins a new canister to the runtime holding the fewest (the first of them on a tie). */
  private place(id: Principal): Runtime {
    let to = this.runtimes[0];
    for (const r of this.runtimes) if (r.canisters < to.canisters) to = r;
    to.canisters++;
    this.owner.set(id.toText(), to);
    return to;
  }

  /** The runtime of a canister; an unknown one goes to the first, which answers as the in-thread runtime would. */
  private runtimeOf(canisterId: Uint8Array): Runtime {
    return this.owner.get(Principal.fromUint8Array(canisterId).toText()) ?? this.runtimes[0];
  }

  /** Answers the waiting call a worker's result or error belongs to (the runtimes' and the query worker's alike). */
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
    for (const r of this.runtimes) {
      for (const p of r.pending.values()) p.reject(error);
      r.pending.clear();
    }
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
   * back to the runtimes' own queues (slower, never stale).
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
   * The workers keep the process alive only while a call is waiting for
   * them, like the in-thread runtime, whose timers do not hold the process
   * either. (A worker executing a call from another worker needs no ref:
   * the caller's worker holds the process while its call waits.)
   */
  private refreshRef(): void {
    for (const r of this.runtimes) {
      if (r.pending.size > 0) r.worker.ref();
      else r.worker.unref();
    }
    if (this.pendingQueries.size > 0) this.queryWorker?.ref();
    else this.queryWorker?.unref();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private sendQuery(query: ReplicaQuery): Promise<CallResult> {
    const w = this.queryWorker!;
    const id = this.nextId++;
    return this.track(
      new Promise<CallResult>((resolve, reject) => {
        this.pendingQueries.set(id, { resolve: resolve as (value: unknown) => void, reject });
        this.refreshRef();
        w.postMessage({ kind: 'query', id, query });
      }),
    );
  }

  private send<O extends Op, T>(to: Runtime, op: O, payload: Payload<O>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closing && op !== 'close') return Promise.reject(new LocalICError('the local IC is closed', 'Closed'));
    const id = this.nextId++;
    return this.track(
      new Promise<T>((resolve, reject) => {
        to.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        this.refreshRef();
        // Arguments are copied, not transferred: they belong to the caller, who
        // may still use them (the HTTP interface passes views into request bodies).
        to.worker.postMessage({ id, op, ...payload } as Request);
      }),
    );
  }

  /** The same request to every runtime (the clock); resolves when all are done, rejects with the first error. */
  private async broadcast<O extends Op>(op: O, payload: Payload<O>): Promise<void> {
    const results = await Promise.allSettled(this.runtimes.map((r) => this.send(r, op, payload)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private apply(state: StateDelta): void {
    if (state.now > this.now) this.now = state.now;
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
    if (this.dead) throw this.dead;
    if (this.closing) throw new LocalICError('the local IC is closed', 'Closed');
    const controllers = opts.controllers?.map((p) => p.toUint8Array());
    const wanted = opts.canisterId;
    if (wanted && this.owner.has(wanted.toText())) {
      // Its runtime refuses it with the in-thread runtime's error.
      const to = this.owner.get(wanted.toText())!;
      return Principal.fromUint8Array(await this.send<'createCanister', Uint8Array>(to, 'createCanister', { controllers, canisterId: wanted.toUint8Array() }));
    }
    const id = wanted ?? this.allocateId();
    const to = this.place(id);
    try {
      await this.send<'createCanister', Uint8Array>(to, 'createCanister', { controllers, canisterId: id.toUint8Array() });
    } catch (error) {
      if (this.owner.get(id.toText()) === to) {
        this.owner.delete(id.toText());
        to.canisters--;
      }
      throw error;
    }
    return id;
  }

  installCode(
    canisterId: Principal,
    wasm: Uint8Array,
    opts: { mode: 'install' | 'reinstall' | 'upgrade'; arg?: Uint8Array; sender?: Principal },
  ): Promise<void> {
    const id = canisterId.toUint8Array();
    return this.send(this.runtimeOf(id), 'installCode', {
      canisterId: id,
      wasm,
      mode: opts.mode,
      arg: opts.arg,
      sender: opts.sender?.toUint8Array(),
    });
  }

  update(canisterId: Principal, method: string, arg: Uint8Array, opts: { caller?: Principal } = {}): Promise<CallResult> {
    const id = canisterId.toUint8Array();
    return this.send(this.runtimeOf(id), 'update', { canisterId: id, method, arg, caller: opts.caller?.toUint8Array() });
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
    const id = canisterId.toUint8Array();
    return this.send(this.runtimeOf(id), 'query', {
      canisterId: id,
      method,
      arg,
      caller: opts.caller?.toUint8Array(),
      certificate: opts.certificate,
    });
  }

  setControllers(canisterId: Principal, controllers: Principal[]): Promise<void> {
    const id = canisterId.toUint8Array();
    return this.send(this.runtimeOf(id), 'setControllers', {
      canisterId: id,
      controllers: controllers.map((p) => p.toUint8Array()),
    });
  }

  canisterIds(): Principal[] {
    // In the order the in-thread runtime keeps: stored ones by id text, then by creation.
    const out: Principal[] = [];
    for (const id of this.owner.keys()) {
      const c = this.canisters.get(id);
      if (c) out.push(c.id);
    }
    return out;
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
    return this.broadcast('setTime', { ns });
  }

  advanceTime(ms: number): Promise<void> {
    return this.broadcast('advanceTime', { ms });
  }

  /**
   * Refuses new calls, lets every call made before finish (also those
   * waiting for another worker, so no worker closes under a call it
   * serves), closes every runtime (durably), then stops the workers.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      if (!this.dead) await Promise.allSettled(this.runtimes.map((r) => this.send(r, 'close', {})));
      for (const r of this.runtimes) {
        r.worker.removeAllListeners('exit');
        await r.worker.terminate();
      }
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
