// The per-memory upload state machine. Pure: no I/O, no clock. The engine
// feeds it events and persists the resulting state before acting on it, so a
// crash at any point resumes from the last persisted state.
import type { ActiveState, UploadState } from './types';

/**
 * Where an item goes after hashing: to the server first (`web2`), and then,
 * unless it stays Web2-only (`forever: false`), to the canister. The engine
 * says which from the item and the ports it has.
 */
export interface Route {
  web2?: boolean;
  forever?: boolean;
}

export type UploadEvent =
  | ({ type: 'start'; hashed: boolean; /** No queued bytes: read the server's blob copy first. */ fetch?: boolean } & Route)
  | { type: 'fetched' }
  | ({ type: 'hashed' } & Route)
  | { type: 'web2-metadata-stored' }
  | { type: 'web2-uploaded' }
  /** The thumbnail is done; `confirm`: the blob copy is still in the server's retry queue. */
  | { type: 'thumbnail-done'; forever: boolean; confirm: boolean }
  | { type: 'web2-confirmed'; forever: boolean }
  /** The server gave up storing the blob copy: send the bytes again. */
  | { type: 'web2-resend' }
  | { type: 'metadata-stored' }
  /** A copy of a file whose twin (same owner, same bytes) committed: stored once, nothing to upload. */
  | { type: 'duplicate' }
  /** begin_asset_upload said AlreadyExists: the asset is stored; go verify. */
  | { type: 'already-exists' }
  | { type: 'chunks-done' }
  /** The canister no longer knows the session (expired, or removed after a commit we did not see): begin again. */
  | { type: 'session-lost' }
  | { type: 'committed' }
  /** `confirm`: the blob copy is still in the server's retry queue; ask until it is stored. */
  | { type: 'verified'; confirm?: boolean }
  /** The user stores a Web2-only memory forever (its bytes are queued). */
  | { type: 'store-forever' }
  | { type: 'transient-error' }
  | { type: 'permanent-error' }
  | { type: 'auth-required' }
  | { type: 'retry-due' }
  | { type: 'signed-in' }
  /** The user asks to try a failed item again. */
  | { type: 'reset' };

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: UploadState,
    readonly event: UploadEvent['type'],
  ) {
    super(`No transition from ${from} on ${event}`);
    this.name = 'InvalidTransitionError';
  }
}

export interface MachineState {
  state: UploadState;
  /** Phase to return to after waiting-retry / needs-sign-in. */
  resumeAt: ActiveState | null;
}

const ACTIVE: readonly ActiveState[] = ['fetching', 'hashing', 'web2-metadata', 'web2-upload', 'thumbnail', 'web2-confirm', 'metadata', 'uploading', 'committing', 'verifying'];

export function isActive(state: UploadState): state is ActiveState {
  return (ACTIVE as readonly string[]).includes(state);
}

/** Terminal states: the engine does nothing more for them on its own. */
export function isTerminal(state: UploadState): boolean {
  return state === 'recorded' || state === 'saved' || state === 'failed';
}

/** States the drainer picks up (needs-sign-in only once an identity is there). */
export function isRunnable(state: UploadState): boolean {
  return state === 'queued' || state === 'waiting-retry' || state === 'needs-sign-in' || isActive(state);
}

const FORWARD: Partial<Record<UploadState, Partial<Record<UploadEvent['type'], UploadState>>>> = {
  fetching: { fetched: 'hashing' },
  'web2-metadata': { 'web2-metadata-stored': 'web2-upload', duplicate: 'recorded' },
  'web2-upload': { 'web2-uploaded': 'thumbnail' },
  'web2-confirm': { 'web2-resend': 'web2-upload' },
  metadata: { 'metadata-stored': 'uploading', duplicate: 'recorded' },
  uploading: { 'chunks-done': 'committing', 'already-exists': 'verifying' },
  committing: { committed: 'verifying', 'already-exists': 'verifying' },
};

/** The first phase after hashing. */
function afterHash(route: Route): ActiveState | 'saved' {
  if (route.web2) return 'web2-metadata';
  return route.forever === false ? 'saved' : 'metadata';
}

export function transition(current: MachineState, event: UploadEvent): MachineState {
  const { state } = current;
  switch (event.type) {
    case 'start':
      if (state !== 'queued') break;
      if (event.fetch) return { state: 'fetching', resumeAt: null };
      return { state: event.hashed ? afterHash(event) : 'hashing', resumeAt: null };
    case 'hashed':
      if (state !== 'hashing') break;
      return { state: afterHash(event), resumeAt: null };
    case 'thumbnail-done':
      if (state !== 'thumbnail') break;
      return { state: event.forever ? 'metadata' : event.confirm ? 'web2-confirm' : 'saved', resumeAt: null };
    case 'web2-confirmed':
      if (state !== 'web2-confirm') break;
      return { state: event.forever ? 'recorded' : 'saved', resumeAt: null };
    case 'verified':
      if (state !== 'verifying') break;
      return { state: event.confirm ? 'web2-confirm' : 'recorded', resumeAt: null };
    case 'store-forever':
      if (state !== 'saved') break;
      return { state: 'metadata', resumeAt: null };
    case 'transient-error':
      if (!isActive(state)) break;
      return { state: 'waiting-retry', resumeAt: state };
    case 'auth-required':
      if (isActive(state)) return { state: 'needs-sign-in', resumeAt: state };
      if (state === 'queued') return { state: 'needs-sign-in', resumeAt: null };
      if (state === 'waiting-retry') return { state: 'needs-sign-in', resumeAt: current.resumeAt };
      break;
    case 'permanent-error':
      if (!isActive(state) && state !== 'queued' && state !== 'waiting-retry') break;
      return { state: 'failed', resumeAt: null };
    case 'retry-due':
      if (state !== 'waiting-retry') break;
      return { state: current.resumeAt ?? 'queued', resumeAt: null };
    case 'signed-in':
      if (state !== 'needs-sign-in') break;
      return { state: current.resumeAt ?? 'queued', resumeAt: null };
    case 'session-lost':
      if (state !== 'uploading' && state !== 'committing' && state !== 'verifying') break;
      return { state: 'uploading', resumeAt: null };
    case 'reset':
      if (state !== 'failed') break;
      return { state: 'queued', resumeAt: null };
    default: {
      const next = FORWARD[state]?.[event.type];
      if (next) return { state: next, resumeAt: null };
    }
  }
  throw new InvalidTransitionError(state, event.type);
}
