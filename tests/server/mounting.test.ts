// server/main.ts mounts the IC HTTP interface (/api/v2/*, /api/v3/*) on the
// same Hono app: the server's middleware (session, CSRF, logging) must leave
// those paths alone, and /metrics must expose the server's metric families.
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/database.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(ENGINES)('app composition on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('leaves /api/v2 and /api/v3 to the IC interface mounted beside it', async () => {
    const ic = new Hono();
    ic.post('/canister/:id/call', (c) => c.body(new Uint8Array([0xd9, 0xd9, 0xf7]), 202, { 'content-type': 'application/cbor' }));
    ic.get('/status', (c) => c.text('status'));
    s.app.route('/api/v2', ic);
    s.app.route('/api/v3', ic);
    const call = await s.app.request('/api/v3/canister/aaaaa-aa/call', {
      method: 'POST',
      headers: { 'content-type': 'application/cbor', origin: 'http://elsewhere.example' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(call.status).toBe(202);
    expect(call.headers.get('content-type')).toBe('application/cbor');
    expect(await (await s.app.request('/api/v2/status')).text()).toBe('status');
    expect(await (await s.request('/healthz')).json()).toMatchObject({ status: 'ok' });
  });

  it('answers unknown routes with a typed 404', async () => {
    const r = await s.request('/api/nope');
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for GET /api/nope' } });
  });

  it('exposes the server metrics in Prometheus text format', async () => {
    const r = await s.request('/metrics');
    expect(r.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await r.text();
    for (const family of [
      'storage_upload_success_total counter',
      'storage_upload_failure_total counter',
      'storage_queue_processed_total counter',
      'quota_exceeded_total counter',
      'storage_queue_depth gauge',
      'storage_usage_bytes gauge',
    ]) {
      expect(text).toContain(`# TYPE ${family}`);
    }
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });
});
