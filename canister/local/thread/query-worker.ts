// The query thread of the threaded local IC: holds a query replica of every
// canister (runtime/query-replica.ts), applies the deltas the host forwards
// from the runtime's thread in the order they were committed, and executes
// queries against them, so a query is answered while the runtime's thread
// executes an update. Started by query-worker-entry.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { QueryReplicas, type ReplicaDelta, type ReplicaQuery } from '../runtime/query-replica.js';
import { ownedBuffer, serializeError, type QueryWorkerInit, type QueryWorkerMessage } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('canister/local/thread/query-worker.ts runs only as a worker thread');
const init = workerData as QueryWorkerInit;

const post = (message: QueryWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const replicas = new QueryReplicas({
  metering: init.metering,
  queryLimit: init.queryLimit,
  cacheDir: init.cacheDir,
  log: (canisterId, line) => post({ kind: 'log', canisterId, line }),
});

type Incoming = { kind: 'apply'; deltas: ReplicaDelta[] } | { kind: 'query'; id: number; query: ReplicaQuery };

port.on('message', (m: Incoming) => {
  if (m.kind === 'apply') {
    try {
      replicas.apply(m.deltas);
    } catch (error) {
      // A replica that cannot follow its canister must not answer stale: fail loudly.
      post({ kind: 'failed', error: serializeError(error) });
    }
    return;
  }
  try {
    const value = replicas.query(m.query);
    const reply = value.status === 'replied' ? ownedBuffer(value.reply) : undefined;
    post({ kind: 'result', id: m.id, value }, reply ? [reply] : []);
  } catch (error) {
    post({ kind: 'error', id: m.id, error: serializeError(error) });
  }
});

post({ kind: 'ready' });
