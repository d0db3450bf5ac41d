// Error classification: which failures are worth retrying. Pure; agent errors
// are recognised by shape (kind, reject code, HTTP status), not by class, so
// this module has no dependency on @dfinity/agent and works on errors that
// crossed a postMessage boundary.
import { CircuitOpenError } from './circuit-breaker';
import type { ClassifiedError } from './types';
import { API_ERRORS, type CanisterErrorName } from '../../../../contract';

/** The canister's error variant names. */
export type CanisterErrorCode = CanisterErrorName;

/** A canister method answered `Err(variant)`. */
export class CanisterError extends Error {
  constructor(
    readonly code: CanisterErrorCode,
    readonly detail: unknown = null,
  ) {
    super(`${code}${detail === null || detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail, bigintJson)}`}`);
    this.name = 'CanisterError';
  }
}

/** No usable identity (none stored, or its delegation expired). */
export class AuthRequiredError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'AuthRequiredError';
  }
}

/**
 * The page's hash worker could not be created or failed to load (its script
 * 404s after a deploy, a CSP refuses it). The fault is the page's, not the
 * item's: the item waits and a later drain (or a reloaded page, or the
 * service worker's inline hasher) hashes it.
 */
export class HasherUnavailableError extends Error {
  constructor(reason: string) {
    super(`the hash worker is unavailable (${reason}); reload the page`);
    this.name = 'HasherUnavailableError';
  }
}

/** The server refused to record a storage edge with an HTTP status (and, from the Forever server, its `{error:{code}}`). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's error code (docs/server.md, "The API"), when the body had one. */
    readonly code: string | null = null,
    /** The server's own `error.message`: the cause in its words. */
    readonly serverMessage: string | null = null,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/**
 * Forever server codes whose meaning is not the status's default. Only
 * UNAUTHENTICATED is about the session; a 403 is never cured by signing in
 * again (quota, CSRF check), so treating it as auth would loop the item
 * between sign-in and the same refusal.
 */
const SERVER_CODES: Record<string, ClassifiedError['category'] | undefined> = {
  UNAUTHENTICATED: 'auth',
  // A spent or expired sign-in nonce: the next attempt asks for a new one
  // (counted against the item's attempts, so it cannot loop forever).
  INVALID_NONCE: 'transient',
  STORAGE_QUOTA_EXCEEDED: 'permanent',
  FORBIDDEN: 'permanent',
};

/** SCREAMING_SNAKE server code → the PascalCase style of the other codes. */
function pascal(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

const CANISTER_CATEGORY: Record<CanisterErrorCode, ClassifiedError['category'] | 'success'> = {
  Unauthorized: 'permanent',
  AlreadyExists: 'success',
  NotFound: 'permanent',
  InvalidHash: 'permanent',
  InvalidArgument: 'permanent',
  QuotaExceeded: 'permanent',
  // Another upload of ours holds a slot; it frees up when that one commits.
  TooManyUploads: 'transient',
  // The session timed out; the engine opens a new one (received chunks are gone).
  UploadExpired: 'transient',
  // Internal canister trouble (e.g. an instruction limit hit by load); worth another try.
  Internal: 'transient',
  // This bucket does not keep the caller's data: the client re-asks the index for its bucket, then retries.
  WrongBucket: 'transient',
  // The user's data is being moved to another bucket; writes resume shortly (there, or here).
  Moving: 'transient',
};

// IC reject codes (interface spec, "Reject codes").
const SYS_TRANSIENT = 2;
// IC0508 CanisterStopped / IC0509 CanisterStopping come with reject code 5
// (canister error) but only mean an upgrade is under way: retry, do not fail.
const STOPPED_CODES = new Set(['IC0508', 'IC0509']);
const STOPPED_TEXT = /^(?:.*: )?Canister \S+ is stopp(?:ed|ing)\b/;

// Text the local and real IC put in rejects caused by an expired or invalid
// delegation / ingress expiry; signing again with a fresh delegation is the fix.
const AUTH_TEXT = /delegation.*expir|expired delegation|invalid delegation|delegation is not valid|certificate.*expired delegation/i;
const EXPIRY_TEXT = /^Invalid request expiry/i;

interface AgentLike {
  kind?: unknown;
  message?: unknown;
  name?: unknown;
  status?: unknown;
  cause?: { code?: { rejectCode?: unknown; rejectMessage?: unknown; rejectErrorCode?: unknown; status?: unknown; name?: unknown } };
}

/** Whether an AlreadyExists (or equivalent) answer means "done". */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof CanisterError && err.code === 'AlreadyExists';
}

export function classifyError(err: unknown): ClassifiedError {
  if (err instanceof CanisterError) {
    const cat = CANISTER_CATEGORY[err.code];
    // AlreadyExists reaching the classifier means a caller did not treat it as
    // success; call it permanent so it cannot loop.
    const reason = typeof err.detail === 'string' && err.detail.length > 0 ? err.detail : undefined;
    return { category: cat === 'success' ? 'permanent' : cat, code: err.code, message: err.message, ...(reason ? { reason } : {}) };
  }
  // By name too: the error may have crossed a postMessage boundary.
  if (err instanceof HasherUnavailableError || (err instanceof Error && err.name === 'HasherUnavailableError')) {
    return { category: 'transient', code: 'HasherUnavailable', message: err.message };
  }
  if (err instanceof CircuitOpenError) return { category: 'transient', code: 'CircuitOpen', message: err.message };
  // Finding the user's bucket (adapters/bucket-locator.ts): the index is creating one, names one
  // that does not take us yet, or a replica sent an uncertified answer; another try can cure each.
  if (err instanceof Error && (err.name === 'BucketUnavailableError' || err.name === 'UncertifiedBucketError')) {
    return { category: 'transient', code: 'BucketUnavailable', message: err.message };
  }
  if (err instanceof AuthRequiredError) return { category: 'auth', code: 'AuthRequired', message: err.message };
  if (err instanceof HttpStatusError) {
    const extra = err.serverMessage ? { reason: err.serverMessage } : {};
    const byCode = err.code === null ? undefined : SERVER_CODES[err.code];
    if (byCode) return { category: byCode, code: pascal(err.code!), message: err.message, ...extra };
    // A 401 without a known code is still "no session"; a 403 without one is a refusal, not a sign-in matter.
    if (err.status === 401) return { category: 'auth', code: 'Http401', message: err.message, ...extra };
    if (err.status === 408 || err.status === 429 || err.status >= 500) return { category: 'transient', code: err.status >= 500 ? 'Http5xx' : `Http${err.status}`, message: err.message, ...extra };
    // A refusal the contract names keeps its name (INVALID_ARGUMENT → InvalidArgument), so the screens can tell causes apart.
    const named = err.code !== null && err.code in API_ERRORS ? pascal(err.code) : `Http${err.status}`;
    return { category: 'permanent', code: named, message: err.message, ...extra };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as AgentLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = e.cause?.code;
  // Reading the queued Blob failed: its backing file is gone. Nothing a retry can cure.
  if (e.name === 'NotReadableError') return { category: 'permanent', code: 'FileUnreadable', message };
  if (typeof e.name === 'string' && e.name === 'AbortError') return { category: 'transient', code: 'Aborted', message };
  if (AUTH_TEXT.test(message) || (typeof code?.rejectMessage === 'string' && AUTH_TEXT.test(code.rejectMessage))) {
    return { category: 'auth', code: 'DelegationExpired', message };
  }
  if (e.kind === 'Reject' && code && typeof code.rejectCode === 'number') {
    if (code.rejectCode === SYS_TRANSIENT) return { category: 'transient', code: 'IcTransient', message };
    if (STOPPED_CODES.has(String(code.rejectErrorCode)) || (typeof code.rejectMessage === 'string' && STOPPED_TEXT.test(code.rejectMessage))) {
      return { category: 'transient', code: 'CanisterStopped', message };
    }
    return { category: 'permanent', code: `IcReject${code.rejectCode}`, message };
  }
  if (e.kind === 'Transport' || err instanceof TypeError) {
    // fetch() failing (offline, connection reset) surfaces as a TypeError or an agent TransportError.
    return { category: 'transient', code: 'Network', message };
  }
  if (e.kind === 'Protocol' && code && typeof code.status === 'number') {
    const status = code.status;
    if (status >= 500 || status === 429 || status === 408) return { category: 'transient', code: status >= 500 ? 'Http5xx' : `Http${status}`, message };
    if (EXPIRY_TEXT.test(message) || /expir/i.test(message)) return { category: 'auth', code: 'DelegationExpired', message };
    return { category: 'permanent', code: `Http${status}`, message };
  }
  if (e.kind === 'Protocol' && code?.name === 'TimeoutWaitingForResponseErrorCode') return { category: 'transient', code: 'Timeout', message };
  if (/failed to fetch|network|load failed|ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/i.test(message)) {
    return { category: 'transient', code: 'Network', message };
  }
  return { category: 'permanent', code: 'Unknown', message };
}

/** One sentence for the person whose upload this is, per error category and code (the UI shows it next to the item). */
export function userMessage(e: Pick<ClassifiedError, 'category' | 'code'>): string {
  switch (e.code) {
    case 'QuotaExceeded':
      return 'Your storage on the Internet Computer is full; this file was not stored.';
    case 'StorageQuotaExceeded':
      return 'Your Forever storage quota is used up; free some space (or raise your quota), then retry this file.';
    case 'Forbidden':
      return 'The Forever server refused this request; reload the page and retry.';
    case 'InvalidHash':
      return 'The file changed or was damaged while uploading; pick it again.';
    case 'InvalidArgument':
      return 'The canister refused this file (too large, empty or malformed).';
    case 'BytesMissing':
      return 'The queued copy of this file is gone; pick it again.';
    case 'FileUnreadable':
      return 'The queued copy of this file can no longer be read; pick it again.';
    case 'HasherUnavailable':
      return 'This page could not start its file hashing helper (the app was probably updated); reload the page and the upload continues.';
    case 'OtherPrincipal':
      return 'This file was queued by another account; sign in with that account to store it.';
    case 'TooManyUploads':
      return 'Other uploads are using every upload slot; this one continues when they finish.';
  }
  switch (e.category) {
    case 'auth':
      return 'Your sign-in expired; sign in again and the upload continues where it stopped.';
    case 'transient':
      return 'The connection failed; the upload retries on its own.';
    case 'permanent':
      return 'The upload failed and will not be retried.';
  }
}

/** A step's own verdict on an item, already classified. */
export class StepError extends Error {
  constructor(
    readonly classified: ClassifiedError,
    /** Clear the canister session: it is gone and uploading must begin again. */
    readonly dropSession = false,
  ) {
    super(classified.message);
    this.name = 'StepError';
  }
}

/**
 * Transient codes that say nothing about the item itself: the canister or the
 * server cannot be reached (no connection, timeout, breaker open) or all of
 * the principal's upload slots are taken (they free up on commit or expiry,
 * 30 minutes at most), or the page's hash worker did not load, or a copy
 * waits for its twin (woken when the twin is done), or the server still
 * retries storing its blob copy (Web2Pending). The promise is that such
 * an item is stored eventually: these waits never use up its attempts.
 */
/** Waits for the network itself: retried at once when the browser is back online. */
export const OFFLINE_CODES: ReadonlySet<string> = new Set(['Network', 'Timeout', 'CircuitOpen']);

export const WAIT_CODES: ReadonlySet<string> = new Set(['Network', 'Timeout', 'CircuitOpen', 'TooManyUploads', 'HasherUnavailable', 'WaitingForTwin', 'Web2Pending']);
