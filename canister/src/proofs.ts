// The principal proof the server's sign-in uses: a caller binds a nonce to
// itself for five minutes; a query names the principal behind a nonce.
import { Principal } from '@dfinity/principal';
import { bytesEqual } from './bytes';
import type { ProofReceipt } from './candid-types';
import { utf8 } from './codec';
import { invalid, unauthorized } from './errors';
import { decodeProof, encodeProof } from './records';
import type { Env, State } from './state';
import { proofExpiryKey } from './store';
import { PROOF_TTL_NS } from './upload-rules';
import { checkNonce } from './validate';

export function prove_principal(env: Env, st: State, nonce: string): ProofReceipt {
  const caller = st.writer(env);
  const key = utf8(checkNonce(nonce));
  const existing = st.t.proofs.get(key);
  if (existing) {
    const p = decodeProof(existing);
    // Single use: a nonce names one principal, once; the same caller retrying gets the same receipt.
    if (!bytesEqual(p.principal, caller)) throw unauthorized();
    if (p.expiresAt <= env.now) throw invalid('nonce expired');
    return { principal: env.caller, expires_at: p.expiresAt };
  }
  const expiresAt = env.now + PROOF_TTL_NS;
  st.t.proofs.insert(key, encodeProof({ principal: caller, expiresAt }));
  st.t.proofExpiry.insert(proofExpiryKey(expiresAt, nonce), new Uint8Array(0));
  return { principal: env.caller, expires_at: expiresAt };
}

export function nonce_principal(env: Env, st: State, nonce: string): [] | [Principal] {
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) return [];
  const b = st.t.proofs.get(utf8(nonce));
  if (!b) return [];
  const p = decodeProof(b);
  return p.expiresAt > env.now ? [Principal.fromUint8Array(p.principal)] : [];
}
