// Journeys through the library in real Chromium against one `npm start`:
// a new user signs in and adds one memory of each kind (1), bad input is
// refused with its cause and never queued (7), and with the server's API
// unreachable the library still lists, opens and verifies what is on the
// Internet Computer (6). Every screen is screenshotted at 1280×800 and
// 390×844, checked for sideways scrolling and with axe-core.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MAX_FILE_BYTES } from '../../../contract';
import { browserSuite } from '../support/browser-suite';
import { npmStart } from '../support/npm-start';
import { card, closeDialog, openAddSheet, openApp, signInWithPopup, waitStoredForever } from './support/app';
import { pdf, png, unicodeName, videoBytes, wav } from './support/fixtures';
import { inView, look, PHONE } from './support/look';

const suite = browserSuite(npmStart, { browser: 'per-file' });
const tmp = mkdtempSync(join(tmpdir(), 'forever-journey-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let page: Page;
const files = {
  image: { name: 'Beach at dawn.png', mimeType: 'image/png', buffer: png(64, 48) },
  video: { name: 'First steps.webm', mimeType: 'video/webm', buffer: videoBytes() },
  audio: { name: 'Grandma singing.wav', mimeType: 'audio/wav', buffer: wav() },
  pdf: { name: 'Letter.pdf', mimeType: 'application/pdf', buffer: pdf('Dear future') },
};
const okLongName = unicodeName(255);

describe('the library', () => {
  it('journey 1: a new user signs in through the dev II, adds an image, a video, an audio file and a PDF, and sees them turn green', async () => {
    const { browser, stack } = suite;
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await openApp(page, stack.origin);
    await page.getByRole('heading', { name: 'Keep your memories forever' }).waitFor();
    await look(page, 'j1', 'landing');

    await signInWithPopup(browser.context, page, 'Ada');
    // Signed in: no sign-in button any more; the account menu names the principal and offers sign-out.
    expect(await page.getByRole('button', { name: 'Sign in with Internet Identity' }).count()).toBe(0);
    await page.getByRole('heading', { name: 'Nothing here yet' }).waitFor();
    await look(page, 'j1', 'empty-library');
    await page.getByRole('button', { name: 'Account' }).click();
    const principal = (await page.getByTestId('principal').textContent())?.trim() ?? '';
    expect(principal).toMatch(/^[a-z0-9]{5}(-[a-z0-9]{3,5})+$/);
    await page.getByRole('menuitem', { name: 'Sign out' }).waitFor();
    await look(page, 'j1', 'account-menu');
    await page.keyboard.press('Escape');

    await openAddSheet(page);
    await look(page, 'j1', 'add-sheet');
    await page.getByTestId('add-files').setInputFiles(Object.values(files));
    await page.getByText('4 memories added').waitFor();
    await closeDialog(page);

    const titles = Object.values(files).map((f) => f.name);
    for (const t of titles) await card(page, t).waitFor();
    await waitStoredForever(page, titles);
    for (const t of titles) expect(await card(page, t).getByTestId('badge').textContent()).toContain('ICP');
    // The image shows its thumbnail (made off the main thread, kept with the memory on the canister); the others their type.
    await card(page, files.image.name).getByTestId('thumbnail').waitFor();
    expect(await card(page, files.image.name).getByTestId('thumbnail').evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth > 0))).toBe(true);
    // The type shows where there is no thumbnail: each card knows its kind.
    expect(await card(page, files.audio.name).getAttribute('data-type')).toBe('audio');
    expect(await card(page, files.pdf.name).getAttribute('data-type')).toBe('document');
    await look(page, 'j1', 'dashboard');

    // The badge explains itself on keyboard focus.
    await card(page, files.image.name).getByTestId('badge').focus();
    await page.getByText('Stored forever on the Internet Computer', { exact: true }).waitFor();
    await page.screenshot({ path: '.screenshots/j1/badge-tooltip-desktop.png' });
    await page.keyboard.press('Escape');

    // Filter by type.
    await page.getByLabel('Type').selectOption('audio');
    await page.getByText('4 memories, 1 shown').waitFor();
    expect(await page.locator('[data-testid=memory]').count()).toBe(1);
    await page.getByLabel('Type').selectOption('all');

    // The uploads panel says it in plain words.
    await page.getByTestId('queue-indicator').click();
    const panel = page.getByRole('dialog', { name: 'Uploads' });
    await panel.waitFor();
    for (const t of titles) await panel.locator('[data-testid=upload-row]', { hasText: t }).getByText('Stored forever').waitFor();
    await look(page, 'j1', 'uploads-panel');
    await closeDialog(page);

    // The image's detail: View on ICP reads it back, verifies it, and shows it.
    await card(page, files.image.name).getByRole('link').click();
    await page.getByRole('heading', { name: files.image.name }).waitFor();
    await page.getByRole('button', { name: 'View on ICP' }).click();
    await page.getByText('Verified: the SHA-256 of the stored bytes matches').waitFor();
    const { createHash } = await import('node:crypto');
    expect(await page.getByTestId('verified-hash').textContent()).toBe(createHash('sha256').update(files.image.buffer).digest('hex'));
    const shown = page.getByTestId('viewer').locator('img');
    await shown.waitFor();
    expect(await shown.evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).toBe(64);
    await look(page, 'j1', 'memory-detail');

    // Usage counts what was stored on the Internet Computer.
    await page.getByRole('link', { name: 'Usage' }).click();
    const icpBytes = page.getByTestId('icp-bytes');
    await icpBytes.waitFor();
    const total = Object.values(files).reduce((n, f) => n + f.buffer.length, 0);
    expect(Number(await icpBytes.getAttribute('data-bytes'))).toBe(total);
    await look(page, 'j1', 'usage');
  }, 300_000);

  it('journey 7: bad input is refused with its cause and never queued; long unicode names never widen the phone layout', async () => {
    const { stack } = suite;
    await openApp(page, stack.origin);
    await page.getByRole('button', { name: 'Account' }).waitFor();
    const big = join(tmp, 'too-big.bin');
    writeFileSync(big, '');
    truncateSync(big, MAX_FILE_BYTES + 1);
    const tooLongName = unicodeName(256);

    // On the phone, where the sheet is taller than the screen, each refusal is in view when it appears.
    await page.setViewportSize(PHONE);
    await openAddSheet(page);
    // A file over the limit goes by path (no test buffer is that large); names past 255 bytes cannot be file names on disk.
    await page.getByTestId('add-files').setInputFiles(big);
    await page.getByTestId('refused-item').getByText(`too-big.bin: the file is ${MAX_FILE_BYTES + 1} bytes, more than the ${MAX_FILE_BYTES} bytes (100 MiB) a memory can hold`).waitFor();
    expect(await inView(page.getByTestId('refused'))).toBe(true);
    await page.getByTestId('add-files').setInputFiles([
      { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
      { name: tooLongName, mimeType: 'image/png', buffer: png(8, 8) },
      { name: okLongName, mimeType: 'image/png', buffer: png(16, 16, [200, 90, 60]) },
    ]);
    const refused = page.getByTestId('refused');
    await page.getByText('1 memory added').waitFor();
    expect(await refused.getByTestId('refused-item').allTextContents()).toEqual([
      'empty.txt: the file is empty (0 bytes): there is nothing to store',
      `${tooLongName}: the file name is longer than 255 bytes (it has 256)`,
    ]);
    expect(await inView(refused)).toBe(true);
    await look(page, 'j7', 'add-sheet-refusals');

    // A 600-byte title for one file.
    const title = 'é'.repeat(300);
    await page.getByLabel('Title (optional, for one file)').fill(title);
    await page.getByTestId('add-files').setInputFiles({ name: 'titled.png', mimeType: 'image/png', buffer: png(8, 8) });
    await page.getByText('titled.png: title is longer than 512 bytes (it has 600)').waitFor();
    expect(await inView(refused)).toBe(true);
    await closeDialog(page);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Nothing that cannot succeed was queued: the queue holds the four of journey 1 and the one accepted here.
    await page.getByTestId('queue-indicator').click();
    const rows = page.getByRole('dialog', { name: 'Uploads' }).locator('[data-testid=upload-row]');
    await rows.nth(4).waitFor();
    expect(await rows.count()).toBe(5);
    const names = (await rows.allTextContents()).join('\n');
    for (const n of ['empty.txt', 'too-big.bin', tooLongName, 'titled.png']) expect(names).not.toContain(n);
    await closeDialog(page);

    await waitStoredForever(page, [okLongName]);
    await look(page, 'j7', 'dashboard-long-name');
    await card(page, okLongName).getByRole('link').click();
    await page.getByRole('heading', { name: okLongName }).waitFor();
    await look(page, 'j7', 'memory-detail-long-name');
  }, 300_000);

  it('journey 8: a share-target POST as the operating system sends it queues the files; the phone offers the camera; Chrome finds the app installable', async () => {
    const { browser, stack } = suite;
    await openApp(page, stack.origin);
    await page.getByRole('button', { name: 'Account' }).waitFor();
    // The OS opens the manifest's share_target action with a multipart POST navigation.
    const shared = png(24, 24, [20, 160, 90]);
    await page.evaluate(
      ({ bytes }) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = '/share-target';
        form.enctype = 'multipart/form-data';
        const title = Object.assign(document.createElement('input'), { name: 'title', value: 'Shared sunset' });
        const input = Object.assign(document.createElement('input'), { type: 'file', name: 'files' });
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'shared-sunset.png', { type: 'image/png' }));
        input.files = dt.files;
        form.append(title, input);
        document.body.append(form);
        form.submit();
      },
      { bytes: [...shared] },
    );
    await page.waitForURL(/\/\?shared=1$/);
    await page.getByText('1 shared item added; it is being stored forever.').waitFor();
    await waitStoredForever(page, ['Shared sunset']);
    await look(page, 'j8', 'after-share');

    await page.setViewportSize({ width: 390, height: 844 });
    await openAddSheet(page);
    const capture = page.getByTestId('add-capture');
    expect(await capture.getAttribute('capture')).toBe('environment');
    expect(await capture.getAttribute('accept')).toBe('image/*,video/*');
    await page.getByText('Take a photo or video').waitFor();
    await closeDialog(page);
    await page.setViewportSize({ width: 1280, height: 800 });

    const cdp = await browser.context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    expect(installabilityErrors).toEqual([]);
    await cdp.detach();
  }, 240_000);

  it('journey 6: with the server unreachable the library lists, opens and verifies what is on the Internet Computer', async () => {
    const { browser, stack } = suite;
    // npm start serves the IC interface and the server from one process, so
    // "the server is stopped" is a boundary double: every server JSON route
    // fails at the network level while the IC's routes (/api/v2, /api/v3)
    // and the app shell stay up.
    await browser.context.route(/\/api\/(?!v2\/|v3\/)/, (route) => route.abort('connectionrefused'));
    try {
      await openApp(page, stack.origin);
      await page.getByTestId('icp-only').waitFor();
      const titles = [...Object.values(files).map((f) => f.name), okLongName];
      await waitStoredForever(page, titles);
      await look(page, 'j6', 'dashboard-icp-only');
      await card(page, files.pdf.name).getByRole('link').click();
      await page.getByRole('heading', { name: files.pdf.name }).waitFor();
      await page.getByRole('button', { name: 'View on ICP' }).click();
      await page.getByText('Verified: the SHA-256 of the stored bytes matches').waitFor();
      await look(page, 'j6', 'memory-detail-icp-only');
    } finally {
      await browser.context.unroute(/\/api\/(?!v2\/|v3\/)/);
    }
  }, 180_000);
});
