// The pure parts of the product flow: what the contract refuses before
// anything is queued, the Web2 and Store Forever routes of the state machine,
// and the plain words a queue item is shown in.
import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, TEXT_LIMITS, utf8Length } from '../../contract';
import { describeItem, failureReason } from '../../src/lib/upload/core/describe-item';
import { CanisterError, classifyError, HttpStatusError } from '../../src/lib/upload/core/errors';
import { InvalidTransitionError, transition } from '../../src/lib/upload/core/machine';
import { newQueueItem, serverSourcedItem } from '../../src/lib/upload/core/queue-item';
import type { QueueItem } from '../../src/lib/upload/core/types';
import { fileProblem, noteFileName, noteProblem, titleProblem } from '../../src/lib/upload/core/validate';

const base = (patch: Partial<QueueItem> = {}): QueueItem => ({ ...newQueueItem({ blob: new Blob(['hello']), name: 'a.txt', now: 1 }), ...patch });

describe('validation before queueing', () => {
  it('refuses what the contract refuses, naming the cause', () => {
    expect(fileProblem({ name: 'a.txt', size: 0 })).toMatch(/empty/);
    expect(fileProblem({ name: 'a.bin', size: MAX_FILE_BYTES + 1 })).toMatch(/104857601 bytes, more than the 104857600/);
    expect(fileProblem({ name: 'a.bin', size: MAX_FILE_BYTES })).toBeNull();
    const name255 = `${'€'.repeat(84)}abc`; // 84 × 3 + 3 = 255 bytes
    expect(utf8Length(name255)).toBe(TEXT_LIMITS.fileName);
    expect(fileProblem({ name: name255, size: 1 })).toBeNull();
    expect(fileProblem({ name: `${name255}d`, size: 1 })).toBe('the file name is longer than 255 bytes (it has 256)');
    expect(fileProblem({ name: 'a.txt', size: 1 }, '😀'.repeat(128))).toBeNull(); // 512 bytes
    expect(fileProblem({ name: 'a.txt', size: 1 }, `${'😀'.repeat(128)}!`)).toBe('title is longer than 512 bytes (it has 513)');
    expect(titleProblem('x'.repeat(600))).toMatch(/^title is longer than 512 bytes/);
    expect(noteProblem('', 'text')).toMatch(/title/);
    expect(noteProblem('t', '')).toMatch(/empty/);
    expect(noteProblem('t', 'text')).toBeNull();
  });

  it('names a note’s file after its title, safe and within the name limit', () => {
    expect(noteFileName('Shopping / list')).toBe('Shopping   list.md');
    const long = noteFileName('é'.repeat(400));
    expect(utf8Length(long)).toBeLessThanOrEqual(TEXT_LIMITS.fileName);
    expect(long.endsWith('.md')).toBe(true);
  });
});

describe('state machine: Web2 and Store Forever routes', () => {
  const at = (state: QueueItem['state'], resumeAt: QueueItem['resumeAt'] = null) => ({ state, resumeAt });

  it('goes through the server first, then to the canister or ends Web2-only', () => {
    expect(transition(at('hashing'), { type: 'hashed', web2: true, forever: true }).state).toBe('web2-metadata');
    expect(transition(at('web2-metadata'), { type: 'web2-metadata-stored' }).state).toBe('web2-upload');
    expect(transition(at('web2-upload'), { type: 'web2-uploaded' }).state).toBe('thumbnail');
    expect(transition(at('thumbnail'), { type: 'thumbnail-done', forever: true, confirm: false }).state).toBe('metadata');
    expect(transition(at('thumbnail'), { type: 'thumbnail-done', forever: false, confirm: false }).state).toBe('saved');
    expect(transition(at('thumbnail'), { type: 'thumbnail-done', forever: false, confirm: true }).state).toBe('web2-confirm');
    expect(transition(at('verifying'), { type: 'verified', confirm: true }).state).toBe('web2-confirm');
    expect(transition(at('web2-confirm'), { type: 'web2-confirmed', forever: true }).state).toBe('recorded');
    expect(transition(at('web2-confirm'), { type: 'web2-resend' }).state).toBe('web2-upload');
    // Without a server the route is the canister's alone, as before.
    expect(transition(at('hashing'), { type: 'hashed' }).state).toBe('metadata');
  });

  it('stores a saved memory forever later, from the queue or from the blob copy', () => {
    expect(transition(at('saved'), { type: 'store-forever' })).toEqual({ state: 'metadata', resumeAt: null });
    expect(() => transition(at('recorded'), { type: 'store-forever' })).toThrow(InvalidTransitionError);
    expect(transition(at('queued'), { type: 'start', hashed: false, fetch: true }).state).toBe('fetching');
    expect(transition(at('fetching'), { type: 'fetched' }).state).toBe('hashing');
    // A wait for the server's retry queue comes back to where it was.
    const waiting = transition(at('web2-confirm'), { type: 'transient-error' });
    expect(waiting).toEqual({ state: 'waiting-retry', resumeAt: 'web2-confirm' });
    expect(transition(waiting, { type: 'retry-due' }).state).toBe('web2-confirm');
  });

  it('builds the item that reads a Web2-only memory back from the server, with the hash it must have', () => {
    const item = serverSourcedItem({ id: '01a23328-5fab-717d-9bda-b7b4943bb29f', sha256: 'ab'.repeat(32), size: 10, name: 'a.jpg', mimeType: 'image/jpeg', memoryType: 'Image', title: 'A', owner: 'p' });
    expect(item).toMatchObject({ state: 'queued', hasBytes: false, source: 'server', expectedSha256: 'ab'.repeat(32), storeForever: true, web2: null, sha256: null });
  });
});

describe('describeItem: plain words', () => {
  it('says where an item is, never with a state name', () => {
    expect(describeItem(base()).label).toBe('Waiting to upload');
    expect(describeItem(base({ state: 'hashing' })).label).toBe('Preparing…');
    expect(describeItem(base({ state: 'web2-upload' })).label).toBe('Saving to Web2');
    expect(describeItem(base({ state: 'saved' }))).toMatchObject({ label: 'Saved (Web2 only)', tone: 'web2' });
    expect(describeItem(base({ state: 'web2-confirm', web2: { memory: true, blob: 'pending_retry', queueId: 'q', thumbnail: 'none' } })).label).toBe('Saved, will retry');
    expect(describeItem(base({ state: 'waiting-retry', lastError: { category: 'transient', code: 'Web2Pending', message: 'm', at: 1 } })).label).toBe('Saved, will retry');
    const uploading = base({ state: 'uploading', chunkCount: 10, receivedChunks: [0, 1, 2, 3] });
    expect(describeItem(uploading)).toMatchObject({ label: 'Storing forever 40%', percent: 40, tone: 'active' });
    expect(describeItem(uploading, { id: uploading.id, state: 'uploading', bytesSent: 42, totalBytes: 100, chunksSent: 4, totalChunks: 10, speed: 1, etaSeconds: 1, hashed: 1 }).label).toBe('Storing forever 42%');
    expect(describeItem(base({ state: 'verifying' })).label).toBe('Verifying');
    expect(describeItem(base({ state: 'recorded' }))).toMatchObject({ label: 'Stored forever', tone: 'stored' });
    expect(describeItem(base({ state: 'waiting-retry', lastError: { category: 'transient', code: 'Http5xx', message: 'm', at: 1 } })).label).toBe('Waiting to retry');
    expect(describeItem(base({ state: 'waiting-retry', lastError: { category: 'transient', code: 'Network', message: 'm', at: 1 } })).label).toBe('Offline — will continue');
    expect(describeItem(base({ state: 'needs-sign-in' }))).toMatchObject({ label: 'Sign in to continue', tone: 'signin' });
  });

  it('gives the real reason of a failure: the canister’s InvalidArgument text, the server’s error.message', () => {
    const canister = classifyError(new CanisterError('InvalidArgument', 'title is longer than 512 bytes'));
    expect(describeItem(base({ state: 'failed', lastError: { ...canister, at: 1 } })).label).toBe('Failed: title is longer than 512 bytes');
    const server = classifyError(new HttpStatusError(400, 'memory: 400 INVALID_ARGUMENT title too long', 'INVALID_ARGUMENT', 'title is longer than 512 bytes'));
    expect(describeItem(base({ state: 'failed', lastError: { ...server, at: 1 } })).label).toBe('Failed: title is longer than 512 bytes');
    // Without words from the refuser, one sentence per code.
    expect(failureReason({ category: 'permanent', code: 'QuotaExceeded' })).toMatch(/full/);
  });

  it('clears the error text once progress resumes', () => {
    const lastError = { category: 'transient' as const, code: 'Http5xx', message: 'server error', reason: 'the database is down', at: 1 };
    expect(describeItem(base({ state: 'waiting-retry', lastError })).detail).toBe('the database is down');
    expect(describeItem(base({ state: 'uploading', lastError, chunkCount: 2, receivedChunks: [0] })).detail).toBeNull();
  });
});
