// One runtime thread of the threaded local IC: owns a `LocalIC`
// (runtime/local-ic.ts) holding the canisters the host placed here, and
// executes the host's requests on it in the order they arrive (each is queued
// on the runtime's serial chain as it arrives, so per-canister order is the
// caller's). Calls to canisters of other runtimes go out through the host and
// come back as `peer` messages. After every task it publishes the canister
// state the host mirrors for its synchronous getters; `debug_print` lines go
// to the host's logger. Started by worker-entry.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { Principal } from '@dfinity/principal';
import { LocalIC, type CallResult, type Peers } from '../runtime/local-ic.js';
import type { Outcome } from '../runtime/management-canister.js';
import { transferablesOf } from '../runtime/query-replica.js';
import {
  ownedBuffer,
  serializeError,
  type CanisterState,
  type PeerMessage,
  type ReplyTo,
  type Request,
  type StateDelta,
  type WorkerInit,
  type WorkerMessage,
} from './protocol.js';

const port = parentPort;
if (!port) throw new Error('canister/local/thread/worker.ts runs only as a worker thread');
const { options, replicas, canisters } = workerData as WorkerInit;

// With query replicas this thread executes updates only; it keeps the
// process's priority. Lowering it (nice 10) kept queries fast on an
// oversubscribed machine but cut uploads there to a fifth or less, since the
// nice value ranks the thread against every process, not just the query thread.

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('hex') : '-');
const principal = (bytes: Uint8Array): Principal => Principal.fromUint8Array(bytes);

/** Per canister, the fields last published, so only changes are sent. */
const published = new Map<string, { key: string; moduleHash: string }>();
let publishedNow = -1n;

function collectState(ic: LocalIC, force: boolean): StateDelta | undefined {
  const canisters: CanisterState[] = [];
  for (const id of ic.canisterIds()) {
    const text = id.toText();
    const controllers = ic.controllers(id);
    const moduleHash = ic.moduleHash(id);
    const certifiedData = ic.certifiedData(id);
    const hashHex = hex(moduleHash);
    const key = `${controllers.map((c) => c.toText()).join(',')}|${hashHex}|${hex(certifiedData)}`;
    const before = published.get(text);
    if (before?.key === key && !force) continue;
    const state: CanisterState = {
      id: id.toUint8Array(),
      controllers: controllers.map((c) => c.toUint8Array()),
      moduleHash,
      certifiedData,
    };
    if (!before || before.moduleHash !== hashHex || force) {
      state.metadata = ic.metadataEntries(id);
      state.privateMetadata = ic.privateMetadataNames(id);
    }
    published.set(text, { key, moduleHash: hashHex });
    canisters.push(state);
  }
  const now = ic.timeNs();
  // With the system clock the host reads the wall clock itself; only a
  // manual clock's moves need publishing.
  const clockMoved = options.clock === 'manual' && now !== publishedNow;
  publishedNow = now;
  if (!force && canisters.length === 0 && !clockMoved) return undefined;
  return { now, canisters };
}

const outcomeBuffers = (o: Outcome): ArrayBuffer[] => {
  const b = o.kind === 'reply' ? ownedBuffer(o.data) : undefined;
  return b ? [b] : [];
};
const peer = (message: PeerMessage, transfer: ArrayBuffer[] = []): void => post({ kind: 'peer', message }, transfer);
const peers: Peers = {
  send: (token, from, call) => {
    // The argument is the runtime's own copy out of Wasm memory: move it.
    const arg = ownedBuffer(call.arg);
    peer({ peer: 'call', token, from, call }, arg ? [arg] : []);
  },
  reply: (replyTo, outcome) => peer({ peer: 'reply', replyTo: replyTo as ReplyTo, outcome }, outcomeBuffers(outcome)),
};

let ic: LocalIC;
try {
  ic = await LocalIC.create(
    {
      ...options,
      log: (canisterId, line) => post({ kind: 'log', canisterId, line }),
    },
    { peers, canisters },
  );
} catch (error) {
  post({ kind: 'failed', error: serializeError(error) });
  port.close();
  throw error;
}
ic.observeTasks(() => {
  if (replicas) {
    const deltas = ic.takeReplicaDeltas();
    if (deltas.length > 0) post({ kind: 'replica', deltas }, transferablesOf(deltas));
  }
  const state = collectState(ic, false);
  if (state) post({ kind: 'state', state });
});

type Answer = CallResult | Uint8Array | undefined;
const done = (): Answer => undefined;

function run(req: Request): Promise<Answer> {
  switch (req.op) {
    case 'createCanister':
      return ic
        .createCanister({ controllers: req.controllers?.map(principal), canisterId: req.canisterId && principal(req.canisterId) })
        .then((id) => id.toUint8Array());
    case 'installCode':
      return ic.installCode(principal(req.canisterId), req.wasm, {
        mode: req.mode,
        arg: req.arg,
        sender: req.sender && principal(req.sender),
      }).then(done);
    case 'update':
      return ic.update(principal(req.canisterId), req.method, req.arg, { caller: req.caller && principal(req.caller) });
    case 'query':
      return ic.query(principal(req.canisterId), req.method, req.arg, {
        caller: req.caller && principal(req.caller),
        certificate: req.certificate,
      });
    case 'setControllers':
      return ic.setControllers(principal(req.canisterId), req.controllers.map(principal)).then(done);
    case 'setTime':
      return ic.setTime(req.ns).then(done);
    case 'advanceTime':
      return ic.advanceTime(req.ms).then(done);
    case 'close':
      return ic.close().then(done);
  }
}

port.on('message', (req: Request | PeerMessage) => {
  if ('peer' in req) {
    if (req.peer === 'accept') ic.acceptRemote(req.from, req.call, req.replyTo, req.assignId);
    else if (req.peer === 'outcome') ic.deliverRemote(req.token, req.outcome);
    return;
  }
  let pending: Promise<Answer>;
  try {
    pending = run(req);
  } catch (error) {
    // Synchronous throws (a malformed principal) answer like rejections.
    pending = Promise.reject(error);
  }
  pending.then(
    (value) => {
      // A reply is the runtime's own copy out of Wasm memory: move it, do not copy it.
      const reply = value && 'status' in value && value.status === 'replied' ? ownedBuffer(value.reply) : undefined;
      post({ kind: 'result', id: req.id, value }, reply ? [reply] : []);
      if (req.op === 'close') port.close();
    },
    (error: unknown) => post({ kind: 'error', id: req.id, error: serializeError(error) }),
  );
});

// The query thread starts from everything the runtime recovered.
if (replicas) {
  const deltas = ic.takeReplicaDeltas();
  if (deltas.length > 0) post({ kind: 'replica', deltas }, transferablesOf(deltas));
}
post({ kind: 'ready', state: collectState(ic, true)! });
