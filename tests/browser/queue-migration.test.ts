// The upload queue's version 1 → 2 upgrade in Chromium's IndexedDB: a file
// queued by the previous release (its Blob inside the item record) must
// survive the app's first load of the new release, its bytes moved intact to
// the `bytes` store. The Node suite (tests/client/queue-store.test.ts) runs the
// same upgrade on fake-indexeddb; this one runs it on the real thing, through
// the app as shipped (the page opens the queue before it reports ready).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startAppStack } from './support/app-stack';
import { browserSuite } from './support/browser-suite';
import { openApp } from './support/upload-page';

const BYTES = randomBytes(300_000);
const ITEM_ID = '01930000-0000-7000-8000-000000000001';

// The app on one origin, and an empty page of that origin on which to write
// the old database before any app code runs (every other path serves the app).
const suite = browserSuite(() => startAppStack((root) => root.get('/test-blank', (c) => c.html('<!doctype html><title>blank</title>'))), { browser: 'per-test' });

describe('upload queue migration (Chromium)', () => {
  it('moves a version-1 item’s Blob to the bytes store when the app first opens the queue', async () => {
    const { origin } = suite.stack;
    const page = await suite.browser.context.newPage();
    await page.goto(`${origin}/test-blank`);
    // The version-1 schema as released: items (with the Blob), its indexes, meta; no bytes store.
    await page.evaluate(
      async ({ id, bytes }) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const req = indexedDB.open('forever-upload-queue', 1);
          req.onupgradeneeded = () => {
            const items = req.result.createObjectStore('items', { keyPath: 'id' });
            items.createIndex('by-state', 'state');
            items.createIndex('by-created', 'createdAt');
            items.createIndex('by-sha256', 'sha256');
            req.result.createObjectStore('meta');
          };
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        const now = Date.now();
        const record = {
          id,
          idempotencyKey: `${id}-key`,
          owner: null,
          blob: new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }),
          name: 'old.bin',
          mimeType: 'application/octet-stream',
          size: bytes.length,
          memoryType: 'Document',
          metadata: { title: 'old.bin' },
          chunkSize: 1024 * 1024,
          chunkCount: 1,
          sha256: null,
          sessionId: null,
          receivedChunks: [],
          chunkPuts: 0,
          state: 'queued',
          resumeAt: null,
          attempts: 0,
          nextRetryAt: null,
          lastError: null,
          createdAt: now,
          updatedAt: now,
          committedAt: null,
          duplicateOf: null,
        };
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction('items', 'readwrite');
          tx.objectStore('items').put(record);
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
        db.close();
      },
      { id: ITEM_ID, bytes: [...BYTES] },
    );

    // The app opens (and so upgrades) the queue before it reports ready. Not
    // signed in, so the drain parks the item and keeps its bytes.
    await openApp(page, origin);
    const after = await page.evaluate(async (id) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('forever-upload-queue');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const get = <T,>(store: string) =>
        new Promise<T | undefined>((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).get(id);
          req.onsuccess = () => resolve(req.result as T | undefined);
          req.onerror = () => reject(req.error);
        });
      const record = await get<Record<string, unknown>>('items');
      const blob = await get<Blob>('bytes');
      const digest = blob ? new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())) : null;
      const result = {
        version: db.version,
        stores: [...db.objectStoreNames],
        recordKeys: record ? Object.keys(record) : null,
        recordHoldsBlob: record ? Object.values(record).some((v) => v instanceof Blob) : null,
        hasBytes: record?.hasBytes,
        name: record?.name,
        bytesIsBlob: blob instanceof Blob,
        bytesSize: blob?.size ?? null,
        bytesType: blob?.type ?? null,
        sha256: digest ? Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') : null,
      };
      db.close();
      return result;
    }, ITEM_ID);

    expect(after.version).toBe(2);
    expect(after.stores.sort()).toEqual(['bytes', 'items', 'meta']);
    expect(after.recordKeys).not.toBeNull();
    expect(after.recordKeys).not.toContain('blob');
    expect(after.recordHoldsBlob).toBe(false);
    expect(after).toMatchObject({ hasBytes: true, name: 'old.bin', bytesIsBlob: true, bytesSize: BYTES.length, bytesType: 'application/octet-stream' });
    expect(after.sha256).toBe(createHash('sha256').update(BYTES).digest('hex'));
    // The page lists the migrated item.
    await page.waitForSelector('[data-testid=item]');
    await page.close();
  });
});
