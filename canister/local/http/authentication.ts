// Request validation as the replica does it (ingress_validation.rs): ingress
// expiry window, sender principal against its public key, delegation chain
// (signatures, expiry, targets), sender signature, anonymous requests.
// Failures carry the replica's status (400) and wording (rs/validator,
// ingress_validation.rs). Pure: time comes in.
import { hashOfMap, IC_REQUEST_AUTH_DELEGATION_DOMAIN_SEPARATOR, IC_REQUEST_DOMAIN_SEPARATOR } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { concatBytes } from '@noble/hashes/utils';
import type { Authentication } from './envelope.js';
import { HttpRejection } from './errors.js';
import { parsePublicKey, PublicKeyError, verifyBasicSignature, type UserPublicKey } from './public-key.js';

/** How far ahead of the IC's clock an ingress expiry may be (IC: 5 min TTL + 30 s drift). */
export const MAX_INGRESS_TTL_NS = 5n * 60n * 1_000_000_000n;
export const PERMITTED_DRIFT_NS = 30n * 1_000_000_000n;
/** The IC's limits on delegation chains. */
export const MAX_DELEGATIONS = 20;
export const MAX_DELEGATION_TARGETS = 1000;

/** Canisters a request may act on: all, or the intersection of the chain's targets (hex ids). */
export type Targets = 'all' | ReadonlySet<string>;

export interface Authenticated {
  sender: Principal;
  targets: Targets;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The replica's `Time` display: `2024-05-01 12:00:00.123456789 UTC`. */
export function formatIcTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-05-01T12:00:00.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac} UTC`;
}

export function checkIngressExpiry(expiry: bigint, nowNs: bigint): void {
  const min = nowNs;
  const max = nowNs + MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS;
  if (expiry < min || expiry > max) {
    throw new HttpRejection(
      400,
      `Invalid request expiry: Specified ingress_expiry not within expected range: Minimum allowed expiry: ${formatIcTime(min)}, ` +
        `Maximum allowed expiry: ${formatIcTime(max)}, Provided expiry:        ${formatIcTime(expiry)}`,
    );
  }
}

// Every validation failure is a 400 with the error's text, as in the replica's
// `validation_error_to_http_error`.
const refuse = (message: string): never => {
  throw new HttpRejection(400, message);
};

/**
 * Validates expiry, sender and signatures of a request whose id is
 * `requestId`; returns the sender and the canisters it may target. The
 * replica skips the expiry check for anonymous queries and read_state
 * requests (agents sync their clock with anonymous read_state).
 */
export function authenticate(
  req: { kind: 'call' | 'query' | 'read_state'; sender: Uint8Array; ingressExpiry: bigint; requestId: Uint8Array; auth: Authentication },
  nowNs: bigint,
): Authenticated {
  let sender: Principal;
  try {
    sender = Principal.fromUint8Array(req.sender);
  } catch {
    throw new HttpRejection(400, 'Malformed request: invalid sender principal');
  }
  if (req.kind === 'call' || !sender.isAnonymous()) checkIngressExpiry(req.ingressExpiry, nowNs);
  const { senderPubkey, senderSig, senderDelegation } = req.auth;
  if (senderPubkey === undefined || senderSig === undefined) {
    if (senderDelegation !== undefined) refuse('Malformed request: sender_delegation without sender_sig and sender_pubkey');
    if (sender.isAnonymous()) return { sender, targets: 'all' };
    return refuse(`Missing signature from user: ${sender.toText()}`);
  }
  if (sender.isAnonymous()) refuse('Signature is not allowed for the anonymous user.');
  if (sender.toText() !== Principal.selfAuthenticating(senderPubkey).toText()) {
    refuse(`The user id '${sender.toText()}' does not match the public key '${hex(senderPubkey)}'`);
  }

  const delegations = senderDelegation ?? [];
  if (delegations.length > MAX_DELEGATIONS) {
    refuse(`Invalid delegation: Chain of delegations is too long: got ${delegations.length} delegations, but at most ${MAX_DELEGATIONS} are allowed.`);
  }
  for (const { delegation } of delegations) {
    if (delegation.expiration < nowNs) {
      refuse(
        'Invalid delegation expiry: Specified sender delegation has expired:\n' +
          `Provided expiry:    ${formatIcTime(delegation.expiration)}\n` +
          `Local replica time: ${formatIcTime(nowNs)}`,
      );
    }
  }
  const seen = new Set<string>([hex(senderPubkey)]);
  for (const { delegation } of delegations) {
    const k = hex(delegation.pubkey);
    if (seen.has(k)) refuse(`Invalid delegation: Chain of delegations contains at least one cycle: first repeating public key encountered ${k}`);
    seen.add(k);
    if (delegation.targets && delegation.targets.length > MAX_DELEGATION_TARGETS) {
      refuse(
        `Invalid delegation: Delegation target error: expected at most ${MAX_DELEGATION_TARGETS} targets per delegation, but got ${delegation.targets.length}`,
      );
    }
  }

  let key = senderPubkey;
  let targets = 'all' as Targets;
  for (const { delegation, delegationMap, signature } of delegations) {
    const signer = publicKey(key, 'Invalid delegation');
    try {
      verifyBasicSignature(signer, concatBytes(IC_REQUEST_AUTH_DELEGATION_DOMAIN_SEPARATOR, hashOfMap(delegationMap)), signature);
    } catch (error) {
      refuse(`Invalid delegation: ${(error as Error).message}`);
    }
    if (delegation.targets) {
      const mine = new Set(delegation.targets.map(hex));
      targets = targets === 'all' ? mine : new Set([...targets].filter((t: string) => mine.has(t)));
    }
    key = delegation.pubkey;
  }

  const signer = publicKey(key, 'Invalid signature');
  try {
    verifyBasicSignature(signer, concatBytes(IC_REQUEST_DOMAIN_SEPARATOR, req.requestId), senderSig);
  } catch (error) {
    refuse(`Invalid signature: ${(error as Error).message}`);
  }
  return { sender, targets };
}

function publicKey(der: Uint8Array, context: string): UserPublicKey {
  try {
    return parsePublicKey(der);
  } catch (error) {
    if (error instanceof PublicKeyError) return refuse(`${context}: ${error.message}`);
    throw error;
  }
}

/** Refuses a request whose delegation targets do not include `canisterId`. */
export function checkTarget(targets: Targets, canisterId: Principal): void {
  if (targets !== 'all' && !targets.has(hex(canisterId.toUint8Array()))) {
    refuse(`Canister '${canisterId.toText()}' is not one of the delegation targets.`);
  }
}
