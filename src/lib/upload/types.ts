// Transitional: the screens written before the layers import these paths.
// Import from `$lib/upload` (index.ts) instead; this file goes once they do.
export type { ProgressSnapshot, QueueItem, QueueItemView, UploadState } from './core/types';
