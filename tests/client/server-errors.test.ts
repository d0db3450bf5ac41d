// What the Forever server's refusals mean for an item: only UNAUTHENTICATED
// (401) is about the session; a 403 (quota, CSRF check) is not cured by
// signing in again, so it must not park the item for sign-in (where it would
// loop between sign-in and the same refusal).
import { describe, expect, it } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { classifyError, HttpStatusError, userMessage } from '../../src/lib/upload/core/errors';
import { ServerApi as ServerEdgeRecorder } from '../../src/lib/upload/adapters/server-api';
import { FakeCanister } from './support/fake-canister';
import { freshStore, makeEngine, randomBlob } from './support/engine-harness';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const apiError = (status: number, code: string, message = 'refused') => json(status, { error: { code, message } });

/** A server double answering each route from a table; records every request path. */
function serverDouble(answer: (method: string, path: string) => Response) {
  const requests: string[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const path = new URL(String(input)).pathname;
    const method = init?.method ?? 'GET';
    requests.push(`${method} ${path}`);
    return answer(method, path);
  };
  return { requests, fetchFn };
}

const memory = { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', memoryType: 'Image' as const, title: 't', description: null };

describe('server error codes', () => {
  it('classifies by the server code: UNAUTHENTICATED asks for sign-in, quota and FORBIDDEN are permanent', () => {
    expect(classifyError(new HttpStatusError(401, 'memory: 401 UNAUTHENTICATED', 'UNAUTHENTICATED'))).toMatchObject({ category: 'auth' });
    expect(classifyError(new HttpStatusError(403, 'storage edges: 403 STORAGE_QUOTA_EXCEEDED', 'STORAGE_QUOTA_EXCEEDED'))).toMatchObject({
      category: 'permanent',
      code: 'StorageQuotaExceeded',
    });
    expect(classifyError(new HttpStatusError(403, 'memory: 403 FORBIDDEN', 'FORBIDDEN'))).toMatchObject({ category: 'permanent', code: 'Forbidden' });
    // A 403 without a code (a proxy, an old server) is not a session problem either.
    expect(classifyError(new HttpStatusError(403, 'forbidden'))).toMatchObject({ category: 'permanent', code: 'Http403' });
    expect(userMessage({ category: 'permanent', code: 'StorageQuotaExceeded' })).toMatch(/Forever storage quota/);
  });

  it('the recorder passes the server code on and signs in only for a 401', async () => {
    const quota = serverDouble((_m, path) => (path.startsWith('/api/memories/') ? json(200, {}) : apiError(403, 'STORAGE_QUOTA_EXCEEDED', 'storage quota reached')));
    const recorder = new ServerEdgeRecorder({ baseUrl: 'http://server.test', canister: new FakeCanister(), fetch: quota.fetchFn });
    const err = await recorder.record(memory, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err).toMatchObject({ status: 403, code: 'STORAGE_QUOTA_EXCEEDED' });
    expect(quota.requests).toEqual([`PUT /api/memories/${memory.id}`, 'PUT /api/storage/edges']);

    // A 401 UNAUTHENTICATED: one sign-in, then the request again.
    let signedIn = false;
    const canister = new FakeCanister();
    const session = serverDouble((method, path) => {
      if (path === '/api/auth/challenge') return json(200, { nonce: 'n1' });
      if (path === '/api/auth/verify') {
        signedIn = true;
        return json(200, {});
      }
      return signedIn ? json(200, {}) : apiError(401, 'UNAUTHENTICATED', 'sign in first');
    });
    await new ServerEdgeRecorder({ baseUrl: 'http://server.test', canister, fetch: session.fetchFn }).record(memory, []);
    expect(session.requests.slice(0, 4)).toEqual([`PUT /api/memories/${memory.id}`, 'GET /api/auth/challenge', 'POST /api/auth/verify', `PUT /api/memories/${memory.id}`]);
    expect(canister.calls.map((c) => c.method)).toEqual(['provePrincipal']);
  });

  it('an item refused for quota fails with a clear, permanent error instead of waiting for a sign-in', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const recorder = { record: async () => Promise.reject(new HttpStatusError(403, 'storage edges: 403 STORAGE_QUOTA_EXCEEDED storage quota reached', 'STORAGE_QUOTA_EXCEEDED')) };
    const item = await enqueue(store, { blob: randomBlob(1000), name: 'x.bin' });
    const first = await makeEngine({ store, canister, recorder }).drain();
    expect(first.failed).toEqual([item.id]);
    expect(first.parked).toEqual([]);
    expect(await store.get(item.id)).toMatchObject({ state: 'failed', lastError: { category: 'permanent', code: 'StorageQuotaExceeded' } });
    // A later drain (e.g. after the next sign-in) does not pick it up again.
    expect((await makeEngine({ store, canister, recorder }).drain()).failed).toEqual([]);
    store.close();
  });
});
