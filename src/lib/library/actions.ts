// Deleting memories everywhere they are: from the Internet Computer
// (delete_memory, cannot be undone) and from the Forever server. A memory
// only in this browser's queue is removed from the queue.
import type { Session } from '../auth/session.svelte';
import type { Uploads } from '../uploads/uploads.svelte';
import type { LibraryMemory } from './merge';

export interface DeleteReport {
  deleted: string[];
  failed: { id: string; title: string; reason: string }[];
}

export async function deleteMemories(session: Session, uploads: Uploads, memories: LibraryMemory[]): Promise<DeleteReport> {
  const report: DeleteReport = { deleted: [], failed: [] };
  for (const m of memories) {
    try {
      // The queue's record goes too (a stored one would bring the memory back into the merged list).
      if (m.queued) await (m.queued.state === 'recorded' || m.queued.state === 'saved' ? uploads.remove(m.queued.id) : uploads.cancel(m.queued.id));
      if (m.onIcp || m.icp) {
        if (!session.canister) throw new Error('Sign in to delete from the Internet Computer');
        await session.canister.deleteMemory(m.id);
      }
      if (m.onServer) await session.server.deleteMemory(m.id);
      report.deleted.push(m.id);
    } catch (e) {
      report.failed.push({ id: m.id, title: m.title, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return report;
}
