// "Also keep on IPFS" in real Chromium against one `npm start` (local
// pinner, local facilitator, the development wallet funded by the local
// ledger): a memory stored forever is kept on IPFS from its detail page, at
// the price the broker quotes; a failure shows its reason and Retry; the CID
// and its gateway link appear, and /ipfs/<cid> returns the exact bytes, whose
// SHA-256 is the memory's on the Internet Computer. A second memory is kept
// from the dashboard's selection. Every IPFS state is screenshotted at
// 1280×800 and 390×844 and checked with axe-core.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { formatUsd } from '../../../src/lib/ipfs/offer';
import { browserSuite } from '../support/browser-suite';
import { npmStart } from '../support/npm-start';
import { card, closeDialog, openAddSheet, openApp, signInWithPopup, waitStoredForever } from './support/app';
import { png } from './support/fixtures';
import { look, PHONE, SHOTS_DIR } from './support/look';

const suite = browserSuite(npmStart, { browser: 'per-file' });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const files = {
  first: { name: 'Wedding day.png', mimeType: 'image/png', buffer: png(96, 64, [180, 60, 90]) },
  second: { name: 'Garden.png', mimeType: 'image/png', buffer: png(48, 48, [40, 140, 70]) },
};

/** The broker's own quote for a memory: the unpaid request, answered 402 (it joins the same unpaid job). */
async function brokerQuote(page: Page, memoryId: string): Promise<{ price_usd: number; amount: string; file_size_bytes: number }> {
  return page.evaluate(async (id) => {
    const r = await fetch('/api/ipfs/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ memory_id: id }) });
    if (r.status !== 402) throw new Error(`expected 402, got ${r.status}`);
    return r.json();
  }, memoryId);
}

/**
 * Holds the requests matching `url` until released (to look at a state that
 * otherwise passes in a moment); after that they pass straight through.
 */
async function hold(page: Page, url: string | RegExp): Promise<{ held: Promise<void>; release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let seen!: () => void;
  const held = new Promise<void>((r) => (seen = r));
  await page.route(url, async (route: Route) => {
    seen();
    await gate;
    await route.continue();
  });
  return { held, release };
}

/** `look`, plus the phone screenshot scrolled to the IPFS panel (below the fold on a phone). */
async function lookAtPanel(page: Page, name: string): Promise<void> {
  await look(page, 'ipfs', name);
  const before = page.viewportSize();
  await page.setViewportSize(PHONE);
  await page.getByTestId('ipfs-panel').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS_DIR, 'ipfs', `${name}-phone-panel.png`) });
  if (before) await page.setViewportSize(before);
}

describe('keep on IPFS', () => {
  it('keeps a memory stored forever on IPFS through the development wallet, at the quoted price, with its CID serving the exact bytes', async () => {
    const { browser, stack } = suite;
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await openApp(page, stack.origin);
    await signInWithPopup(browser.context, page, 'Iris');
    await openAddSheet(page);
    await page.getByTestId('add-files').setInputFiles(Object.values(files));
    await page.getByText('2 memories added').waitFor();
    await closeDialog(page);
    await waitStoredForever(page, [files.first.name, files.second.name]);

    // The detail page of a memory stored forever offers the second copy.
    await card(page, files.first.name).getByRole('link').click();
    await page.getByRole('heading', { name: files.first.name }).waitFor();
    const memoryId = new URL(page.url()).pathname.split('/').pop()!;
    const panel = page.getByTestId('ipfs-panel');
    await panel.getByRole('button', { name: 'Also keep on IPFS' }).waitFor();
    expect(await page.getByTestId('ipfs-badge').count()).toBe(0);
    await lookAtPanel(page, 'offer');

    // A failure says why and offers Retry: the faucet that funds the development wallet is unreachable.
    await page.route('**/api/ipfs/dev/faucet', (route) => route.abort('connectionrefused'));
    await panel.getByRole('button', { name: 'Also keep on IPFS' }).click();
    const dialog = page.getByTestId('confirm');
    await dialog.waitFor();
    const quote = await brokerQuote(page, memoryId);
    expect(quote.file_size_bytes).toBe(files.first.buffer.length);
    const pay = dialog.getByRole('button', { name: /^Pay / });
    // The price shown before paying is the broker's quote.
    expect(await pay.textContent()).toBe(`Pay ${formatUsd(quote.price_usd)}`);
    expect(await dialog.textContent()).toContain(`costs ${formatUsd(quote.price_usd)}`);
    expect(await dialog.textContent()).toContain('development wallet');
    await look(page, 'ipfs', 'price');
    await pay.click();
    await panel.getByTestId('ipfs-state').and(page.locator('[role=alert]')).waitFor();
    expect(await panel.getByTestId('ipfs-state').textContent()).toMatch(/^Failed: .+/);
    await lookAtPanel(page, 'failed');
    await page.unroute('**/api/ipfs/dev/faucet');

    // Retry asks the price again; paying it pins in the background: Pinning…, then the CID.
    const pinning = await hold(page, /\/api\/ipfs\/jobs\/[0-9a-f-]+$/);
    await panel.getByRole('button', { name: 'Retry' }).click();
    await dialog.waitFor();
    expect(await pay.textContent()).toBe(`Pay ${formatUsd((await brokerQuote(page, memoryId)).price_usd)}`);
    await pay.click();
    await pinning.held;
    await panel.getByText('Pinning…').waitFor();
    await lookAtPanel(page, 'pinning');
    pinning.release();

    await panel.getByText('Kept on IPFS').waitFor({ timeout: 60_000 });
    const cid = (await panel.getByTestId('ipfs-cid').textContent())!.trim();
    expect(cid).toMatch(/^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,})$/);
    const href = await panel.getByTestId('ipfs-link').getAttribute('href');
    expect(new URL(href!, stack.origin).pathname).toBe(`/ipfs/${cid}`);
    await page.getByTestId('ipfs-badge').waitFor();
    await lookAtPanel(page, 'kept');

    // The gateway returns the exact bytes; their SHA-256 is the memory's on the Internet Computer.
    const gw = await page.request.get(`${stack.origin}/ipfs/${cid}`);
    expect(gw.status()).toBe(200);
    const bytes = new Uint8Array(await gw.body());
    expect(Buffer.from(bytes).equals(files.first.buffer)).toBe(true);
    const icpHash = (await page.locator('[data-backend=icp-canister] code').textContent())!.trim();
    expect(sha(bytes)).toBe(icpHash);
    // The job paid once: the development wallet was charged the quoted amount.
    const jobs = await page.evaluate(async (id) => (await (await fetch(`/api/ipfs/jobs?memory_id=${id}`)).json()) as { jobs: { status: string; amount: string; result: { cid: string } | null }[] }, memoryId);
    expect(jobs.jobs.map((j) => [j.status, j.amount, j.result?.cid])).toEqual([['completed', quote.amount, cid]]);

    // After a reload the state comes from the server: the badge from presence, the CID from the job.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await page.getByTestId('ipfs-cid').getByText(cid).waitFor();
    await page.getByTestId('ipfs-badge').waitFor();

    // The dashboard shows the IPFS badge beside ICP; the second memory is kept from the selection.
    await page.getByRole('link', { name: 'Library' }).first().click();
    await card(page, files.first.name).getByTestId('ipfs-badge').waitFor();
    expect(await card(page, files.second.name).getByTestId('ipfs-badge').count()).toBe(0);
    await card(page, files.second.name).getByTestId('select').check();
    const keepSelection = page.getByTestId('keep-ipfs-selection');
    await keepSelection.click();
    await dialog.waitFor();
    const secondId = (await card(page, files.second.name).getAttribute('data-id'))!;
    expect(await pay.textContent()).toBe(`Pay ${formatUsd((await brokerQuote(page, secondId)).price_usd)}`);
    await pay.click();
    await page.getByTestId('ipfs-summary').getByText('1 kept on IPFS').waitFor({ timeout: 60_000 });
    await card(page, files.second.name).getByTestId('ipfs-badge').waitFor();
    await look(page, 'ipfs', 'selection-kept');
    // Both kept: nothing left to pin in this selection.
    await card(page, files.first.name).getByTestId('select').check();
    expect(await keepSelection.isDisabled()).toBe(true);
  }, 300_000);
});
