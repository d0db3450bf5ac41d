// Parses a decoded request envelope into typed contents, refusing anything
// malformed with a 400 the way the replica does. The request id is the
// representation-independent hash of the content exactly as sent (unknown
// fields included; request-id.ts). Pure.
import { requestIdOf } from './request-id.js';
import { HttpRejection } from './errors.js';

export interface SignedDelegationWire {
  delegation: { pubkey: Uint8Array; expiration: bigint; targets?: Uint8Array[] };
  /** The delegation map exactly as sent, for its hash. */
  delegationMap: Record<string, unknown>;
  signature: Uint8Array;
}

export interface Authentication {
  senderPubkey?: Uint8Array;
  senderSig?: Uint8Array;
  senderDelegation?: SignedDelegationWire[];
}

interface CommonContent {
  sender: Uint8Array;
  ingressExpiry: bigint;
  nonce?: Uint8Array;
}

export interface CallContent extends CommonContent {
  requestType: 'call' | 'query';
  canisterId: Uint8Array;
  methodName: string;
  arg: Uint8Array;
}

export interface ReadStateContent extends CommonContent {
  requestType: 'read_state';
  paths: Uint8Array[][];
}

export interface Envelope<C> {
  content: C;
  requestId: Uint8Array;
  auth: Authentication;
}

/** Largest nonce the IC accepts. */
export const MAX_NONCE_BYTES = 32;
/** Read-state limits of the IC. */
export const MAX_READ_STATE_PATHS = 1000;
export const MAX_PATH_LABELS = 127;

const bad = (message: string): never => {
  throw new HttpRejection(400, message);
};

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

function bytes(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return bad(`Could not parse body as request: invalid type for field ${field}: expected a byte string`);
}

function text(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  return bad(`Could not parse body as request: invalid type for field ${field}: expected a text string`);
}

function nat64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return bad(`Could not parse body as request: invalid type for field ${field}: expected an unsigned 64-bit integer`);
}

function optional<T>(v: unknown, f: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : f(v);
}

function parseDelegations(v: unknown): SignedDelegationWire[] {
  if (!Array.isArray(v)) return bad('Could not parse body as request: sender_delegation must be an array');
  return v.map((sd, i): SignedDelegationWire => {
    if (!isMap(sd) || !isMap(sd.delegation)) return bad(`Could not parse body as request: sender_delegation[${i}] is malformed`);
    const d = sd.delegation;
    const targets = optional(d.targets, (t) => {
      if (!Array.isArray(t)) return bad(`Could not parse body as request: sender_delegation[${i}].targets must be an array`);
      return t.map((x) => bytes(x, 'targets'));
    });
    return {
      delegation: { pubkey: bytes(d.pubkey, 'pubkey'), expiration: nat64(d.expiration, 'expiration'), ...(targets ? { targets } : {}) },
      delegationMap: d,
      signature: bytes(sd.signature, 'signature'),
    };
  });
}

function parseCommon(c: Record<string, unknown>): CommonContent {
  const nonce = optional(c.nonce, (n) => bytes(n, 'nonce'));
  if (nonce && nonce.length > MAX_NONCE_BYTES) {
    bad(`Nonce in request is too big: got ${nonce.length} bytes, but at most ${MAX_NONCE_BYTES} are allowed.`);
  }
  return {
    sender: bytes(c.sender, 'sender'),
    ingressExpiry: nat64(c.ingress_expiry, 'ingress_expiry'),
    ...(nonce ? { nonce } : {}),
  };
}

// Unknown fields count in the request id too; a value that cannot be hashed
// (a float, null, a boolean) makes the request malformed.
function requestId(c: Record<string, unknown>): Uint8Array {
  try {
    return requestIdOf(c);
  } catch {
    return bad('Could not parse body as request: content contains a value that has no representation-independent hash');
  }
}

function parseEnvelope(decoded: unknown): { content: Record<string, unknown>; auth: Authentication } {
  if (!isMap(decoded) || !isMap(decoded.content)) return bad('Could not parse body as request: missing field `content`');
  return {
    content: decoded.content,
    auth: {
      senderPubkey: optional(decoded.sender_pubkey, (v) => bytes(v, 'sender_pubkey')),
      senderSig: optional(decoded.sender_sig, (v) => bytes(v, 'sender_sig')),
      senderDelegation: optional(decoded.sender_delegation, parseDelegations),
    },
  };
}

/** A `call` (update) or `query` envelope. */
export function parseCallEnvelope(decoded: unknown, expected: 'call' | 'query'): Envelope<CallContent> {
  const { content: c, auth } = parseEnvelope(decoded);
  if (c.request_type !== expected) {
    bad(`Could not parse body as ${expected} request: request_type is ${JSON.stringify(c.request_type)}, expected "${expected}"`);
  }
  const content: CallContent = {
    requestType: expected,
    canisterId: bytes(c.canister_id, 'canister_id'),
    methodName: text(c.method_name, 'method_name'),
    arg: bytes(c.arg, 'arg'),
    ...parseCommon(c),
  };
  return { content, auth, requestId: requestId(c) };
}

export function parseReadStateEnvelope(decoded: unknown): Envelope<ReadStateContent> {
  const { content: c, auth } = parseEnvelope(decoded);
  if (c.request_type !== 'read_state') {
    bad(`Could not parse body as read_state request: request_type is ${JSON.stringify(c.request_type)}, expected "read_state"`);
  }
  if (!Array.isArray(c.paths)) return bad('Could not parse body as read_state request: paths must be an array');
  if (c.paths.length > MAX_READ_STATE_PATHS) {
    bad(`Too many paths in read state request: got ${c.paths.length} paths, but at most ${MAX_READ_STATE_PATHS} are allowed.`);
  }
  const paths = c.paths.map((p) => {
    if (!Array.isArray(p)) return bad('Could not parse body as read_state request: a path must be an array of labels');
    if (p.length > MAX_PATH_LABELS) {
      bad(`At least one path in read state request is too deep: got ${p.length} labels, but at most ${MAX_PATH_LABELS} are allowed.`);
    }
    return p.map((l) => bytes(l, 'paths'));
  });
  const content: ReadStateContent = { requestType: 'read_state', paths, ...parseCommon(c) };
  return { content, auth, requestId: requestId(c) };
}
