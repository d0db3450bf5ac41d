// What the engine reports: per-item state changes and progress while it runs,
// one report per drain, and the messages pages hear on the upload channel.
import type { ProgressSnapshot, QueueItemView } from './types';

export type EngineEvent = { type: 'state'; item: QueueItemView } | { type: 'progress'; progress: ProgressSnapshot };

/** Time spent per phase during one drain, for the benchmark's breakdown (ms). */
export interface PhaseTimes {
  fetching?: number;
  hashing: number;
  'web2-metadata'?: number;
  'web2-upload'?: number;
  thumbnail?: number;
  'web2-confirm'?: number;
  metadata: number;
  uploading: number;
  committing: number;
  verifying: number;
}

export interface DrainReport {
  recorded: string[];
  /** Items that ended Web2-only (on the server, not on the canister). */
  saved?: string[];
  failed: string[];
  waiting: string[];
  parked: string[];
  /** Earliest next-retry time of a waiting item (ms epoch), or null: when to drain again. */
  nextWakeAt: number | null;
  phases: PhaseTimes;
}

/** What pages receive on the upload channel. */
export type ChannelMessage =
  | EngineEvent
  | { type: 'drained'; report: DrainReport; by: 'page' | 'service-worker' }
  /** An item left the queue (removed or cancelled by the user). */
  | { type: 'removed'; id: string }
  /** The service worker queued files shared to the app (Web Share Target). */
  | { type: 'shared'; ids: string[] };
