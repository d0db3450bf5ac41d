// The signing identity the auth client keeps in IndexedDB (`auth-client-db`,
// store `ic-keyval`): a non-extractable ECDSA P-256 key pair and the II
// delegation chain as JSON. Pages and the service worker read the same
// records, so the worker signs fresh calls without ever holding a signed
// request for later (those expire about 5 minutes after signing).
import { IdbStorage, KEY_STORAGE_DELEGATION, KEY_STORAGE_KEY } from '@dfinity/auth-client';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity } from '@dfinity/identity';
import { AuthRequiredError } from '../core/errors';

/**
 * A delegation must outlive the calls signed with it: the IC checks its
 * expiry when it receives each request. One that ends within this margin is
 * treated as expired, so items park instead of failing half-way.
 */
export const DELEGATION_MARGIN_MS = 60_000;

export function delegationExpiryMs(chain: DelegationChain): number {
  let min = Infinity;
  for (const { delegation } of chain.delegations) min = Math.min(min, Number(delegation.expiration / 1_000_000n));
  return min;
}

/** The stored identity, or AuthRequiredError when there is none or its delegation (nearly) expired. */
export async function loadStoredIdentity(opts: { now?: number; storage?: IdbStorage } = {}): Promise<DelegationIdentity> {
  const storage = opts.storage ?? new IdbStorage();
  const [keyPair, chainJson] = await Promise.all([storage.get<CryptoKeyPair | string>(KEY_STORAGE_KEY), storage.get<string>(KEY_STORAGE_DELEGATION)]);
  if (!keyPair || !chainJson) throw new AuthRequiredError('Not signed in: no stored identity');
  if (typeof keyPair === 'string') throw new AuthRequiredError('The stored identity is an Ed25519 key; sign in again');
  const chain = DelegationChain.fromJSON(chainJson);
  const expires = delegationExpiryMs(chain);
  if (expires - DELEGATION_MARGIN_MS <= (opts.now ?? Date.now())) {
    throw new AuthRequiredError(`Sign-in expired at ${new Date(expires).toISOString()}`);
  }
  const key = await ECDSAKeyIdentity.fromKeyPair(keyPair);
  return DelegationIdentity.fromDelegation(key, chain);
}
