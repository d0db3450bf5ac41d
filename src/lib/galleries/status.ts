// Words, colours and button states for storage status (pure): one place, so
// the dashboard, folders, galleries and detail screens say the same thing.
import type { StorageStatus } from '../api/types';
import type { BadgeStatus } from '../library/merge';

export interface BadgeLook {
  label: string;
  tone: 'icp' | 'web2' | 'saving' | 'storing' | 'failed';
  tooltip: string;
}

export function memoryBadge(status: BadgeStatus, percent: number | null, reason: string | null): BadgeLook {
  switch (status) {
    case 'icp':
      return { label: 'ICP', tone: 'icp', tooltip: 'Stored forever on the Internet Computer' };
    case 'web2':
      return { label: 'Web2', tone: 'web2', tooltip: 'Saved on the Forever server only (Web2), not yet on the Internet Computer' };
    case 'saving':
      return { label: 'Saving', tone: 'saving', tooltip: 'Being saved on the Forever server (Web2); Store Forever puts it on the Internet Computer' };
    case 'storing':
      return { label: `${percent ?? 0}%`, tone: 'storing', tooltip: `Being stored on the Internet Computer: ${percent ?? 0}% done${reason ? `; ${reason}` : ''}` };
    case 'failed':
      return { label: 'Failed', tone: 'failed', tooltip: `Storing failed: ${reason ?? 'unknown reason'}` };
  }
}

export function galleryStatusOf(total: number, onIcp: number, anyOnIcp = onIcp): StorageStatus {
  if (total > 0 && onIcp === total) return 'stored_forever';
  if (anyOnIcp > 0) return 'partially_stored';
  return 'web2_only';
}

export function galleryBadge(status: StorageStatus, onIcp: number, total: number): BadgeLook {
  switch (status) {
    case 'stored_forever':
      return { label: 'ICP', tone: 'icp', tooltip: `Stored forever: all ${total} memories are on the Internet Computer` };
    case 'partially_stored':
      return { label: 'ICP', tone: 'icp', tooltip: `Partly stored forever: ${onIcp} of ${total} memories are on the Internet Computer, the rest only on the Forever server` };
    case 'web2_only':
      return { label: 'Web2', tone: 'web2', tooltip: 'Saved on the Forever server only (Web2); none of its memories are on the Internet Computer yet' };
  }
}

export interface StoreButton {
  text: 'Store Forever' | 'Continue Storing' | 'Already Stored';
  tone: 'blue' | 'orange' | 'gray';
  disabled: boolean;
  tooltip: string;
}

export function storeForeverButton(status: StorageStatus): StoreButton {
  switch (status) {
    case 'stored_forever':
      return { text: 'Already Stored', tone: 'gray', disabled: true, tooltip: 'This gallery is already permanently stored on the Internet Computer' };
    case 'partially_stored':
      return { text: 'Continue Storing', tone: 'orange', disabled: false, tooltip: 'Continue storing the remaining items on the Internet Computer' };
    case 'web2_only':
      return { text: 'Store Forever', tone: 'blue', disabled: false, tooltip: 'Store this gallery permanently on the Internet Computer blockchain' };
  }
}

export const VIEW_ON_ICP_TOOLTIP = 'See this gallery as the Internet Computer holds it, and verify its memories';
