// Keys of the development identity provider, like Internet Identity's:
// one identity (anchor) has a different principal per frontend origin, and
// the same principal every time for that origin. The per-origin key is an
// Ed25519 key derived from the identity's secret and the origin; its
// self-authenticating principal is the user's principal there. Pure.
import { hashOfMap, IC_REQUEST_AUTH_DELEGATION_DOMAIN_SEPARATOR } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { ed25519 } from '@noble/curves/ed25519';
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { concatBytes, hexToBytes } from '@noble/hashes/utils';

const ED25519_DER_PREFIX = hexToBytes('302a300506032b6570032100');

export interface UserKey {
  /** DER of the Ed25519 public key: the `userPublicKey` II hands out. */
  publicKeyDer: Uint8Array;
  principal: Principal;
  sign(message: Uint8Array): Uint8Array;
}

/** The key of `secret`'s identity for frontends of `origin` (scheme://host[:port]). */
export function deriveUserKey(secret: Uint8Array, origin: string): UserKey {
  const seed = hmac(sha256, secret, new TextEncoder().encode(`forever-dev-ii/v1\0${origin}`));
  const publicKeyDer = concatBytes(ED25519_DER_PREFIX, ed25519.getPublicKey(seed));
  return {
    publicKeyDer,
    principal: Principal.selfAuthenticating(publicKeyDer),
    sign: (message) => ed25519.sign(message, seed),
  };
}

export interface SignedDelegation {
  delegation: { pubkey: Uint8Array; expiration: bigint; targets?: Principal[] };
  signature: Uint8Array;
}

/** A delegation from `userKey` to `sessionPublicKey` (DER), signed as the IC verifies it. */
export function delegate(userKey: UserKey, sessionPublicKey: Uint8Array, expirationNs: bigint, targets?: Principal[]): SignedDelegation {
  const delegation = { pubkey: sessionPublicKey, expiration: expirationNs, ...(targets ? { targets } : {}) };
  const hash = hashOfMap({ ...delegation, ...(targets ? { targets: targets.map((t) => t.toUint8Array()) } : {}) });
  return { delegation, signature: userKey.sign(concatBytes(IC_REQUEST_AUTH_DELEGATION_DOMAIN_SEPARATOR, hash)) };
}

/** II's limits on a delegation's lifetime: 30 minutes unless asked, at most 30 days. */
export const DEFAULT_TTL_NS = 30n * 60n * 1_000_000_000n;
export const MAX_TTL_NS = 30n * 24n * 3600n * 1_000_000_000n;

export function delegationExpiration(nowNs: bigint, maxTimeToLiveNs?: bigint): bigint {
  const ttl = maxTimeToLiveNs === undefined ? DEFAULT_TTL_NS : maxTimeToLiveNs < MAX_TTL_NS ? maxTimeToLiveNs : MAX_TTL_NS;
  return nowNs + ttl;
}

/** Normalises an origin the way browsers report `event.origin`; throws on anything else. */
export function normalizeOrigin(origin: string): string {
  const u = new URL(origin);
  if (u.origin === 'null' || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new Error(`not a web origin: ${origin}`);
  return u.origin;
}
