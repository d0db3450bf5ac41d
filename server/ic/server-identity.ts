// The server's own IC identity (Ed25519), kept in the data directory so its
// principal stays the same across restarts: the canister's controller
// registers that principal as a presence verifier (`set_presence_verifiers`).
import path from 'node:path';
import type { Ed25519KeyIdentity } from '@dfinity/identity';
import { loadOrCreateIdentityFile } from '../../canister/local/identity-file.js';

export const SERVER_IDENTITY_FILE = 'server-identity.json';

export function loadOrCreateServerIdentity(dataDir: string): Ed25519KeyIdentity {
  return loadOrCreateIdentityFile(path.join(dataDir, SERVER_IDENTITY_FILE));
}
