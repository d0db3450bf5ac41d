// Driving the engine's bare harness page (src/routes/dev/engine/+page.svelte) from a test.
import type { Page } from 'playwright-core';

export const item = (page: Page) => page.locator('[data-testid=item]');

/** Opens the page and waits until the upload client started (service worker ready, or page mode). */
export async function openApp(page: Page, origin: string, query = ''): Promise<string> {
  await page.goto(`${origin}/dev/engine${query}`);
  await page.waitForSelector('body[data-ready]');
  return (await page.getAttribute('body', 'data-ready')) ?? '';
}

export async function pickFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.setInputFiles('[data-testid=files]', { name, mimeType: 'application/octet-stream', buffer: bytes });
}

export async function waitForState(page: Page, state: string, timeout = 120_000): Promise<void> {
  await page.waitForSelector(`[data-testid=item][data-state="${state}"]`, { timeout });
}
