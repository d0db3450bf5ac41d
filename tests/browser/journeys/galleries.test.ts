// Journeys through galleries and Store Forever in real Chromium against one
// `npm start`: a gallery of six Web2-only memories stored forever through
// the modal (2), and one stored memory by memory, half-way (3).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser-suite';
import { npmStart } from '../support/npm-start';
import { card, closeDialog, openAddSheet, signInAs } from './support/app';
import { png } from './support/fixtures';
import { look } from './support/look';

const suite = browserSuite(npmStart, { browser: 'per-file' });
let page: Page;
const tmp = mkdtempSync(join(tmpdir(), 'forever-journey-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let imagesAdded = 0;

/**
 * Adds `names` as PNGs with "Store forever now" off and waits until each is
 * saved (Web2 only); with `folder`, as one directory pick of that name.
 */
async function addWeb2Only(p: Page, names: string[], folder?: string): Promise<void> {
  await openAddSheet(p);
  const sw = p.getByRole('switch', { name: 'Store forever now' });
  if ((await sw.getAttribute('aria-checked')) === 'true') await sw.click();
  expect(await sw.getAttribute('aria-checked')).toBe('false');
  // Every image this file adds has bytes of its own (its own size): the canister stores
  // identical bytes of one owner once, so a shared image would free nothing
  // when one of its memories is deleted.
  const files = names.map((name, i) => {
    const k = imagesAdded++;
    return { name, mimeType: 'image/png', buffer: png(40 + k, 30 + k, [40 * i, 120, 200 - 20 * i]) };
  });
  if (folder) {
    const dir = join(tmp, folder);
    mkdirSync(dir);
    for (const f of files) writeFileSync(join(dir, f.name), f.buffer);
    await p.getByTestId('add-directory').setInputFiles(dir);
  } else await p.getByTestId('add-files').setInputFiles(files);
  await p.getByText(`${names.length} memories added`).waitFor();
  await closeDialog(p);
  for (const n of names) await card(p, n).and(p.locator('[data-status=web2]')).waitFor({ timeout: 120_000 });
}

async function makeGallery(p: Page, title: string, names: string[]): Promise<void> {
  for (const n of names) await card(p, n).getByRole('checkbox').check();
  await p.getByText(`${names.length} selected`).waitFor();
  await p.getByRole('button', { name: 'Add to gallery' }).click();
  const dialog = p.getByRole('dialog', { name: /Add 6 memories to a gallery/ });
  await dialog.waitFor();
  await dialog.getByLabel('Name').fill(title);
  await dialog.getByRole('button', { name: 'Create gallery' }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function openGallery(p: Page, title: string): Promise<void> {
  await p.getByRole('link', { name: 'Galleries' }).click();
  await p.locator('[data-testid=gallery-card]', { hasText: title }).getByRole('link').click();
  await p.getByRole('heading', { name: title }).waitFor();
}

/** Runs the Store Forever modal to its end and closes it. */
async function storeThroughModal(p: Page, expected: string): Promise<void> {
  const modal = p.getByRole('dialog', { name: 'Store Forever' });
  await modal.waitFor();
  await modal.getByRole('button', { name: 'Start storing' }).click();
  await p.locator('[data-testid=store-modal]:is([data-step=success], [data-step=error])').waitFor({ timeout: 180_000 });
  expect(await modal.getByTestId('store-status').textContent()).toContain(expected);
}

describe('galleries and Store Forever', () => {
  it('journey 2: a gallery of 6 Web2-only memories goes from "Store Forever" and 0 of 6 to "Already Stored", 6 of 6 and View on ICP', async () => {
    const { browser, stack } = suite;
    ({ page } = await signInAs(browser.context, stack.origin));
    await page.setViewportSize({ width: 1280, height: 800 });
    const names = ['Summer 1.png', 'Summer 2.png', 'Summer 3.png', 'Summer 4.png', 'Summer 5.png', 'Summer 6.png'];
    await addWeb2Only(page, names);
    await look(page, 'j2', 'dashboard-web2-only');
    await makeGallery(page, 'Summer 2026', names);

    await page.getByRole('link', { name: 'Galleries' }).click();
    const galleryCard = page.locator('[data-testid=gallery-card]', { hasText: 'Summer 2026' });
    await galleryCard.waitFor();
    expect(await galleryCard.getByTestId('gallery-badge').textContent()).toContain('Web2');
    await look(page, 'j2', 'galleries-web2');
    await openGallery(page, 'Summer 2026');
    await page.getByText('0 of 6 memories stored on ICP').waitFor();
    const button = page.getByTestId('store-forever');
    expect((await button.textContent())?.trim()).toBe('Store Forever');
    expect(await button.getAttribute('class')).toContain('blue');
    await button.hover();
    await page.getByText('Store this gallery permanently on the Internet Computer blockchain').waitFor();
    await look(page, 'j2', 'gallery-web2');

    await button.click();
    await look(page, 'j2', 'modal-idle');
    await storeThroughModal(page, '6 of 6');
    await look(page, 'j2', 'modal-success');
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByText('6 of 6 memories stored on ICP').waitFor();
    const stored = page.getByTestId('store-forever');
    expect((await stored.textContent())?.trim()).toBe('Already Stored');
    expect(await stored.getAttribute('aria-disabled')).toBe('true');
    expect(await stored.getAttribute('class')).toContain('gray');
    await stored.focus();
    await page.getByText('This gallery is already permanently stored on the Internet Computer').waitFor();
    await page.getByRole('link', { name: 'View on ICP' }).waitFor();
    expect(await page.getByTestId('gallery-badge').textContent()).toContain('ICP');
    await page.getByTestId('where-toggle').click();
    expect(await page.getByTestId('where-list').locator('li[data-status=icp]').count()).toBe(6);
    await look(page, 'j2', 'gallery-stored');

    // The server agrees: the gallery's presence says stored_forever.
    const presence = await page.evaluate(async () => {
      const list = (await (await fetch('/api/galleries')).json()) as { galleries: { title: string; presence: { storage_status: string; icp_complete_memories: number } }[] };
      return list.galleries.find((g) => g.title === 'Summer 2026')?.presence;
    });
    expect(presence).toMatchObject({ storage_status: 'stored_forever', icp_complete_memories: 6 });

    await page.getByTestId('where-list').getByRole('link', { name: 'Summer 4.png' }).click();
    await page.getByRole('heading', { name: 'Summer 4.png' }).waitFor();
    await page.getByRole('button', { name: 'View on ICP' }).click();
    await page.getByText('Verified: the SHA-256 of the stored bytes matches').waitFor();
    await look(page, 'j2', 'memory-verified');
  }, 400_000);

  it('journey 3: with 3 of 6 stored one by one the gallery says "Continue Storing" and "3 of 6", with the right badges everywhere', async () => {
    const names = ['Winter 1.png', 'Winter 2.png', 'Winter 3.png', 'Winter 4.png', 'Winter 5.png', 'Winter 6.png'];
    await page.getByRole('link', { name: 'Library' }).click();
    await addWeb2Only(page, names, 'Winter trip');
    await makeGallery(page, 'Winter 2026', names);
    await openGallery(page, 'Winter 2026');
    await page.getByTestId('where-toggle').click();
    for (const n of names.slice(0, 3)) {
      await page.getByTestId('where-list').locator('li', { hasText: n }).getByRole('button', { name: 'Store on ICP' }).click();
      await storeThroughModal(page, '1 of 1');
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByTestId('where-list').locator(`li[data-status=icp]`, { hasText: n }).waitFor();
    }
    await page.getByText('3 of 6 memories stored on ICP').waitFor();
    const button = page.getByTestId('store-forever');
    expect((await button.textContent())?.trim()).toBe('Continue Storing');
    expect(await button.getAttribute('class')).toContain('orange');
    await button.hover();
    await page.getByText('Continue storing the remaining items on the Internet Computer').waitFor();
    expect(await page.getByRole('link', { name: 'View on ICP' }).count()).toBe(0);
    // The gallery badge reads ICP for a partly stored gallery, and its tooltip says how much.
    expect(await page.getByTestId('gallery-badge').textContent()).toContain('ICP');
    expect(await page.getByTestId('gallery-badge').getAttribute('aria-label')).toContain('3 of 6 memories are on the Internet Computer');
    const statuses = Object.fromEntries(await page.getByTestId('where-list').locator('li').evaluateAll((lis) => lis.map((li) => [li.querySelector('a')?.textContent ?? '', li.getAttribute('data-status')])));
    expect(statuses).toEqual(Object.fromEntries(names.map((n, i) => [n, i < 3 ? 'icp' : 'web2'])));
    await look(page, 'j3', 'gallery-partial');

    // The same badges on the dashboard and on each memory's page.
    await page.getByRole('link', { name: 'Library' }).click();
    for (const [i, n] of names.entries()) await card(page, n).and(page.locator(`[data-status=${i < 3 ? 'icp' : 'web2'}]`)).waitFor();
    await look(page, 'j3', 'dashboard-partial');
    // The directory pick became a folder, with the same badges.
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: /Winter trip/ }).click();
    await page.getByRole('heading', { name: 'Winter trip' }).waitFor();
    expect(await page.getByTestId('count').textContent()).toBe('6 memories');
    for (const [i, n] of names.entries()) await card(page, n).and(page.locator(`[data-status=${i < 3 ? 'icp' : 'web2'}]`)).waitFor();
    await look(page, 'j3', 'folder-partial');
    await page.getByRole('link', { name: 'Library' }).click();
    await page.getByLabel('Storage').selectOption('web2');
    for (const n of names.slice(3)) await card(page, n).waitFor();
    expect(await card(page, names[0]).count()).toBe(0);
    await page.getByLabel('Storage').selectOption('all');
    for (const [i, n] of [names[0], names[5]].entries()) {
      await card(page, n).getByRole('link').click();
      await page.getByRole('heading', { name: n }).waitFor();
      expect(await page.getByTestId('detail-badge').getAttribute('data-status')).toBe(i === 0 ? 'icp' : 'web2');
      if (i === 1) await page.getByRole('button', { name: 'Store Forever' }).waitFor();
      await look(page, 'j3', `detail-${i === 0 ? 'icp' : 'web2'}`);
      await page.goBack();
    }
  }, 400_000);

  it('journey 10: a memory deleted from the Internet Computer after the confirmation is gone from the library, its gallery and usage', async () => {
    const victim = 'Winter 1.png';
    await page.getByRole('link', { name: 'Usage' }).click();
    const icpBytes = page.getByTestId('icp-bytes');
    await icpBytes.waitFor();
    const before = Number(await icpBytes.getAttribute('data-bytes'));

    await page.getByRole('link', { name: 'Library' }).click();
    await card(page, victim).and(page.locator('[data-status=icp]')).waitFor();
    const id = await card(page, victim).getAttribute('data-id');
    const size = await page.evaluate(async (memoryId) => {
      const r = (await (await fetch(`/api/storage/edges?memory_id=${memoryId}&backend=icp&artifact=asset`)).json()) as { edges: { size: number }[] };
      return r.edges[0].size;
    }, id);
    await card(page, victim).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete this memory?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('Deleting removes it from the Internet Computer and from the Forever server. This cannot be undone.');
    await look(page, 'j10', 'confirm-delete');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('1 memory deleted.').waitFor();
    await card(page, victim).waitFor({ state: 'detached' });
    await look(page, 'j10', 'dashboard-after-delete');

    // The canister no longer has it: asked as the user, through the app's own page.
    await page.goto(`${suite.stack.origin}/memories/${id}`);
    await page.getByRole('heading', { name: 'Memory not found' }).waitFor();

    await openGallery(page, 'Winter 2026');
    await page.getByText('2 of 5 memories stored on ICP').waitFor();
    await look(page, 'j10', 'gallery-after-delete');

    await page.getByRole('link', { name: 'Usage' }).click();
    await icpBytes.waitFor();
    await page.locator(`[data-testid=icp-bytes][data-bytes="${before - size}"]`).waitFor();
  }, 240_000);
});
