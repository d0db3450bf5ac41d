// Query replicas: on the IC a query runs against the latest committed state
// of its canister while updates execute; here the runtime's thread is busy
// for the whole of an update (a 1 MiB put_chunk runs most of a second), so a
// query waiting for it would wait as long. A replica is a second instance of
// each canister on another thread, following the committed state: after
// every task the runtime hands over what committed messages changed (heap
// pages, stable memory blocks, module, controllers, status) and the replica
// copies it in. A query then executes on the replica, with the same rules and
// rejects as on the runtime (local-ic.ts `query`), and is rolled back there.
//
// `collectReplicaDelta` runs on the runtime's side, `QueryReplicas` on the
// replica's; both are pure (the deltas travel between threads as data).
import { Principal } from '@dfinity/principal';
import { Canister } from './canister.js';
import { rejects, type Reject } from './errors.js';
import type { HeapDelta } from './heap-snapshot.js';
import { loadModule, type LoadedModule } from './module.js';
import { newMessage } from './message.js';
import { StableMemory } from './stable-memory.js';

export interface ReplicaDelta {
  id: Uint8Array;
  /** Present when the module changed: its bytes (undefined = the canister is empty). */
  module?: { wasm: Uint8Array | undefined };
  heap?: HeapDelta;
  stable?: { full: boolean; sizePages: number; blocks: [number, Uint8Array][] };
  controllers: Uint8Array[];
  version: bigint;
  status: Canister['status'];
  broken: Reject | undefined;
}

/** What the runtime last handed over for a canister. */
export interface Published {
  moduleHash: string | null;
  meta: string;
}

/** The replica delta of `c` since `last` (updated), or undefined when nothing changed. */
export function collectReplicaDelta(c: Canister, last: Map<string, Published>): ReplicaDelta | undefined {
  const before = last.get(c.idText);
  const moduleHash = c.module?.hashHex ?? null;
  const meta = `${c.controllers.map((p) => p.toText()).join(',')}|${c.version}|${c.status}|${c.broken?.rejectMessage ?? ''}`;
  const moduleChanged = !before || before.moduleHash !== moduleHash;
  const heap = c.takeHeapDelta();
  const stable = c.stable.takeDelta();
  if (!moduleChanged && !heap && !stable && before.meta === meta) return undefined;
  last.set(c.idText, { moduleHash, meta });
  const delta: ReplicaDelta = {
    id: c.idBytes,
    controllers: c.controllers.map((p) => p.toUint8Array()),
    version: c.version,
    status: c.status,
    broken: c.broken,
  };
  if (moduleChanged) delta.module = { wasm: c.module?.raw };
  if (heap) delta.heap = heap;
  if (stable) delta.stable = stable;
  return delta;
}

/** The buffers of a delta that can move to the other thread instead of being copied. */
export function transferablesOf(deltas: ReplicaDelta[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const d of deltas) {
    for (const [, page] of d.heap?.pages ?? []) if (page.buffer instanceof ArrayBuffer) out.add(page.buffer);
    for (const [, block] of d.stable?.blocks ?? []) if (block.buffer instanceof ArrayBuffer) out.add(block.buffer);
  }
  return [...out];
}

export interface ReplicaQuery {
  canisterId: Uint8Array;
  method: string;
  arg: Uint8Array;
  caller?: Uint8Array;
  certificate?: Uint8Array;
  /** The IC's time for the query (the runtime's clock as the caller sees it). */
  time: bigint;
}

export type ReplicaResult =
  | { status: 'replied'; reply: Uint8Array; instructions: bigint }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string; instructions: bigint };

const MAX_INGRESS_BYTES = 2 * 1024 * 1024;

export class QueryReplicas {
  private readonly canisters = new Map<string, Canister>();
  private readonly modules = new Map<string, LoadedModule>();

  constructor(
    private readonly opts: {
      metering: boolean;
      queryLimit: bigint;
      cacheDir?: string;
      log: (canisterId: string, line: string) => void;
    },
  ) {}

  apply(deltas: ReplicaDelta[]): void {
    for (const d of deltas) this.applyOne(d);
  }

  private applyOne(d: ReplicaDelta): void {
    const id = Principal.fromUint8Array(d.id);
    const text = id.toText();
    let c = this.canisters.get(text);
    if (!c) {
      c = new Canister(id, [], { log: (canister, line) => this.opts.log(canister.idText, line) });
      this.canisters.set(text, c);
    }
    c.controllers = d.controllers.map((p) => Principal.fromUint8Array(p));
    c.version = d.version;
    c.status = d.status;
    c.broken = d.broken;
    if (d.module) {
      if (d.module.wasm) {
        const m = loadModule(d.module.wasm, { metering: this.opts.metering, cacheDir: this.opts.cacheDir });
        this.modules.set(text, m);
        c.freshInstance(m);
      } else {
        this.modules.delete(text);
        c.clearInstance();
      }
    }
    if (d.stable) {
      if (d.stable.full) c.stable = new StableMemory();
      for (const [index, data] of d.stable.blocks) c.stable.restoreBlock(index, data);
      c.stable.restoreSize(d.stable.sizePages);
    }
    const module = this.modules.get(text);
    if (d.heap && module) c.loadHeapDelta(module, d.heap);
  }

  /** Executes a query on the replica: the runtime's rules, effects always rolled back. */
  query(q: ReplicaQuery): ReplicaResult {
    const rejected = (reject: Reject, instructions = 0n): ReplicaResult => ({ status: 'rejected', ...reject, instructions });
    if (q.arg.length > MAX_INGRESS_BYTES) return rejected(rejects.payloadTooLarge(q.arg.length, MAX_INGRESS_BYTES));
    const id = Principal.fromUint8Array(q.canisterId).toText();
    const c = this.canisters.get(id);
    if (!c) return rejected(rejects.canisterNotFound(id));
    if (!c.hasModule) return rejected(rejects.noModule(id));
    if (c.broken) return rejected(c.broken);
    if (c.status !== 'running') {
      return rejected(c.status === 'stopped' ? rejects.canisterStopped(id) : rejects.canisterStopping(id));
    }
    let entry = `canister_query ${q.method}`;
    if (!c.exports(entry)) {
      entry = `canister_composite_query ${q.method}`;
      if (!c.exports(entry)) return rejected(rejects.methodNotFound(id, 'query', q.method));
    }
    const msg = newMessage({
      kind: 'query',
      method: q.method,
      arg: q.arg,
      caller: q.caller ?? Principal.anonymous().toUint8Array(),
      time: q.time,
      limit: this.opts.queryLimit,
      certificate: q.certificate,
    });
    const res = c.execute(msg, entry, 'discard');
    if (res.error) return rejected(res.error, res.instructions);
    const response = res.response;
    if (!response) return rejected(rejects.didNotReply(id), res.instructions);
    if (response.kind === 'reply') return { status: 'replied', reply: response.data, instructions: res.instructions };
    return rejected(rejects.explicit(response.message), res.instructions);
  }
}
