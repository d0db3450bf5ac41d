// A queue item in plain words for the uploads panel and the badges (pure).
import type { ProgressSnapshot, QueueItem } from '../upload/types';
import { userMessage } from '../upload/errors';

export type Tone = 'done' | 'active' | 'waiting' | 'failed';

export interface ItemWords {
  label: string;
  tone: Tone;
  detail: string;
  /** 0..100 while bytes move, null otherwise. */
  percent: number | null;
}

const fmtBytes = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} kB` : `${n} B`);

export function describeQueueItem(item: QueueItem, p?: ProgressSnapshot): ItemWords {
  const percent = p && p.totalBytes > 0 ? Math.min(100, Math.floor((p.bytesSent / p.totalBytes) * 100)) : item.chunkCount > 0 ? Math.floor((item.receivedChunks.length / item.chunkCount) * 100) : 0;
  const err = item.lastError ? `${userMessage(item.lastError)} (${item.lastError.message})` : '';
  switch (item.state) {
    case 'queued':
      return { label: 'Waiting to start', tone: 'waiting', detail: '', percent: null };
    case 'hashing':
      return { label: 'Preparing', tone: 'active', detail: p ? `${Math.floor(p.hashed * 100)}% checked` : '', percent: null };
    case 'metadata':
      return { label: 'Storing details', tone: 'active', detail: '', percent: null };
    case 'uploading': {
      const speed = p && p.speed > 0 ? ` · ${fmtBytes(p.speed)}/s` : '';
      const eta = p && p.etaSeconds !== null ? ` · ${Math.ceil(p.etaSeconds)} s left` : '';
      const chunks = p ? `${p.chunksSent} of ${p.totalChunks} chunks · ${fmtBytes(p.bytesSent)} of ${fmtBytes(p.totalBytes)}` : `${item.receivedChunks.length} of ${item.chunkCount} chunks`;
      return { label: `Storing ${percent}%`, tone: 'active', detail: chunks + speed + eta, percent };
    }
    case 'committing':
    case 'verifying':
      return { label: 'Verifying', tone: 'active', detail: 'Checking the stored bytes on the Internet Computer', percent: 100 };
    case 'recorded':
      return { label: 'Stored forever', tone: 'done', detail: item.duplicateOf ? 'Same bytes as another memory, stored once' : '', percent: null };
    case 'waiting-retry': {
      const when = item.nextRetryAt ? ` at ${new Date(item.nextRetryAt).toLocaleTimeString()}` : '';
      return { label: 'Waiting to retry', tone: 'waiting', detail: `${err}${err ? ' · ' : ''}next try${when}`, percent: null };
    }
    case 'needs-sign-in':
      return { label: 'Needs sign-in', tone: 'waiting', detail: err || 'Sign in again and it continues', percent: null };
    case 'failed':
      return { label: `Failed: ${item.lastError?.message ?? 'unknown reason'}`, tone: 'failed', detail: item.lastError ? userMessage(item.lastError) : '', percent: null };
  }
}
