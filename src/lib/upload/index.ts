// The upload engine's public entry: what the screens import. Everything else
// under src/lib/upload is the engine's own (core: pure rules; adapters:
// IndexedDB, the canister, the server, the identity, the hasher; runtime: the
// engine, the drainer, the browser wiring and the page client).
export { UploadClient, type DrainMode } from './runtime/upload-client';
export { RefusedError, type AddFilesInput, type AddFilesResult, type AddNoteInput, type Web2Memory } from './runtime/queue-actions';
export { toView } from './runtime/engine';
export { describeItem, failureReason, type ItemDescription, type ItemTone } from './core/describe-item';
export { fileProblem, noteProblem, titleProblem, type Refusal } from './core/validate';
export { userMessage } from './core/errors';
export type { ChannelMessage, DrainReport, EngineEvent } from './core/events';
export type { ClassifiedError, ErrorCategory, ProgressSnapshot, QueueItem, QueueItemView, UploadState, Web2Progress } from './core/types';
export type { ClientConfig } from './adapters/client-config';
export type { PersistenceStatus } from './adapters/browser-storage';
