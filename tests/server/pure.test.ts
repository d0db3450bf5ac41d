// Pure modules: backoff schedule, storage status rules, metrics text format,
// log redaction, request schemas.
import { MAX_FILE_BYTES, TEXT_LIMITS } from '../../contract/index.js';
import { describeIssues } from '../../server/http/validate.js';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, planAfterFailure } from '../../server/blob-copy/equal-jitter-backoff.js';
import { completePercentage, galleryStatus, memoryStatus } from '../../server/services/presence-status.js';
import { MetricsRegistry } from '../../server/metrics.js';
import { createJsonLogger, redact } from '../../server/logging.js';
import { edgeInput, memoryInput, uuid } from '../../server/schemas.js';
import { resolveQueueConfig, serverConfigFromEnv } from '../../server/config.js';
import { buildWarnings } from '../../scripts/app-build.js';

describe('backoff', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 10_000, maxRetries: 5 };
  it('doubles per retry, caps, and jitters within [half, full]', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect([1, 2, 3].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([500, 1000, 2000]);
    expect(backoffDelayMs(1000, policy, () => 1)).toBe(10_000);
    expect(() => backoffDelayMs(0, policy, () => 0)).toThrow(RangeError);
  });
  it('plans a retry until max_retries, then exhaustion', () => {
    const now = new Date(0);
    expect(planAfterFailure(0, 3, now, policy, () => 1)).toEqual({ kind: 'retry', retryCount: 1, nextRetryAt: new Date(2000) });
    expect(planAfterFailure(1, 3, now, policy, () => 1)).toEqual({ kind: 'retry', retryCount: 2, nextRetryAt: new Date(4000) });
    expect(planAfterFailure(2, 3, now, policy, () => 1)).toEqual({ kind: 'exhausted', retryCount: 3 });
  });
});

describe('storage status', () => {
  const m = (meta_icp: boolean, asset_icp: boolean, memory_type: 'image' | 'note' = 'image') => ({
    memory_type,
    meta_neon: true,
    asset_blob: false,
    meta_icp,
    asset_icp,
  });
  it('classifies memories', () => {
    expect(memoryStatus(m(true, true))).toBe('stored_forever');
    expect(memoryStatus(m(true, false))).toBe('partially_stored');
    expect(memoryStatus(m(false, true))).toBe('partially_stored');
    expect(memoryStatus(m(false, false))).toBe('web2_only');
    expect(memoryStatus(m(true, false, 'note'))).toBe('stored_forever');
  });
  it('classifies galleries and rounds the percentage down', () => {
    expect(galleryStatus(0, 0, 0)).toBe('web2_only');
    expect(galleryStatus(3, 3, 3)).toBe('stored_forever');
    expect(galleryStatus(3, 0, 1)).toBe('partially_stored');
    expect(galleryStatus(3, 0, 0)).toBe('web2_only');
    expect(completePercentage(1000, 999)).toBe(99);
    expect(completePercentage(0, 0)).toBe(0);
    expect(completePercentage(3, 1)).toBe(33);
  });
});

describe('metrics text format', () => {
  it('renders counters with escaped labels and collected gauges', async () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_total', 'Things.');
    c.inc({ b: 'q"1', a: 'z' });
    c.inc({ a: 'z', b: 'q"1' }, 2);
    r.gauge('depth', 'Depth.', async () => [{ value: 7 }]);
    const text = await r.render();
    expect(text).toBe('# HELP x_total Things.\n# TYPE x_total counter\nx_total{a="z",b="q\\"1"} 3\n# HELP depth Depth.\n# TYPE depth gauge\ndepth 7\n');
  });
});

describe('logging', () => {
  it('drops contents, temp paths and secrets', () => {
    expect(
      redact({ queue_id: 'q', temp_file_path: '/tmp/x', bytes: new Uint8Array(3), token: 't', nonce: 'n', cookie: 'c', content: 'secret', byte_size: 3 }),
    ).toEqual({ queue_id: 'q', byte_size: 3 });
    const lines: string[] = [];
    createJsonLogger({ write: (l) => lines.push(l) }).child({ req: 1 }).info('E', { body: 'file', ok: true });
    const parsed = JSON.parse(lines[0]);
    expect(parsed).toMatchObject({ level: 'info', event: 'E', req: 1, ok: true });
    expect(parsed.body).toBeUndefined();
  });
});

describe('schemas', () => {
  it('accepts only lowercase UUIDs', () => {
    expect(uuid.safeParse('01234567-89ab-7def-8123-456789abcdef').success).toBe(true);
    expect(uuid.safeParse('01234567-89AB-7DEF-8123-456789ABCDEF').success).toBe(false);
    expect(uuid.safeParse('0123456789ab7def8123456789abcdef').success).toBe(false);
  });
  it('bounds edge sizes', () => {
    const base = { memory_id: '01234567-89ab-7def-8123-456789abcdef', artifact: 'asset', backend: 'blob', present: true };
    expect(edgeInput.safeParse({ ...base, size: MAX_FILE_BYTES }).success).toBe(true);
    expect(edgeInput.safeParse({ ...base, size: MAX_FILE_BYTES + 1 }).success).toBe(false);
    expect(edgeInput.safeParse({ ...base, size: -1 }).success).toBe(false);
  });
});

describe('configuration from the environment', () => {
  const defaults = { icHost: 'http://127.0.0.1:4943', canisterId: 'bkyz2-fmaaa-aaaaa-qaaaq-cai' };
  it('reads DATA_DIR, DATABASE_URL, IC settings, quotas and queue settings', () => {
    const c = serverConfigFromEnv(
      { DATA_DIR: '/tmp/d', DATABASE_URL: 'postgres://x/y', QUOTA_MAX_BYTES: '100', UPLOAD_QUEUE_MAX_RETRIES: '7', CANISTER_ID: 'aaaaa-aa' },
      defaults,
    );
    expect(c).toMatchObject({ dataDir: '/tmp/d', databaseUrl: 'postgres://x/y', icHost: defaults.icHost, canisterId: 'aaaaa-aa', fetchRootKey: true });
    expect(c.quotas).toMatchObject({ maxBytes: 100 });
    expect(resolveQueueConfig(c)).toMatchObject({ dir: '/tmp/d/upload-queue', maxRetries: 7, enabled: true });
    expect(serverConfigFromEnv({ IC_HOST: 'https://icp0.io' }, defaults).fetchRootKey).toBe(false);
    // Only a host on this machine may hand us its root key; mainnet's is built into the agent.
    for (const host of ['https://icp-api.io', 'https://ic0.app', 'http://192.168.1.5:4943', 'http://127.example.com', 'not a url']) {
      expect(serverConfigFromEnv({ IC_HOST: host }, defaults).fetchRootKey, host).toBe(false);
    }
    for (const host of ['http://localhost:4943', 'http://127.0.0.1:8080', 'http://[::1]:4943', 'http://forever.localhost']) {
      expect(serverConfigFromEnv({ IC_HOST: host }, defaults).fetchRootKey, host).toBe(true);
    }
    expect(serverConfigFromEnv({ IC_HOST: 'https://icp-api.io', IC_FETCH_ROOT_KEY: '1' }, defaults).fetchRootKey).toBe(true);
    expect(serverConfigFromEnv({}, defaults).databaseUrl).toBeUndefined();
  });
  it('rejects malformed numbers', () => {
    expect(() => serverConfigFromEnv({ QUOTA_MAX_BYTES: '-1' }, defaults)).toThrow(/QUOTA_MAX_BYTES/);
    expect(() => serverConfigFromEnv({ QUOTA_MAX_BYTES: '1e99' }, defaults)).toThrow(/QUOTA_MAX_BYTES/);
  });
});

describe('text limits in UTF-8 bytes, from the contract', () => {
  const id = { memory_type: 'image' as const };
  it('counts bytes, not characters, and names the cause', () => {
    expect(memoryInput.safeParse({ ...id, title: 'é'.repeat(TEXT_LIMITS.title / 2) }).success).toBe(true);
    const over = memoryInput.safeParse({ ...id, title: 'é'.repeat(TEXT_LIMITS.title / 2) + 'x' });
    expect(over.success).toBe(false);
    expect(describeIssues(over.error!)).toBe('title is longer than 512 bytes');
    const desc = memoryInput.safeParse({ ...id, description: 'x'.repeat(TEXT_LIMITS.description + 1) });
    expect(describeIssues(desc.error!)).toBe('description is longer than 8192 bytes');
    expect(describeIssues(memoryInput.safeParse({ memory_type: 'gif' }).error!)).toBe('memory_type: must be one of image, video, audio, document, note');
  });
});

describe("npm start's build output", () => {
  // What `vite build` printed on a successful build before the filter (two streams).
  const stdout = [
    'vite v8.3.8 building client environment for production...',
    'transforming...',
    '\u001b[32m✓\u001b[39m 154 modules transformed.',
    'rendering chunks...',
    'computing gzip size...',
    '.svelte-kit/output/client/service-worker.js               267.28 kB │ gzip: 88.55 kB',
    '✓ built in 362ms',
    '',
    'Run \u001b[1m\u001b[36mnpm run preview\u001b[39m\u001b[22m to preview your production build locally.',
    '',
    '> Using @sveltejs/adapter-static',
    '  Wrote site to "build"',
    '  ✔ done',
  ].join('\n');
  const notice = ['\u001b[1m\u001b[33mYour tsconfig.json should extend the configuration generated by SvelteKit:\u001b[39m\u001b[22m', '{', '  "extends": "./.svelte-kit/tsconfig.json"', '}'];
  it('drops progress and the false tsconfig notice, keeps real warnings', () => {
    expect(buildWarnings(stdout, [...notice, ...notice, ...notice].join('\n'))).toEqual([]);
    const warning = '[vite-plugin-svelte] src/routes/+page.svelte:3:2 A11y: <img> element should have an alt attribute';
    expect(buildWarnings(stdout, [...notice, warning].join('\n'))).toEqual([warning]);
  });
});
