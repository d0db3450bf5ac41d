// The upload engine in Chromium through the minimal page and the service
// worker, against the product as `npm start` runs it (a child process: the
// local IC on its worker thread, the server verifying presence with its own
// registered identity): going offline mid-upload, closing the tab mid-upload
// (the service worker finishes on a Background Sync event), reloading
// mid-upload, and an expired delegation.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Identity } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Page } from 'playwright-core';
import { browserSuite } from './support/browser-suite';
import { canisterUsage } from './support/canister-usage';
import { npmStart } from './support/npm-start';
import { grantDelegation } from './support/sign-in';
import { item, openApp, pickFile, waitForState } from './support/upload-page';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
// A fresh profile per test: no queue, service worker or keys carried over.
const suite = browserSuite(npmStart, { browser: 'per-test' });

/** get_usage as the user, through the IC interface of the running server. */
const usage = (user: Identity) => canisterUsage(suite.stack, user);

/**
 * Fresh profile, app open, signed in (delegation granted, page reloaded so the
 * auth client sees it). Sign-in writes the delegation into `auth-client-db`
 * rather than going through the dev identity provider's popup: the popup flow
 * is covered by upload-npm-start.test.ts, and the last test here needs a
 * delegation that expires in seconds, which the popup cannot issue.
 */
async function signedInPage(query = '') {
  const { origin } = suite.stack;
  const page = await suite.browser.context.newPage();
  const mode = await openApp(page, origin, query);
  const user = Ed25519KeyIdentity.generate();
  await grantDelegation(page, HOUR, user);
  await openApp(page, origin, query);
  await page.waitForSelector('[data-testid=principal]');
  return { page, user, mode };
}

/**
 * `chunkPuts` counts put_chunk calls the client saw succeed, over every run.
 * At least one was confirmed before the interruption (the tests wait for it);
 * had the resumed run sent those again the count would pass the chunk count.
 * It may be lower: a chunk the canister took whose answer was lost to the
 * interruption is reported by begin_asset_upload and not sent again either.
 */
async function expectNoChunkSentTwice(page: Page): Promise<void> {
  const puts = Number(await item(page).getAttribute('data-chunk-puts'));
  const count = Number(await item(page).getAttribute('data-chunk-count'));
  expect(puts).toBeGreaterThan(0);
  expect(puts).toBeLessThanOrEqual(count);
}

describe('uploads in Chromium', () => {
  it('survives going offline mid-upload: finishes after coming back, one memory', async () => {
    const { page, user, mode } = await signedInPage();
    expect(mode).toBe('service-worker');
    await pickFile(page, 'offline.bin', randomBytes(6 * MiB));
    await page.waitForSelector('[data-testid=item][data-state=uploading]:not([data-chunks-sent="0"])');
    await suite.browser.context.setOffline(true);
    await waitForState(page, 'waiting-retry');
    expect(await item(page).getAttribute('data-error-code')).toBe('Network');
    await suite.browser.context.setOffline(false);
    await waitForState(page, 'recorded');
    expect(await usage(user)).toMatchObject({ memories: 1n, assets: 1n, active_uploads: 0 });
  });

  it('finishes in the service worker after the tab is closed (Background Sync)', async () => {
    const { page, user } = await signedInPage();
    // A page outside the app's origin keeps the browser open and gives us a DevTools session.
    const observer = await suite.browser.context.newPage();
    const cdp = await suite.browser.context.newCDPSession(observer);
    const registrations: string[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
      for (const r of e.registrations) if (r.scopeURL.startsWith(suite.stack.origin) && !r.isDeleted && !registrations.includes(r.registrationId)) registrations.push(r.registrationId);
    });
    await cdp.send('ServiceWorker.enable');

    await pickFile(page, 'closed.bin', randomBytes(6 * MiB));
    await page.waitForSelector('[data-testid=item][data-state=uploading]:not([data-chunks-sent="0"])');
    await page.close();
    // The browser may stop a worker with no pages at any time; do it now, mid-upload.
    await cdp.send('ServiceWorker.stopAllWorkers');
    const before = await usage(user);
    expect(before.assets).toBe(0n);

    expect(registrations).toHaveLength(1);
    await cdp.send('ServiceWorker.dispatchSyncEvent', { origin: suite.stack.origin, registrationId: registrations[0], tag: 'forever-upload', lastChance: false });
    await expect.poll(async () => (await usage(user)).assets, { timeout: 120_000, interval: 250 }).toBe(1n);
    expect(await usage(user)).toMatchObject({ memories: 1n, active_uploads: 0 });

    // The queue (read by a new page) says recorded, and no confirmed chunk went out twice.
    const again = await suite.browser.context.newPage();
    await openApp(again, suite.stack.origin);
    await waitForState(again, 'recorded');
    await expectNoChunkSentTwice(again);
  });

  it('resumes from the received chunks after a reload mid-upload (page drains: no Background Sync path)', async () => {
    const { page, user, mode } = await signedInPage('?sw=0');
    expect(mode).toBe('page');
    await pickFile(page, 'reload.bin', randomBytes(6 * MiB));
    // Hashing, the bucket lookup and the first chunk come first: on a loaded machine that outlasts Playwright's default 30 s.
    await page.waitForSelector('[data-testid=item][data-state=uploading]:not([data-chunks-sent="0"])', { timeout: 120_000 });
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await waitForState(page, 'recorded');
    expect(await item(page).getAttribute('data-chunk-count')).toBe('6');
    await expectNoChunkSentTwice(page);
    expect(await usage(user)).toMatchObject({ memories: 1n, assets: 1n });
  });

  it('parks an item whose delegation expired until the user signs in again', async () => {
    const page = await suite.browser.context.newPage();
    await openApp(page, suite.stack.origin);
    const ttl = 1_500;
    const granted = Date.now();
    const user = Ed25519KeyIdentity.generate();
    await grantDelegation(page, ttl, user);
    // Wait out the delegation (a known instant, not an event).
    await new Promise((r) => setTimeout(r, Math.max(0, granted + ttl - Date.now()) + 100));
    await openApp(page, suite.stack.origin);
    await pickFile(page, 'parked.bin', randomBytes(MiB + 1));
    await waitForState(page, 'needs-sign-in');
    expect(await usage(user)).toMatchObject({ memories: 0n });

    // Sign in again (the same user): the page drains on load and the item continues.
    await grantDelegation(page, HOUR, user);
    await openApp(page, suite.stack.origin);
    await waitForState(page, 'recorded');
    expect(await usage(user)).toMatchObject({ memories: 1n, assets: 1n });
  });
});
