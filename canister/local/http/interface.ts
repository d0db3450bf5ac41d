// The IC HTTP interface of the local IC, independent of any web framework:
// each endpoint takes the URL's effective canister id and the request body
// and returns status, body and content type. Behaviour follows the replica
// (and the interface specification) as far as `@dfinity/agent` can observe it.
import { createHash } from 'node:crypto';
import { hashOfMap, IC_RESPONSE_DOMAIN_SEPARATOR } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { concatBytes } from '@noble/hashes/utils';
import { authenticate, checkTarget, type Authenticated } from './authentication.js';
import { decodeCbor, encodeCbor } from './cbor.js';
import { CANISTER_RANGE_START, canisterIdFromIndex } from '../runtime/local-ic.js';
import { canisterRanges, certify, dataCertificate, stateTree, type StateSources } from './certified-state.js';
import { parseCallEnvelope, parseReadStateEnvelope, type CallContent, type Envelope } from './envelope.js';
import { HttpRejection } from './errors.js';
import type { IcKeys } from './keys.js';
import { RequestHistory, type RequestOutcome, type RequestRecord } from './request-status.js';
import type { CallResult, IcRuntime } from './runtime.js';

export interface IcHttpResponse {
  status: number;
  body: Uint8Array | string;
  contentType: 'application/cbor' | 'text/plain; charset=utf-8';
}

export interface IcHttpOptions {
  runtime: IcRuntime;
  keys: IcKeys;
  /** How long a v3 call waits for its outcome before answering 202 (the replica waits about 10 s). */
  syncCallTimeoutMs?: number;
  /** Largest ingress message (the whole signed request), as on an application subnet: 2 MiB. */
  maxIngressBytes?: number;
  /** Observes where time goes (bench). */
  onTiming?: (phase: TimingPhase, ms: number) => void;
}

export type TimingPhase = 'decode' | 'authenticate' | 'execute' | 'certify' | 'sign-node';

export const MAX_INGRESS_BYTES = 2 * 1024 * 1024;
export const IC_API_VERSION = '0.18.0';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const eq = (a: Uint8Array, s: string): boolean => Buffer.from(a).equals(Buffer.from(utf8(s)));
const cbor = (status: number, value: unknown): IcHttpResponse => ({ status, body: encodeCbor(value), contentType: 'application/cbor' });
const accepted = (): IcHttpResponse => ({ status: 202, body: new Uint8Array(), contentType: 'application/cbor' });

/**
 * A call the replica refuses before execution (its ingress filter: unknown
 * canister, no module): nothing is certified, the error comes in the body.
 * The synchronous endpoint marks it `non_replicated_rejection`; v2 sends the
 * bare reject, as the replica's `CborUserError` does.
 */
function nonReplicatedRejection(sync: boolean, reject: { rejectCode: number; rejectMessage: string; errorCode: string }): IcHttpResponse {
  const body = { error_code: reject.errorCode, reject_message: reject.rejectMessage, reject_code: reject.rejectCode };
  return cbor(200, sync ? { status: 'non_replicated_rejection', ...body } : body);
}

export interface Topology {
  subnet_configs: Record<
    string,
    {
      subnet_kind: 'Application';
      subnet_seed: number[];
      instruction_config: 'Production';
      canister_ranges: { start: { canister_id: string }; end: { canister_id: string } }[];
    }
  >;
  default_effective_canister_id: { canister_id: string };
}

function outcomeOf(r: CallResult): RequestOutcome {
  return r.status === 'replied'
    ? { status: 'replied', reply: r.reply }
    : { status: 'rejected', rejectCode: r.rejectCode, rejectMessage: r.rejectMessage, errorCode: r.errorCode };
}

export function parseEffectiveCanisterId(text: string): Principal {
  try {
    return Principal.fromText(text);
  } catch {
    throw new HttpRejection(400, `Could not parse effective canister id: ${text}`);
  }
}

export class IcHttpInterface {
  readonly history = new RequestHistory();
  readonly #runtime: IcRuntime;
  readonly #keys: IcKeys;
  readonly #src: StateSources;
  readonly #syncTimeoutMs: number;
  readonly #maxIngressBytes: number;
  readonly #onTiming?: (phase: TimingPhase, ms: number) => void;

  constructor(opts: IcHttpOptions) {
    this.#runtime = opts.runtime;
    this.#keys = opts.keys;
    this.#src = { runtime: opts.runtime, history: this.history, keys: opts.keys };
    this.#syncTimeoutMs = opts.syncCallTimeoutMs ?? 10_000;
    this.#maxIngressBytes = opts.maxIngressBytes ?? MAX_INGRESS_BYTES;
    this.#onTiming = opts.onTiming;
  }

  get keys(): IcKeys {
    return this.#keys;
  }

  #time<T>(phase: TimingPhase, f: () => T): T {
    if (!this.#onTiming) return f();
    const t = performance.now();
    try {
      return f();
    } finally {
      this.#onTiming(phase, performance.now() - t);
    }
  }

  /**
   * `GET /_/topology` as dfx's local network (PocketIC) answers it: the one
   * application subnet with its canister ranges, and the default effective
   * canister id tools use for calls that have no canister of their own (the
   * first id this subnet allocates). Ids are base64 of their bytes.
   */
  topology(): Topology {
    const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
    const subnet = this.#keys.subnetId;
    return {
      subnet_configs: {
        [subnet.toText()]: {
          subnet_kind: 'Application',
          subnet_seed: [...createHash('sha256').update(subnet.toUint8Array()).digest()],
          instruction_config: 'Production',
          canister_ranges: canisterRanges(this.#runtime).map(([start, end]) => ({
            start: { canister_id: b64(start) },
            end: { canister_id: b64(end) },
          })),
        },
      },
      default_effective_canister_id: { canister_id: b64(canisterIdFromIndex(CANISTER_RANGE_START).toUint8Array()) },
    };
  }

  status(): IcHttpResponse {
    return cbor(200, {
      ic_api_version: IC_API_VERSION,
      impl_version: 'forever-local-ic',
      replica_health_status: 'healthy',
      root_key: this.#keys.rootKeyDer,
    });
  }

  /** Answers an endpoint, turning refusals into the replica's plain-text answers. */
  async handle(kind: 'call-v3' | 'call-v2' | 'query' | 'read_state', effectiveCanisterId: string, body: Uint8Array): Promise<IcHttpResponse> {
    try {
      const ecid = parseEffectiveCanisterId(effectiveCanisterId);
      switch (kind) {
        case 'call-v3':
          return await this.#call(ecid, body, true);
        case 'call-v2':
          return await this.#call(ecid, body, false);
        case 'query':
          return await this.#query(ecid, body);
        case 'read_state':
          return this.#readState(ecid, body);
      }
    } catch (error) {
      if (error instanceof HttpRejection) return { status: error.status, body: error.message, contentType: 'text/plain; charset=utf-8' };
      throw error;
    }
  }

  #admit(ecid: Principal, body: Uint8Array, kind: 'call' | 'query'): { env: Envelope<CallContent>; canisterId: Principal; who: Authenticated } {
    const env = this.#time('decode', () => parseCallEnvelope(decodeCbor(body), kind));
    let canisterId: Principal;
    try {
      canisterId = Principal.fromUint8Array(env.content.canisterId);
    } catch {
      throw new HttpRejection(400, 'Could not parse body as request: invalid canister_id');
    }
    if (canisterId.toText() !== ecid.toText()) {
      throw new HttpRejection(400, `Specified CanisterId ${canisterId.toText()} does not match effective canister id in URL ${ecid.toText()}`);
    }
    const who = this.#time('authenticate', () =>
      authenticate({ ...env.content, kind, requestId: env.requestId, auth: env.auth }, this.#runtime.timeNs()),
    );
    checkTarget(who.targets, canisterId);
    return { env, canisterId, who };
  }

  #exists(canisterId: Principal): boolean {
    const t = canisterId.toText();
    return this.#runtime.canisterIds().some((c) => c.toText() === t);
  }

  async #call(ecid: Principal, body: Uint8Array, sync: boolean): Promise<IcHttpResponse> {
    if (body.length > this.#maxIngressBytes) {
      // The replica names the request; its id needs the decoded content.
      const rid = Buffer.from(parseCallEnvelope(decodeCbor(body), 'call').requestId).toString('hex');
      throw new HttpRejection(413, `Request ${rid} is too large. Message byte size ${body.length} is larger than the max allowed ${this.#maxIngressBytes}.`);
    }
    const { env, canisterId, who } = this.#admit(ecid, body, 'call');
    const now = this.#runtime.timeNs();
    this.history.prune(now);
    let record = this.history.get(env.requestId);
    if (!record) {
      // The replica's ingress filter (`should_accept_ingress_message`):
      // an unknown canister, then one without a module, is refused before
      // the message is inducted.
      if (!this.#exists(canisterId)) {
        return nonReplicatedRejection(sync, { rejectCode: 3, rejectMessage: `Canister ${canisterId.toText()} not found`, errorCode: 'IC0301' });
      }
      if (!this.#runtime.moduleHash(canisterId)) {
        return nonReplicatedRejection(sync, { rejectCode: 5, rejectMessage: 'Requested canister has no wasm module', errorCode: 'IC0537' });
      }
      const { content } = env;
      record = this.history.submit(
        { requestId: env.requestId, sender: who.sender, canisterId, ingressExpiry: content.ingressExpiry },
        async () => {
          const t = performance.now();
          const r = await this.#runtime.update(canisterId, content.methodName, content.arg, { caller: who.sender });
          this.#onTiming?.('execute', performance.now() - t);
          return outcomeOf(r);
        },
      ).record;
    }
    if (!sync) return accepted();
    const finished = await this.#within(record, this.#syncTimeoutMs);
    if (!finished) return accepted();
    const path = [utf8('request_status'), env.requestId];
    const certificate = this.#time('certify', () => certify(this.#keys, stateTree(this.#src, this.#runtime.timeNs()), [path]));
    return cbor(200, { status: 'replied', certificate });
  }

  async #within(record: RequestRecord, ms: number): Promise<boolean> {
    if (record.outcome) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([record.done.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #query(ecid: Principal, body: Uint8Array): Promise<IcHttpResponse> {
    const { env, canisterId, who } = this.#admit(ecid, body, 'query');
    let result: RequestOutcome;
    if (!this.#exists(canisterId)) {
      result = { status: 'rejected', rejectCode: 3, rejectMessage: `Canister ${canisterId.toText()} not found`, errorCode: 'IC0301' };
    } else {
      // Certified data reaches a query through ic0.data_certificate; only sign one when there is data to certify.
      const data = this.#runtime.certifiedData(canisterId);
      const certificate = data.length > 0 ? dataCertificate(this.#src, canisterId, this.#runtime.timeNs()) : undefined;
      const t = performance.now();
      const r = await this.#runtime.query(canisterId, env.content.methodName, env.content.arg, {
        caller: who.sender,
        ...(certificate ? { certificate } : {}),
      });
      this.#onTiming?.('execute', performance.now() - t);
      result = outcomeOf(r);
    }
    return this.#time('sign-node', () => this.#signedQueryResponse(env.requestId, result));
  }

  #signedQueryResponse(requestId: Uint8Array, result: RequestOutcome): IcHttpResponse {
    const timestamp = this.#runtime.timeNs();
    const fields: Record<string, unknown> =
      result.status === 'replied'
        ? { status: 'replied', reply: { arg: result.reply } }
        : { status: 'rejected', reject_code: result.rejectCode, reject_message: result.rejectMessage, error_code: result.errorCode };
    const hash = hashOfMap({ ...fields, timestamp, request_id: requestId });
    const signature = this.#keys.signNode(concatBytes(IC_RESPONSE_DOMAIN_SEPARATOR, hash));
    return cbor(200, { ...fields, signatures: [{ timestamp, signature, identity: this.#keys.nodeId.toUint8Array() }] });
  }

  #readState(ecid: Principal, body: Uint8Array): IcHttpResponse {
    const env = this.#time('decode', () => parseReadStateEnvelope(decodeCbor(body)));
    const who = this.#time('authenticate', () =>
      authenticate({ ...env.content, kind: 'read_state', requestId: env.requestId, auth: env.auth }, this.#runtime.timeNs()),
    );
    const { paths } = env.content;
    this.#verifyPaths(paths, who, ecid);
    const now = this.#runtime.timeNs();
    const certificate = this.#time('certify', () => certify(this.#keys, stateTree(this.#src, now), paths));
    return cbor(200, { certificate });
  }

  // Which paths a sender may read, as the replica's `verify_paths`.
  #verifyPaths(paths: Uint8Array[][], who: Authenticated, ecid: Principal): void {
    let requestId: string | undefined;
    const is = (l: Uint8Array | undefined, ...names: string[]): boolean => l !== undefined && names.some((n) => eq(l, n));
    const principal = (b: Uint8Array): Principal => {
      try {
        return Principal.fromUint8Array(b);
      } catch (error) {
        throw new HttpRejection(400, `Could not parse principal ID: ${(error as Error).message}.`);
      }
    };
    const sameAsUrl = (id: Principal): void => {
      if (id.toText() !== ecid.toText()) {
        throw new HttpRejection(400, `Effective principal id in URL ${ecid.toText()} does not match requested principal id: ${id.toText()}.`);
      }
    };
    for (const p of paths) {
      const [a, b, c, d, e] = p;
      const n = p.length;
      if (n === 1 && is(a, 'time')) continue;
      if (n === 3 && is(a, 'canister') && is(c, 'controllers', 'module_hash')) {
        sameAsUrl(principal(b));
        continue;
      }
      if (n === 4 && is(a, 'canister') && is(c, 'metadata')) {
        let name: string;
        try {
          name = new TextDecoder('utf-8', { fatal: true }).decode(d);
        } catch {
          throw new HttpRejection(400, 'Could not parse the custom section name: invalid utf-8 sequence.');
        }
        const id = principal(b);
        sameAsUrl(id);
        // The replica's `can_read_canister_metadata`: a private section is for controllers.
        if (this.#exists(id) && this.#runtime.isPrivateMetadata(id, name) && !this.#runtime.controllers(id).some((p) => p.toText() === who.sender.toText())) {
          throw new HttpRejection(403, `Custom section ${name.slice(0, 100)} can only be requested by the controllers of the canister.`);
        }
        continue;
      }
      if (is(a, 'api_boundary_nodes') && (n <= 2 || (n === 3 && is(c, 'domain', 'ipv4_address', 'ipv6_address')))) continue;
      if (
        is(a, 'subnet') &&
        (n <= 2 || (n === 3 && is(c, 'public_key', 'canister_ranges', 'node')) || (n === 4 && is(c, 'node')) || (n === 5 && is(c, 'node') && is(e, 'public_key')))
      ) {
        continue;
      }
      if (is(a, 'request_status') && (n === 2 || (n === 3 && is(c, 'status', 'reply', 'reject_code', 'reject_message', 'error_code')))) {
        if (b.length !== 32) throw new HttpRejection(400, 'Request IDs must be 32 bytes in length.');
        const rid = Buffer.from(b).toString('hex');
        if (requestId !== undefined && requestId !== rid) {
          throw new HttpRejection(400, 'Can only request a single request ID in request_status paths.');
        }
        requestId = rid;
        const record = this.history.get(b);
        if (record) {
          if (record.sender.toText() !== who.sender.toText()) throw new HttpRejection(403, 'Request IDs must be for requests signed by the caller.');
          if (who.targets !== 'all' && !who.targets.has(Buffer.from(record.canisterId.toUint8Array()).toString('hex'))) {
            throw new HttpRejection(403, 'Request IDs must be for requests to canisters belonging to sender delegation targets.');
          }
        }
        continue;
      }
      throw new HttpRejection(404, 'Invalid path requested.');
    }
  }
}
