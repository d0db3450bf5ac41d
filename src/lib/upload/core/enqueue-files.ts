// Queueing the files of one pick. Each file is queued on its own: one that is
// refused (storage quota, empty, too large) is reported with its name and the
// others are still queued, and the drain is requested for whatever made it
// into the queue — a throw half-way would leave queued files waiting for the
// next trigger (a reload, coming back online). No I/O of its own: the caller
// passes how to queue one file and how to ask for a drain.
import type { QueueItem } from './types';

export interface EnqueueFailure {
  /** The file's name, as the user picked it. */
  name: string;
  error: Error;
  /** One line for the page: the file's name, then why it was not queued. */
  message: string;
}

export interface EnqueueFilesResult {
  queued: QueueItem[];
  failed: EnqueueFailure[];
  /** The drain request itself failed (the queued files stay queued for the next one). */
  drainError: Error | null;
}

export async function enqueueFiles<F extends { name: string }>(
  files: Iterable<F>,
  enqueueOne: (file: F) => Promise<QueueItem>,
  drain: () => Promise<void>,
): Promise<EnqueueFilesResult> {
  const queued: QueueItem[] = [];
  const failed: EnqueueFailure[] = [];
  for (const file of files) {
    try {
      queued.push(await enqueueOne(file));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      failed.push({ name: file.name, error, message: `${file.name}: ${error.message}` });
    }
  }
  let drainError: Error | null = null;
  if (queued.length > 0) {
    try {
      await drain();
    } catch (err) {
      drainError = err instanceof Error ? err : new Error(String(err));
    }
  }
  return { queued, failed, drainError };
}
