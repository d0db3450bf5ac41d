// The ingress history: every update call by request id, so a request
// submitted twice (clients retry) runs once and both submissions see the same
// outcome, and `read_state` can report `request_status`. A record is kept
// until its ingress expiry has passed; after that the IC refuses the request
// anyway (its expiry is in the past), so no duplicate can slip through.
import type { Principal } from '@dfinity/principal';

export type RequestOutcome =
  | { status: 'replied'; reply: Uint8Array }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string };

export interface RequestRecord {
  requestId: Uint8Array;
  sender: Principal;
  canisterId: Principal;
  ingressExpiry: bigint;
  /** Set once execution finished. */
  outcome?: RequestOutcome;
  /** Resolves with the outcome (never rejects). */
  done: Promise<RequestOutcome>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class RequestHistory {
  readonly #records = new Map<string, RequestRecord>();
  #version = 0;

  /** Changes whenever a record is added, finishes or is forgotten (the certified tree caches on it). */
  get version(): number {
    return this.#version;
  }

  /** Every record, in no particular order. */
  records(): IterableIterator<RequestRecord> {
    return this.#records.values();
  }

  get(requestId: Uint8Array): RequestRecord | undefined {
    return this.#records.get(hex(requestId));
  }

  get size(): number {
    return this.#records.size;
  }

  /**
   * The record of `requestId`, executing `run` only if this id was never
   * submitted. `isNew` tells the caller whether this submission started it.
   */
  submit(
    meta: Omit<RequestRecord, 'outcome' | 'done'>,
    run: () => Promise<RequestOutcome>,
  ): { record: RequestRecord; isNew: boolean } {
    const key = hex(meta.requestId);
    const existing = this.#records.get(key);
    if (existing) return { record: existing, isNew: false };
    const record: RequestRecord = { ...meta, done: Promise.resolve(undefined as never) };
    record.done = run()
      .catch((error: unknown): RequestOutcome => ({
        // The runtime answers traps and rejects as results; a throw is a local IC fault.
        status: 'rejected',
        rejectCode: 5,
        rejectMessage: `Local IC error while executing the message: ${error instanceof Error ? error.message : String(error)}`,
        errorCode: 'IC0500',
      }))
      .then((outcome) => {
        record.outcome = outcome;
        this.#version++;
        return outcome;
      });
    this.#records.set(key, record);
    this.#version++;
    return { record, isNew: true };
  }

  /** Forgets records whose ingress expiry is before `nowNs` and that finished. */
  prune(nowNs: bigint): void {
    for (const [k, r] of this.#records) {
      if (r.ingressExpiry < nowNs && r.outcome) {
        this.#records.delete(k);
        this.#version++;
      }
    }
  }
}
