// Small state files of the local IC (keys, identities, canister ids, runtime
// metadata) written atomically and durably: a temporary file in the same
// directory, fsync, rename, fsync the directory. After a crash or power loss
// a reader finds the old file or the new one, never a prefix or an empty file.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

/** fsyncs a directory, so a rename or a new entry in it survives a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileDurable(path: string, data: Uint8Array | string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // A temporary name of this thread's own: threads of the local IC may write the same file (a module) at once.
  const tmp = `${path}.${process.pid}.${threadId}.tmp`;
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dir);
}
