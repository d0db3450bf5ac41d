// Login in Chromium with the real @dfinity/auth-client through the local IC's
// development identity provider: II's authorize-client protocol in a popup,
// an identity created and confirmed there, a delegation chain for the page's
// session key, then an authenticated update call whose caller is the
// logged-in principal. The page runs on another origin than the IC (CORS).
// A second login with the same identity yields the same principal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { Hono } from 'hono';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalIcHttp } from '../../canister/local/http/local-ic-http.js';
import { localIcBackend, type Backend } from '../http/support/backends.js';
import { serveApp, type Served } from '../http/support/serve.js';
import { launchChromium, type LaunchedBrowser } from './support/chromium.js';

const fixtures = path.resolve(import.meta.dirname, 'fixtures');

describe('development identity provider with auth-client in Chromium', () => {
  let backend: Backend;
  let ic: Served;
  let site: Served;
  let browser: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let siteOrigin: string;

  beforeAll(async () => {
    backend = await localIcBackend();
    const local = await createLocalIcHttp({ runtime: backend.runtime });
    const icApp = new Hono();
    local.mount(icApp);
    ic = await serveApp(icApp);

    const bundle = await build({
      entryPoints: [path.join(fixtures, 'ii-login.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0].text;
    const siteApp = new Hono();
    siteApp.get('/', (c) => c.html(readFileSync(path.join(fixtures, 'ii-login.html'), 'utf8')));
    siteApp.get('/ii-login.js', (c) => c.body(js, 200, { 'content-type': 'text/javascript' }));
    site = await serveApp(siteApp);
    // Another origin than the IC's 127.0.0.1: localhost (also a secure context).
    siteOrigin = site.url.replace('127.0.0.1', 'localhost');

    browser = await launchChromium();
    context = browser.context;
    page = await context.newPage();
    await page.goto(`${siteOrigin}/?ic=${encodeURIComponent(ic.url)}&canister=${backend.canisterId.toText()}`);
    await page.locator('#status', { hasText: 'ready' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await ic?.close();
    await backend?.close();
  });

  /** Clicks "Log in", and in the provider's popup picks (or first creates) `name`, then confirms. */
  async function login(name: string, create: boolean): Promise<void> {
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#login')]);
    await popup.locator('#context', { hasText: `Choose an identity for ${siteOrigin}.` }).waitFor();
    if (create) {
      await popup.fill('input[name=name]', name);
      await popup.click('button[type=submit]');
    }
    await popup.locator('#identities button', { hasText: name }).click();
    await popup.locator('#confirm-origin', { hasText: siteOrigin }).waitFor();
    const closed = popup.waitForEvent('close');
    await popup.click('#continue');
    // auth-client closes the provider's window once it has the delegation.
    await closed;
  }

  async function loggedInCaller(): Promise<{ principal: string; caller: string }> {
    await page.locator('#caller').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#error').textContent()).toBe('');
    return {
      principal: (await page.locator('#principal').textContent()) ?? '',
      caller: (await page.locator('#caller').textContent()) ?? '',
    };
  }

  it('logs in through the provider and calls the canister as the logged-in principal', async () => {
    await login('Alice', true);
    const { principal, caller } = await loggedInCaller();
    expect(principal).not.toBe('2vxsx-fae');
    expect(caller).toBe(principal);
    // The principal is Alice's for this origin, as the provider derives it on the server side.
    const listed = (await (await fetch(`${ic.url}/ii/api/identities?origin=${encodeURIComponent(siteOrigin)}`)).json()) as {
      identities: Array<{ name: string; principal: string }>;
    };
    expect(listed.identities.find((i) => i.name === 'Alice')?.principal).toBe(principal);
    // No key material in the page's storage: only auth-client's session key and delegation.
    const local = await page.evaluate(() => Object.keys(localStorage));
    expect(local).toEqual([]);
  });

  it('a second login with the same identity yields the same principal; another identity another one', async () => {
    const first = (await page.locator('#caller').textContent()) ?? '';
    await page.click('#logout');
    await page.locator('#principal', { hasText: '2vxsx-fae' }).waitFor();
    await login('Alice', false);
    const again = await loggedInCaller();
    expect(again.caller).toBe(first);
    expect(again.principal).toBe(first);

    await page.click('#logout');
    await page.locator('#principal', { hasText: '2vxsx-fae' }).waitFor();
    await login('Bob', true);
    const bob = await loggedInCaller();
    expect(bob.caller).not.toBe(first);
    expect(bob.caller).toBe(bob.principal);
  });

  it('keeps the session across a reload (delegation in IndexedDB) and still calls as the user', async () => {
    const before = (await page.locator('#caller').textContent()) ?? '';
    await page.reload();
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    const after = await loggedInCaller();
    expect(after.caller).toBe(before);
  });
});
