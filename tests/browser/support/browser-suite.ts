// The lifecycle every browser suite shares: a back end started before the
// file's tests and stopped after them, and Chromium with a fresh profile,
// launched once for the file or once per test.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { launchChromium, type LaunchedBrowser } from './chromium';

export interface Closable {
  close(): Promise<void>;
}

export interface BrowserSuite<S extends Closable> {
  /** The back end; available inside tests and hooks. */
  readonly stack: S;
  /** This file's or this test's browser; available inside tests. */
  readonly browser: LaunchedBrowser;
}

/**
 * Registers the hooks. `browser: 'per-test'` gives each test its own profile
 * (IndexedDB, service worker, auth-client keys) so no state leaks between them.
 */
export function browserSuite<S extends Closable>(start: () => Promise<S>, opts: { browser: 'per-file' | 'per-test' }): BrowserSuite<S> {
  let stack: S | undefined;
  let browser: LaunchedBrowser | undefined;
  const launch = async () => {
    browser = await launchChromium();
  };
  const closeBrowser = async () => {
    await browser?.close();
    browser = undefined;
  };
  // A back end (a child process, an IC with the canister installed) takes a while to start.
  beforeAll(async () => {
    stack = await start();
    if (opts.browser === 'per-file') await launch();
  }, 300_000);
  afterAll(async () => {
    await closeBrowser();
    await stack?.close();
  });
  if (opts.browser === 'per-test') {
    beforeEach(launch);
    afterEach(closeBrowser);
  }
  return {
    get stack() {
      if (!stack) throw new Error('the back end is not started (use it inside tests)');
      return stack;
    },
    get browser() {
      if (!browser) throw new Error('no browser is running (use it inside tests)');
      return browser;
    },
  };
}
