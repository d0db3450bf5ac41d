// An Ed25519 identity kept in a JSON file (as dfx keeps its identities), so
// the principal stays the same across restarts: read when the file exists,
// generated and written (owner-only, via a temporary file and a rename, so a
// crash never leaves half a key) when it does not.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@dfinity/identity';

export function loadOrCreateIdentityFile(file: string): Ed25519KeyIdentity {
  try {
    return Ed25519KeyIdentity.fromJSON(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not an Ed25519 identity`, { cause: error });
  }
  const identity = Ed25519KeyIdentity.generate();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(identity.toJSON()), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return identity;
}
