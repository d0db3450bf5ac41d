// A queue item in plain words for the screens: a label, a tone for its badge,
// a detail line and a percentage. Pure; never shows an internal state name.
import { OFFLINE_CODES, userMessage } from './errors';
import type { ClassifiedError, ProgressSnapshot, QueueItem } from './types';

export type ItemTone = 'stored' | 'web2' | 'active' | 'waiting' | 'failed' | 'signin';

export interface ItemDescription {
  label: string;
  tone: ItemTone;
  /** The real cause of a failure or a wait; null while work goes on (an error text clears when progress resumes). */
  detail: string | null;
  /** 0..100 while storing forever; null when there is no meaningful figure. */
  percent: number | null;
}

/** Codes that mean "this device cannot reach the server or the IC right now". */

/** The cause in the words of whoever refused (server `error.message`, canister `InvalidArgument` text), else one sentence per code. */
export function failureReason(e: Pick<ClassifiedError, 'category' | 'code' | 'reason'>): string {
  return e.reason && e.reason.trim().length > 0 ? e.reason : userMessage(e);
}

function storedPercent(item: QueueItem, progress?: ProgressSnapshot): number {
  if (progress && progress.id === item.id && progress.totalBytes > 0 && progress.bytesSent > 0) return Math.min(100, Math.floor((progress.bytesSent / progress.totalBytes) * 100));
  const count = Math.max(1, item.chunkCount);
  return Math.min(100, Math.floor((item.receivedChunks.length / count) * 100));
}

/** Plain words for a queue item, never internal state names. */
export function describeItem(item: QueueItem, progress?: ProgressSnapshot): ItemDescription {
  const pending = item.web2?.blob === 'pending_retry';
  switch (item.state) {
    case 'queued':
      return { label: 'Waiting to upload', tone: 'waiting', detail: null, percent: null };
    case 'fetching':
    case 'hashing':
      return { label: 'Preparing…', tone: 'active', detail: null, percent: null };
    case 'web2-metadata':
    case 'web2-upload':
    case 'thumbnail':
      return pending ? { label: 'Saved, will retry', tone: 'web2', detail: null, percent: null } : { label: 'Saving to Web2', tone: 'active', detail: null, percent: null };
    case 'web2-confirm':
      return { label: 'Saved, will retry', tone: 'web2', detail: 'the server keeps a copy and retries storing it on its own', percent: null };
    case 'saved':
      return { label: 'Saved (Web2 only)', tone: 'web2', detail: null, percent: null };
    case 'metadata':
    case 'uploading': {
      const percent = storedPercent(item, progress);
      return { label: `Storing forever ${percent}%`, tone: 'active', detail: null, percent };
    }
    case 'committing':
    case 'verifying':
      return { label: 'Verifying', tone: 'active', detail: null, percent: 100 };
    case 'recorded':
      return { label: 'Stored forever', tone: 'stored', detail: null, percent: 100 };
    case 'needs-sign-in':
      return { label: 'Sign in to continue', tone: 'signin', detail: item.lastError?.code === 'OtherPrincipal' ? userMessage(item.lastError) : null, percent: null };
    case 'failed':
      return { label: `Failed: ${item.lastError ? failureReason(item.lastError) : 'unknown cause'}`, tone: 'failed', detail: item.lastError ? failureReason(item.lastError) : null, percent: null };
    case 'waiting-retry': {
      const e = item.lastError;
      if (e?.code === 'Web2Pending') return { label: 'Saved, will retry', tone: 'web2', detail: 'the server keeps a copy and retries storing it on its own', percent: null };
      if (e && OFFLINE_CODES.has(e.code)) return { label: 'Offline — will continue', tone: 'waiting', detail: null, percent: null };
      if (e?.code === 'WaitingForTwin') return { label: 'Waiting to upload', tone: 'waiting', detail: e.message, percent: null };
      return { label: 'Waiting to retry', tone: 'waiting', detail: e ? failureReason(e) : null, percent: null };
    }
  }
}
