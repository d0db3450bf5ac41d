// The whole product as `npm start` serves it: sign in through the local
// development identity provider (the real @dfinity/auth-client popup flow),
// pick a file, and the service worker stores it on the canister and records
// its edges on the server (whose presence check asks the canister).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { browserSuite } from './support/browser-suite';
import { npmStart } from './support/npm-start';
import { item, openApp, pickFile, waitForState } from './support/upload-page';

const suite = browserSuite(npmStart, { browser: 'per-file' });

describe('npm start in Chromium', () => {
  it('signs in with the dev identity provider and stores a file', async () => {
    const { browser, stack: server } = suite;
    const page = await browser.context.newPage();
    expect(await openApp(page, server.origin)).toBe('service-worker');
    const [popup] = await Promise.all([browser.context.waitForEvent('page'), page.click('[data-testid=sign-in]')]);
    await popup.waitForLoadState();
    await popup.fill('input[name=name]', 'Alice');
    await popup.click('#create button[type=submit]');
    await popup.click('#identities button');
    await Promise.all([popup.waitForEvent('close'), popup.click('#continue')]);
    const principal = await page.textContent('[data-testid=principal]');
    expect(principal).toMatch(/^[a-z0-9-]{20,}$/);

    await pickFile(page, 'memory.bin', randomBytes(2 * 1024 * 1024 + 5));
    await waitForState(page, 'recorded');
    const id = await item(page).getAttribute('data-id');

    // The server recorded both ICP edges, which it only does after the canister confirmed them.
    const edges = await page.evaluate(async (memoryId) => {
      const res = await fetch(`/api/storage/edges?memory_id=${memoryId}&backend=icp`);
      return { status: res.status, body: (await res.json()) as { edges: { artifact: string; present: boolean }[] } };
    }, id);
    expect(edges.status).toBe(200);
    expect(edges.body.edges.filter((e) => e.present).map((e) => e.artifact).sort()).toEqual(['asset', 'metadata']);
  });
});
