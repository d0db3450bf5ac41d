// One library from three sources (pure): the server's memories with their
// presence, the canister's own list (what is stored forever, also when the
// server does not know it or cannot be reached), and this browser's queue
// (what is still on its way). Each memory appears once, by id.
import type { MemoryType } from '../../../contract';
import type { IcMemory } from '../api/canister';
import type { MemoryPresence, ServerMemory } from '../api/types';
import { describeItem, type ProgressSnapshot, type QueueItem } from '../upload';

/** `saving`: on its way to the Forever server (Web2), not to the Internet Computer. */
export type BadgeStatus = 'icp' | 'web2' | 'saving' | 'storing' | 'failed';

export interface LibraryMemory {
  id: string;
  type: MemoryType;
  title: string;
  description: string | null;
  fileName: string | null;
  mimeType: string | null;
  size: number | null;
  createdAt: number;
  folderId: string | null;
  hasThumbnail: boolean;
  status: BadgeStatus;
  /** While storing: 0..100. */
  percent: number | null;
  /** The queue's reason for a failure or a wait. */
  reason: string | null;
  onServer: boolean;
  onIcp: boolean;
  icp: IcMemory | null;
  presence: MemoryPresence | null;
  queued: QueueItem | null;
}

const lower = (t: string) => t.toLowerCase() as MemoryType;

export function icpComplete(type: MemoryType, p: Pick<MemoryPresence, 'meta_icp' | 'asset_icp'> | null, icp: IcMemory | null): boolean {
  if (icp && (icp.asset || type === 'note')) return true;
  return !!p && p.meta_icp && (p.asset_icp || type === 'note');
}

function queuePercent(item: QueueItem, p: ProgressSnapshot | undefined): number {
  if (item.state === 'committing' || item.state === 'verifying') return 99;
  if (p && p.totalBytes > 0) return Math.min(99, Math.floor((p.bytesSent / p.totalBytes) * 100));
  return item.chunkCount > 0 ? Math.min(99, Math.floor((item.receivedChunks.length / item.chunkCount) * 100)) : 0;
}

/** Why a queue item is not moving, in the queue's plain words: the real reason of a failure, or what it waits for. */
export function queueReason(item: QueueItem): string | null {
  if (item.state === 'failed') return item.lastError?.reason ?? item.lastError?.message ?? null;
  if (item.state !== 'waiting-retry' && item.state !== 'needs-sign-in') return null;
  const w = describeItem(item);
  return w.detail ? `${w.label}: ${w.detail}` : w.label;
}

/** A queue item's badge: stored forever, Web2 only (also while it is being saved there), on its way to ICP, or failed. */
export function queueStatus(item: QueueItem): BadgeStatus {
  if (item.state === 'recorded') return 'icp';
  if (item.state === 'failed') return 'failed';
  if (item.state === 'saved') return 'web2';
  if (item.storeForever === false) return item.web2?.blob === 'pending_retry' ? 'web2' : 'saving';
  return 'storing';
}

export function mergeLibrary(input: {
  server: ServerMemory[];
  presence: Map<string, MemoryPresence>;
  icp: IcMemory[];
  queue: QueueItem[];
  progress: Record<string, ProgressSnapshot>;
  owner: string | null;
}): LibraryMemory[] {
  const byId = new Map<string, LibraryMemory>();
  const icpById = new Map(input.icp.map((m) => [m.id, m]));
  for (const s of input.server) {
    const icp = icpById.get(s.id) ?? null;
    const presence = s.presence ?? input.presence.get(s.id) ?? null;
    const onIcp = icpComplete(s.memory_type, presence, icp);
    const meta = s.metadata ?? {};
    byId.set(s.id, {
      id: s.id,
      type: s.memory_type,
      title: s.title ?? (typeof meta.file_name === 'string' ? meta.file_name : '') ?? '',
      description: s.description,
      fileName: typeof meta.file_name === 'string' ? meta.file_name : (icp?.fileName ?? null),
      mimeType: typeof meta.mime_type === 'string' ? meta.mime_type : (icp?.mimeType ?? null),
      size: typeof meta.size === 'number' ? meta.size : (icp?.asset?.size ?? null),
      createdAt: Date.parse(s.created_at) || 0,
      folderId: s.folder_id ?? null,
      hasThumbnail: !!s.has_thumbnail,
      status: onIcp ? 'icp' : 'web2',
      percent: null,
      reason: null,
      onServer: true,
      onIcp,
      icp,
      presence,
    queued: null,
    });
  }
  for (const icp of input.icp) {
    if (byId.has(icp.id)) continue;
    const onIcp = icpComplete(icp.memoryType, null, icp);
    byId.set(icp.id, {
      id: icp.id,
      type: icp.memoryType,
      title: icp.title,
      description: icp.description,
      fileName: icp.fileName,
      mimeType: icp.mimeType,
      size: icp.asset?.size ?? null,
      createdAt: icp.createdAt,
      folderId: null,
      hasThumbnail: false,
      status: onIcp ? 'icp' : 'web2',
      percent: null,
      reason: null,
      onServer: false,
      onIcp,
      icp,
      presence: null,
      queued: null,
    });
  }
  for (const item of input.queue) {
    // Another user's item on this browser is not in this library; one queued before sign-in is (it is claimed at sign-in).
    if (item.owner !== null && item.owner !== input.owner) continue;
    // A copy of a file stored once shows as the memory that holds the bytes.
    if (item.state === 'recorded' && item.duplicateOf) continue;
    const existing = byId.get(item.id);
    const p = input.progress[item.id];
    const status = queueStatus(item);
    if (existing) {
      if (status === 'icp') {
        existing.status = 'icp';
        existing.onIcp = true;
      } else if (status !== 'web2' && status !== 'saving' && !existing.onIcp) {
        existing.status = status;
        existing.percent = status === 'storing' ? queuePercent(item, p) : null;
        existing.reason = queueReason(item);
      }
      existing.queued = item;
      if (!existing.folderId && item.folderId) existing.folderId = item.folderId;
      continue;
    }
    byId.set(item.id, {
      id: item.id,
      type: lower(item.memoryType),
      title: item.metadata.title || item.name,
      description: item.metadata.description ?? null,
      fileName: item.name,
      mimeType: item.mimeType || null,
      size: item.size,
      createdAt: item.createdAt,
      folderId: item.folderId ?? null,
      hasThumbnail: false,
      status,
      percent: status === 'storing' ? queuePercent(item, p) : null,
      reason: queueReason(item),
      onServer: false,
      onIcp: status === 'icp',
      icp: null,
      presence: null,
      queued: item,
    });
  }
  return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}

export type StatusFilter = 'all' | BadgeStatus;
export type TypeFilter = 'all' | MemoryType;

export function filterLibrary(list: LibraryMemory[], type: TypeFilter, status: StatusFilter, folderId?: string | null): LibraryMemory[] {
  const statusOk = (m: LibraryMemory) => status === 'all' || m.status === status || (status === 'web2' && m.status === 'saving');
  return list.filter((m) => (type === 'all' || m.type === type) && statusOk(m) && (folderId === undefined || m.folderId === folderId));
}
