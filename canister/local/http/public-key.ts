// User public keys as the IC accepts them in `sender_pubkey` and delegations:
// DER SubjectPublicKeyInfo of Ed25519, ECDSA P-256 or ECDSA secp256k1, and
// basic signatures over them (Ed25519 over the message; ECDSA over its
// SHA-256, 64-byte r||s). WebAuthn (COSE) and canister-signature keys are
// recognised and refused: the local IC has no II canister to vouch for them.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export type KeyAlgorithm = 'Ed25519' | 'EcdsaP256' | 'EcdsaSecp256k1';

export interface UserPublicKey {
  algorithm: KeyAlgorithm;
  der: Uint8Array;
  key: KeyObject;
}

/** Why a key or a signature was refused: the text follows the replica's wording. */
export class PublicKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublicKeyError';
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// OIDs (DER content bytes) of the key kinds the IC knows but this local IC cannot verify.
const COSE_OID = Buffer.from('2b0601040183b8430101', 'hex'); // 1.3.6.1.4.1.56387.1.1
const CANISTER_SIG_OID = Buffer.from('2b0601040183b8430102', 'hex'); // 1.3.6.1.4.1.56387.1.2

const cache = new Map<string, UserPublicKey>();

export function parsePublicKey(der: Uint8Array): UserPublicKey {
  const k = hex(der);
  const hit = cache.get(k);
  if (hit) return hit;
  const bytes = Buffer.from(der);
  if (bytes.includes(COSE_OID) || bytes.includes(CANISTER_SIG_OID)) {
    throw new PublicKeyError(
      `Invalid public key: Unsupported public key type: ${bytes.includes(COSE_OID) ? 'COSE (WebAuthn)' : 'canister signature'} keys are not supported by the local IC`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch {
    throw new PublicKeyError(`Invalid public key: Malformed DER-encoded public key: ${k}`);
  }
  let algorithm: KeyAlgorithm;
  if (key.asymmetricKeyType === 'ed25519') algorithm = 'Ed25519';
  else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') algorithm = 'EcdsaP256';
  else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp256k1') algorithm = 'EcdsaSecp256k1';
  else throw new PublicKeyError(`Invalid public key: Unsupported public key algorithm: ${key.asymmetricKeyType ?? 'unknown'}`);
  const parsed: UserPublicKey = { algorithm, der: new Uint8Array(der), key };
  if (cache.size > 10_000) cache.clear();
  cache.set(k, parsed);
  return parsed;
}

/** Verifies a basic signature of `message`; throws PublicKeyError with the IC's wording. */
export function verifyBasicSignature(pk: UserPublicKey, message: Uint8Array, signature: Uint8Array): void {
  let ok = false;
  if (signature.length === 64) {
    try {
      ok =
        pk.algorithm === 'Ed25519'
          ? verify(null, message, pk.key, signature)
          : verify('sha256', message, { key: pk.key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new PublicKeyError(
      `Invalid basic signature: ${pk.algorithm} signature could not be verified: public key ${hex(pk.der)}, signature ${hex(signature)}, error: Verification equation was not satisfied`,
    );
  }
}
