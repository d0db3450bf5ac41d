// The server's own IC identity (Ed25519), kept in the data directory so its
// principal stays the same across restarts: the canister's controller
// registers that principal as a presence verifier (`set_presence_verifiers`).
// Written once, owner-only and durably (a crash never leaves half a key).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { writeFileAtomic } from '../atomic-write.js';

export const SERVER_IDENTITY_FILE = 'server-identity.json';

export async function loadOrCreateServerIdentity(dataDir: string): Promise<Ed25519KeyIdentity> {
  const file = path.join(dataDir, SERVER_IDENTITY_FILE);
  try {
    return Ed25519KeyIdentity.fromJSON(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not an Ed25519 identity`, { cause: error });
  }
  const identity = Ed25519KeyIdentity.generate();
  await writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(identity.toJSON())), 0o600);
  return identity;
}
