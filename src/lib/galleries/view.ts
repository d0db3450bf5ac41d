// A gallery's members against the library (pure): which are on ICP, which
// only on the server, and the status that follows.
import type { StorageStatus } from '../api/types';
import type { LibraryMemory } from '../library/merge';
import { galleryStatusOf } from './status';

export interface GallerySummary {
  members: LibraryMemory[];
  onIcp: LibraryMemory[];
  notOnIcp: LibraryMemory[];
  total: number;
  status: StorageStatus;
}

export function summarize(memberIds: string[], byId: Map<string, LibraryMemory>): GallerySummary {
  const members = memberIds.map((id) => byId.get(id)).filter((m): m is LibraryMemory => !!m);
  const onIcp = members.filter((m) => m.onIcp);
  const notOnIcp = members.filter((m) => !m.onIcp);
  return { members, onIcp, notOnIcp, total: members.length, status: galleryStatusOf(members.length, onIcp.length) };
}
