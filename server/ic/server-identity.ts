// The server's own IC identity (Ed25519), kept in the data directory so its
// principal stays the same across restarts: the canister's controller
// registers that principal as a presence verifier (`set_presence_verifiers`).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@dfinity/identity';

export const SERVER_IDENTITY_FILE = 'server-identity.json';

export function loadOrCreateServerIdentity(dataDir: string): Ed25519KeyIdentity {
  const file = path.join(dataDir, SERVER_IDENTITY_FILE);
  try {
    return Ed25519KeyIdentity.fromJSON(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not an Ed25519 identity`, { cause: error });
  }
  const identity = Ed25519KeyIdentity.generate();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(identity.toJSON()), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return identity;
}
