// The local IC's keys: the BLS12-381 root key that signs certificates (its
// public half is what `GET /api/v2/status` hands to agents) and the Ed25519
// key of the one replica node, which signs query responses. Generated once and
// kept in the data directory so agents and stored delegations stay valid
// across restarts.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Principal } from '@dfinity/principal';
import { bls12_381 } from '@noble/curves/bls12-381';
import { concatBytes, hexToBytes } from '@noble/hashes/utils';
import { writeFileDurable } from '../durable-file.js';

/** DER prefix of an IC BLS12-381 public key (followed by the 96-byte compressed G2 point). */
export const BLS_DER_PREFIX = hexToBytes('308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100');

export interface IcKeys {
  /** DER of the root public key (133 bytes). */
  rootKeyDer: Uint8Array;
  /** BLS short signature (48 bytes, G1) over `message`. */
  signRoot(message: Uint8Array): Uint8Array;
  /** Subnet id: the self-authenticating principal of the root key, as agents derive it. */
  subnetId: Principal;
  nodeId: Principal;
  /** DER of the node's Ed25519 public key (44 bytes). */
  nodeKeyDer: Uint8Array;
  signNode(message: Uint8Array): Uint8Array;
}

interface StoredKeys {
  version: 1;
  rootSecretKey: string;
  nodePkcs8: string;
}

export const KEYS_FILE = 'ic-keys.json';

function fromStored(s: StoredKeys): IcKeys {
  const rootSk = hexToBytes(s.rootSecretKey);
  const rootKeyDer = concatBytes(BLS_DER_PREFIX, bls12_381.getPublicKeyForShortSignatures(rootSk));
  const nodeKey: KeyObject = createPrivateKey({ key: Buffer.from(s.nodePkcs8, 'hex'), format: 'der', type: 'pkcs8' });
  const nodeKeyDer = new Uint8Array(createPublicKey(nodeKey).export({ format: 'der', type: 'spki' }));
  return {
    rootKeyDer,
    signRoot: (m) => bls12_381.signShortSignature(m, rootSk) as Uint8Array,
    subnetId: Principal.selfAuthenticating(rootKeyDer),
    nodeId: Principal.selfAuthenticating(nodeKeyDer),
    nodeKeyDer,
    signNode: (m) => new Uint8Array(sign(null, m, nodeKey)),
  };
}

function generate(): StoredKeys {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    version: 1,
    rootSecretKey: Buffer.from(bls12_381.utils.randomSecretKey()).toString('hex'),
    nodePkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
  };
}

/** Keys from `<dataDir>/ic-keys.json`, created on first use; fresh in-memory keys without a directory. */
export function loadOrCreateKeys(dataDir?: string): IcKeys {
  if (!dataDir) return fromStored(generate());
  const file = path.join(dataDir, KEYS_FILE);
  let stored: StoredKeys;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    stored = generate();
    // A crash never leaves a half-written key file.
    writeFileDurable(file, JSON.stringify(stored), 0o600);
  }
  if (stored.version !== 1 || typeof stored.rootSecretKey !== 'string' || typeof stored.nodePkcs8 !== 'string') {
    throw new Error(`${file} is not a local IC key file`);
  }
  return fromStored(stored);
}
