// Pure modules of the upload engine: state machine, backoff, circuit breaker,
// speed/ETA, chunk arithmetic, error classification.
import { describe, expect, it } from 'vitest';
import { backoffDelay, canRetry, DEFAULT_BACKOFF } from '../../src/lib/upload/core/full-jitter-backoff';
import { chunkCount, chunkRange, missingChunks } from '../../src/lib/upload/core/chunks';
import { CircuitBreaker } from '../../src/lib/upload/core/circuit-breaker';
import { AuthRequiredError, CanisterError, classifyError, HttpStatusError, userMessage } from '../../src/lib/upload/core/errors';
import { Drainer, LocalLock } from '../../src/lib/upload/runtime/drainer';
import type { DrainReport, UploadEngine } from '../../src/lib/upload/runtime/engine';
import { InvalidTransitionError, transition, type MachineState } from '../../src/lib/upload/core/machine';
import { eta, receivedBytes, SpeedMeter } from '../../src/lib/upload/core/progress';
import { checkQuota, requestPersistence, StorageQuotaError } from '../../src/lib/upload/adapters/browser-storage';
import { EmptyFileError, FileTooLargeError, memoryTypeFor, newQueueItem } from '../../src/lib/upload/core/queue-item';

const at = (state: MachineState['state'], resumeAt: MachineState['resumeAt'] = null): MachineState => ({ state, resumeAt });

describe('state machine', () => {
  it('walks the happy path queued → recorded', () => {
    let s = transition(at('queued'), { type: 'start', hashed: false });
    expect(s.state).toBe('hashing');
    for (const [event, next] of [
      ['hashed', 'metadata'],
      ['metadata-stored', 'uploading'],
      ['chunks-done', 'committing'],
      ['committed', 'verifying'],
      ['verified', 'recorded'],
    ] as const) {
      s = transition(s, { type: event });
      expect(s.state).toBe(next);
    }
  });

  it('skips hashing when the hash is known, and AlreadyExists jumps to verifying', () => {
    expect(transition(at('queued'), { type: 'start', hashed: true }).state).toBe('metadata');
    expect(transition(at('uploading'), { type: 'already-exists' }).state).toBe('verifying');
    expect(transition(at('committing'), { type: 'already-exists' }).state).toBe('verifying');
  });

  it('returns to the interrupted phase after waiting-retry and needs-sign-in', () => {
    const waiting = transition(at('committing'), { type: 'transient-error' });
    expect(waiting).toEqual({ state: 'waiting-retry', resumeAt: 'committing' });
    expect(transition(waiting, { type: 'retry-due' })).toEqual({ state: 'committing', resumeAt: null });
    const parked = transition(waiting, { type: 'auth-required' });
    expect(parked).toEqual({ state: 'needs-sign-in', resumeAt: 'committing' });
    expect(transition(parked, { type: 'signed-in' }).state).toBe('committing');
    expect(transition(transition(at('queued'), { type: 'auth-required' }), { type: 'signed-in' }).state).toBe('queued');
  });

  it('a lost session goes back to uploading', () => {
    expect(transition(at('committing'), { type: 'session-lost' }).state).toBe('uploading');
  });

  it('refuses transitions that make no sense', () => {
    expect(() => transition(at('recorded'), { type: 'transient-error' })).toThrow(InvalidTransitionError);
    expect(() => transition(at('queued'), { type: 'committed' })).toThrow(InvalidTransitionError);
    expect(() => transition(at('failed'), { type: 'retry-due' })).toThrow(InvalidTransitionError);
    expect(transition(at('failed'), { type: 'reset' }).state).toBe('queued');
  });
});

describe('backoff with full jitter', () => {
  const policy = { baseMs: 100, capMs: 1_000, maxAttempts: 4 };
  it('draws uniformly below min(cap, base·2^n)', () => {
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(5000, policy, () => 0.5)).toBe(500);
    expect(backoffDelay(2, policy, () => 0)).toBe(0);
  });
  it('rejects bad attempts and stops after maxAttempts', () => {
    expect(() => backoffDelay(-1, policy)).toThrow(RangeError);
    expect(canRetry(3, policy)).toBe(true);
    expect(canRetry(4, policy)).toBe(false);
    expect(canRetry(DEFAULT_BACKOFF.maxAttempts - 1)).toBe(true);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, lets one probe through when half-open, closes on success', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1_000 });
    for (let i = 0; i < 2; i++) b.failure(0);
    expect(b.state(0)).toBe('closed');
    b.failure(10);
    expect(b.state(10)).toBe('open');
    expect(b.allow(500)).toBe(false);
    expect(b.retryAt(500)).toBe(1_010);
    expect(b.state(1_010)).toBe('half-open');
    expect(b.allow(1_010)).toBe(true);
    expect(b.allow(1_011)).toBe(false);
    b.failure(1_020);
    expect(b.state(1_500)).toBe('open');
    expect(b.allow(2_020)).toBe(true);
    b.success();
    expect(b.state(2_021)).toBe('closed');
    expect(b.allow(2_021)).toBe(true);
  });
});

describe('progress', () => {
  it('measures speed over a sliding window and derives the ETA', () => {
    const m = new SpeedMeter(1_000);
    m.add(0, 0);
    m.add(500, 1_000);
    m.add(1_000, 1_000);
    expect(m.speed(1_000)).toBe(2_000);
    m.add(3_000, 1_000);
    // The window now spans 1 000 → 3 000 ms with 1 000 bytes in it.
    expect(m.speed(3_000)).toBe(500);
    expect(eta(1_000, 500)).toBe(2);
    expect(eta(1_000, 0)).toBeNull();
    expect(eta(0, 0)).toBe(0);
  });
  it('counts the short last chunk', () => {
    expect(receivedBytes([0, 2], 2_500, 1_000)).toBe(1_500);
  });
});

describe('chunks', () => {
  it('splits sizes into chunk ranges and lists the missing ones', () => {
    expect(chunkCount(0, 10)).toBe(1);
    expect(chunkCount(10, 10)).toBe(1);
    expect(chunkCount(11, 10)).toBe(2);
    expect(chunkRange(1, 15, 10)).toEqual([10, 15]);
    expect(missingChunks(5, [0, 3])).toEqual([1, 2, 4]);
    expect(() => chunkCount(-1, 10)).toThrow(RangeError);
  });
});

describe('error classification', () => {
  const agentReject = (rejectCode: number, rejectMessage = 'x') =>
    Object.assign(new Error(rejectMessage), { kind: 'Reject', cause: { kind: 'Reject', code: { rejectCode, rejectMessage } } });
  const agentHttp = (status: number, message = 'http') => Object.assign(new Error(message), { kind: 'Protocol', cause: { kind: 'Protocol', code: { status } } });

  it('canister errors: only capacity/expiry/internal ones are transient', () => {
    for (const code of ['Unauthorized', 'NotFound', 'InvalidHash', 'InvalidArgument', 'QuotaExceeded'] as const) {
      expect(classifyError(new CanisterError(code)).category).toBe('permanent');
    }
    for (const code of ['TooManyUploads', 'UploadExpired', 'Internal'] as const) {
      expect(classifyError(new CanisterError(code)).category).toBe('transient');
    }
  });
  it('network, 5xx, 429 and IC transient rejects are transient; 4xx and other rejects are not', () => {
    expect(classifyError(new TypeError('Failed to fetch')).code).toBe('Network');
    expect(classifyError(Object.assign(new Error('boom'), { kind: 'Transport', cause: { kind: 'Transport', code: {} } })).category).toBe('transient');
    expect(classifyError(agentHttp(503)).category).toBe('transient');
    expect(classifyError(agentHttp(429)).category).toBe('transient');
    expect(classifyError(agentHttp(400)).category).toBe('permanent');
    expect(classifyError(agentReject(2)).code).toBe('IcTransient');
    expect(classifyError(agentReject(5)).category).toBe('permanent');
    expect(classifyError(new HttpStatusError(502, 'bad gateway')).category).toBe('transient');
    expect(classifyError(new HttpStatusError(409, 'conflict')).category).toBe('permanent');
  });
  it('a canister stopped or stopping for an upgrade is transient; a trap is not', () => {
    const reject = (rejectErrorCode: string, rejectMessage: string) =>
      Object.assign(new Error(`Call was rejected: ${rejectMessage}`), { kind: 'Reject', cause: { kind: 'Reject', code: { rejectCode: 5, rejectMessage, rejectErrorCode } } });
    expect(classifyError(reject('IC0508', 'Canister bkyz2-fmaaa-aaaaa-qaaaq-cai is stopped'))).toMatchObject({ category: 'transient', code: 'CanisterStopped' });
    expect(classifyError(reject('IC0509', 'Canister bkyz2-fmaaa-aaaaa-qaaaq-cai is stopping'))).toMatchObject({ category: 'transient', code: 'CanisterStopped' });
    expect(classifyError(reject('IC0503', 'Canister bkyz2-fmaaa-aaaaa-qaaaq-cai trapped: boom')).category).toBe('permanent');
  });
  it('a missing or expired identity asks for sign-in', () => {
    expect(classifyError(new AuthRequiredError('no delegation')).category).toBe('auth');
    expect(classifyError(new HttpStatusError(401, 'no session')).category).toBe('auth');
    expect(classifyError(agentHttp(400, 'Invalid delegation: delegation expired at 2026')).category).toBe('auth');
  });
});

describe('memory type from a file', () => {
  it('maps MIME families', () => {
    expect(memoryTypeFor('image/jpeg')).toBe('Image');
    expect(memoryTypeFor('video/mp4')).toBe('Video');
    expect(memoryTypeFor('audio/ogg')).toBe('Audio');
    expect(memoryTypeFor('application/pdf')).toBe('Document');
    expect(memoryTypeFor('')).toBe('Document');
  });
});

describe('enqueue checks', () => {
  it('refuses empty and oversized files with typed errors', () => {
    expect(() => newQueueItem({ blob: new Blob([]), name: 'empty.txt' })).toThrow(EmptyFileError);
    const big = { size: 100 * 1024 * 1024 + 1, type: '' } as Blob;
    expect(() => newQueueItem({ blob: big, name: 'big.bin' })).toThrow(FileTooLargeError);
    const item = newQueueItem({ blob: new Blob(['hi'], { type: 'text/plain' }), name: 'a.txt' });
    expect(item).toMatchObject({ state: 'queued', size: 2, memoryType: 'Document', owner: null, sha256: null, chunkCount: 1 });
    expect(item.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('checks the storage quota before queueing and reports a refused persistence request', async () => {
    await expect(checkQuota({ estimate: async () => ({ usage: 900, quota: 1_000 }) }, 10)).rejects.toBeInstanceOf(StorageQuotaError);
    await expect(checkQuota({ estimate: async () => ({ usage: 0, quota: 1e10 }) }, 10)).resolves.toBeUndefined();
    await expect(checkQuota(undefined, 10)).resolves.toBeUndefined();
    expect(await requestPersistence({ persisted: async () => false, persist: async () => false })).toBe('refused');
    expect(await requestPersistence({ persisted: async () => true, persist: async () => false })).toBe('persisted');
    expect(await requestPersistence(undefined)).toBe('unsupported');
  });
});

describe('user messages', () => {
  it('says what happened and what happens next, per category', () => {
    expect(userMessage({ category: 'auth', code: 'DelegationExpired' })).toMatch(/sign in again/);
    expect(userMessage({ category: 'transient', code: 'Network' })).toMatch(/retries on its own/);
    expect(userMessage({ category: 'permanent', code: 'QuotaExceeded' })).toMatch(/full/);
    expect(userMessage({ category: 'permanent', code: 'Http409' })).toMatch(/will not be retried/);
  });
});

describe('drainer', () => {
  it('joins concurrent requests into the running drain plus one more pass, one at a time', async () => {
    let running = 0;
    let peak = 0;
    let drains = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const report: DrainReport = { recorded: [], failed: [], waiting: [], parked: [], nextWakeAt: null, phases: { hashing: 0, metadata: 0, uploading: 0, committing: 0, verifying: 0 } };
    const engine = {
      drain: async () => {
        running += 1;
        peak = Math.max(peak, running);
        drains += 1;
        if (drains === 1) await gate;
        running -= 1;
        return report;
      },
    } as unknown as UploadEngine;
    const d = new Drainer(async () => engine, new LocalLock());
    const a = d.request();
    const b = d.request();
    const c = d.request();
    expect(d.busy).toBe(true);
    release();
    await Promise.all([a, b, c]);
    expect(drains).toBe(2);
    expect(peak).toBe(1);
    expect(d.busy).toBe(false);
  });
});
