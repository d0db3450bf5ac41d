// Driving the product's screens from a journey.
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { BrowserContext, Page } from 'playwright-core';
import { grantDelegation } from '../../support/sign-in';

export interface SignedIn {
  page: Page;
  principal: string;
  user: Ed25519KeyIdentity;
}

/** Opens the app and waits until it started (upload client and auth client ready). */
export async function openApp(page: Page, origin: string, path = '/'): Promise<void> {
  await page.goto(`${origin}${path}`);
  await page.waitForSelector('body[data-ready]');
}

/** Signs in as `user` the way Internet Identity would (a delegation to the page's key), then reloads. */
export async function signInAs(context: BrowserContext, origin: string, user = Ed25519KeyIdentity.generate()): Promise<SignedIn> {
  const page = await context.newPage();
  await openApp(page, origin);
  const principal = await grantDelegation(page, 8 * 3600_000, user);
  await page.reload();
  await page.waitForSelector('body[data-ready]');
  await page.getByRole('button', { name: 'Account' }).waitFor();
  return { page, principal, user };
}

/** Signs in through the development identity provider's popup (the real auth-client flow). */
export async function signInWithPopup(context: BrowserContext, page: Page, name: string): Promise<void> {
  const [popup] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: 'Sign in with Internet Identity' }).click()]);
  await popup.waitForLoadState();
  await popup.fill('input[name=name]', name);
  await popup.click('#create button[type=submit]');
  // The provider lists every identity of this IC (another browser's too): pick the one just created.
  await popup.locator('#identities button', { hasText: `${name} (` }).last().click();
  await Promise.all([popup.waitForEvent('close'), popup.click('#continue')]);
  await page.getByRole('button', { name: 'Account' }).waitFor();
}

export const card = (page: Page, title: string) => page.locator('[data-testid=memory]', { has: page.getByText(title, { exact: true }) });

export async function openAddSheet(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('dialog', { name: 'Add memories' }).waitFor();
}

export async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.locator('[role=dialog]').first().waitFor({ state: 'detached' });
}

/** Waits until every named memory's badge reads ICP on the current grid. */
export async function waitStoredForever(page: Page, titles: string[], timeout = 120_000): Promise<void> {
  for (const t of titles) await card(page, t).and(page.locator('[data-status=icp]')).waitFor({ timeout });
}
