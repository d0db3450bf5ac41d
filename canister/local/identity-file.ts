// An Ed25519 identity kept in a JSON file (as dfx keeps its identities), so
// the principal stays the same across restarts: read when the file exists,
// generated and written (owner-only, durably: a crash never leaves half a
// key) when it does not.
import { readFileSync } from 'node:fs';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { writeFileDurable } from './durable-file.js';

export function loadOrCreateIdentityFile(file: string): Ed25519KeyIdentity {
  try {
    return Ed25519KeyIdentity.fromJSON(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not an Ed25519 identity`, { cause: error });
  }
  const identity = Ed25519KeyIdentity.generate();
  writeFileDurable(file, JSON.stringify(identity.toJSON()), 0o600);
  return identity;
}
