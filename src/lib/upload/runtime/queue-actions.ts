// What a person does to the queue, behind UploadClient: add files or a note
// (validated first: only what can succeed is queued), store Web2-only
// memories forever, retry, remove, cancel. No page APIs: the service worker
// (share target) and Node tests use the same functions.
import { toVariant, type MemoryType as WireMemoryType } from '../../../../contract';
import { StorageQuotaError, type StorageManagerLike } from '../adapters/browser-storage';
import type { QueueStore } from '../adapters/queue-store';
import { OFFLINE_CODES } from '../core/errors';
import { transition } from '../core/machine';
import type { ForeverCanister } from '../core/ports';
import { serverSourcedItem } from '../core/queue-item';
import type { QueueItem } from '../core/types';
import { fileProblem, noteFileName, noteProblem, type Refusal } from '../core/validate';
import { enqueue } from './enqueue';

/** A note or a file refused before anything was queued; `reason` names the cause. */
export class RefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RefusedError';
  }
}

export interface AddFilesInput {
  files: File[];
  storeForever: boolean;
  folderId?: string | null;
  owner: string | null;
  /** A title per file (by file, or in the order of `files`); the file's name otherwise. */
  titles?: Map<File, string> | readonly (string | undefined)[];
}

export interface AddFilesResult {
  queued: { id: string; name: string }[];
  refused: Refusal[];
}

export interface AddHooks {
  storage?: StorageManagerLike;
  /** Called for each queued item, before the drain is asked for (the page grabs a video's poster frame here). */
  onQueued?: (item: QueueItem, file: File) => Promise<void>;
}

/** Validates every file first and queues only what can succeed, each on its own (one refused file does not stop the others). */
export async function addFiles(store: QueueStore, input: AddFilesInput, hooks: AddHooks = {}): Promise<AddFilesResult> {
  const queued: AddFilesResult['queued'] = [];
  const refused: Refusal[] = [];
  const titles = input.titles;
  for (const [index, file] of input.files.entries()) {
    const given = titles instanceof Map ? titles.get(file) : titles?.[index];
    const title = given && given.trim().length > 0 ? given : file.name;
    const problem = fileProblem(file, title);
    if (problem) {
      refused.push({ name: file.name, reason: problem });
      continue;
    }
    try {
      const item = await enqueue(
        store,
        { blob: file, name: file.name, mimeType: file.type || undefined, owner: input.owner, storeForever: input.storeForever, folderId: input.folderId ?? null, metadata: { title }, web2: true },
        hooks.storage,
      );
      queued.push({ id: item.id, name: file.name });
      await hooks.onQueued?.(item, file).catch(() => undefined);
    } catch (err) {
      refused.push({ name: file.name, reason: err instanceof StorageQuotaError ? err.message : `it could not be queued: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return { queued, refused };
}

export interface AddNoteInput {
  title: string;
  text: string;
  storeForever: boolean;
  folderId?: string | null;
  owner: string | null;
}

/** A note is a memory of type Note whose bytes are its text, stored as a Markdown file. Throws RefusedError naming the cause. */
export async function addNote(store: QueueStore, input: AddNoteInput, storage?: StorageManagerLike): Promise<QueueItem> {
  const problem = noteProblem(input.title, input.text);
  if (problem) throw new RefusedError(problem);
  const name = noteFileName(input.title);
  const blob = new Blob([input.text], { type: 'text/markdown' });
  return enqueue(
    store,
    { blob, name, mimeType: 'text/markdown', memoryType: 'Note', owner: input.owner, storeForever: input.storeForever, folderId: input.folderId ?? null, metadata: { title: input.title }, web2: true },
    storage,
  );
}

/** A Web2-only memory as the library knows it. */
export interface Web2Memory {
  id: string;
  sha256: string | null;
  size: number;
  name: string;
  mimeType: string;
  memoryType: WireMemoryType;
  title: string;
  owner: string | null;
}

/**
 * Store Forever later. Bytes from this browser's queue when it has them;
 * otherwise an item that reads them back from the server's blob copy and
 * must hash to the recorded sha256 before any chunk goes out.
 */
export async function storeForever(store: QueueStore, memories: Web2Memory[]): Promise<{ queued: string[]; refused: { id: string; reason: string }[] }> {
  const queued: string[] = [];
  const refused: { id: string; reason: string }[] = [];
  for (const m of memories) {
    const existing = await store.get(m.id);
    if (existing?.state === 'recorded') {
      refused.push({ id: m.id, reason: 'it is stored forever already' });
      continue;
    }
    if (existing && existing.hasBytes) {
      await store.update(m.id, (cur) => {
        const next = { ...cur, storeForever: true };
        if (cur.state === 'saved') return { ...next, ...transition(cur, { type: 'store-forever' }), lastError: null };
        if (cur.state === 'failed') return { ...next, state: 'queued', resumeAt: null, attempts: 0, waits: 0, nextRetryAt: null };
        return next;
      });
      queued.push(m.id);
      continue;
    }
    if (existing && existing.state !== 'saved' && existing.state !== 'failed') {
      // Still on its way (its bytes are being read back, or it was queued forever already).
      await store.update(m.id, (cur) => ({ ...cur, storeForever: true }));
      queued.push(m.id);
      continue;
    }
    if (m.sha256 === null) {
      refused.push({ id: m.id, reason: 'the server has no recorded SHA-256 for this memory, so its copy cannot be checked' });
      continue;
    }
    if (m.size <= 0) {
      refused.push({ id: m.id, reason: 'the memory has no bytes to store' });
      continue;
    }
    if (existing) await store.remove(m.id);
    await store.addWithoutBytes(serverSourcedItem({ id: m.id, sha256: m.sha256, size: m.size, name: m.name, mimeType: m.mimeType, memoryType: toVariant(m.memoryType), title: m.title, owner: m.owner }));
    queued.push(m.id);
  }
  return { queued, refused };
}

/** The user tries a failed item again (from the start of its journey), or a waiting one now. */
export async function retryItem(store: QueueStore, id: string, now = Date.now()): Promise<void> {
  const found = await store.get(id);
  if (!found) return;
  if (found.state === 'failed' && found.source === 'server' && found.hasBytes) {
    // Bytes read back from the server's copy that failed (a copy that did not match its hash): read them again.
    await store.dropBytes(id, (cur) => ({ ...cur, state: 'queued', resumeAt: null, attempts: 0, waits: 0, nextRetryAt: null }));
    return;
  }
  await store.update(id, (cur) => {
    if (cur.state === 'failed') return { ...cur, state: 'queued', resumeAt: null, attempts: 0, waits: 0, nextRetryAt: null };
    if (cur.state === 'waiting-retry') return { ...cur, nextRetryAt: now };
    return cur;
  });
}

/**
 * Back online (a Background Sync event, the page's `online` event): items that
 * were waiting only for the network are due now, not after the backoff they
 * grew while offline. Returns how many.
 */
export async function wakeOffline(store: QueueStore, now = Date.now()): Promise<number> {
  let woken = 0;
  for (const item of await store.list()) {
    if (item.state !== 'waiting-retry' || !OFFLINE_CODES.has(item.lastError?.code ?? '') || (item.nextRetryAt ?? 0) <= now) continue;
    try {
      await store.update(item.id, (cur) => (cur.state === 'waiting-retry' ? { ...cur, nextRetryAt: now } : cur));
      woken++;
    } catch {
      // Removed meanwhile.
    }
  }
  return woken;
}

/**
 * Items queued before anyone signed in (owner null: a share from another app
 * while signed out) become the first signed-in person's: they added them on
 * this browser. Claimed at sign-in, so a later user of the browser never
 * sees them. Returns the ids claimed.
 */
export async function claimUnowned(store: QueueStore, owner: string): Promise<string[]> {
  const claimed: string[] = [];
  for (const item of await store.list()) {
    if (item.owner !== null) continue;
    try {
      const next = await store.update(item.id, (cur) => (cur.owner === null ? { ...cur, owner } : cur));
      if (next.owner === owner) claimed.push(item.id);
    } catch {
      // Removed meanwhile: nothing to claim.
    }
  }
  return claimed;
}

/**
 * Cancels an item: its canister session (if any) is cancelled, then it is
 * removed with its bytes. Idempotent: a gone item, or a session the canister
 * no longer knows, is fine.
 */
export async function cancelItem(store: QueueStore, id: string, canister: (() => Promise<ForeverCanister | null>) | null): Promise<void> {
  const item = await store.get(id);
  if (!item) return;
  // Removed first, so a drain running it stops at its next write; then the session it had is freed.
  await store.remove(id);
  if (item.sessionId === null || !canister) return;
  const c = await canister().catch(() => null);
  // Any failure is fine here: a session nobody uses expires on the canister by itself.
  await c?.cancelUpload(item.sessionId).catch(() => undefined);
}
