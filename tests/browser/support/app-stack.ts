// The built app (build/) on one origin with the Hono API and the local IC
// interface in this process, with room for extra routes (test data): for the
// hash worker suite and the client bench, which make no canister calls from
// Chromium. Suites that upload run `npm start` instead (npm-start.ts): the
// runtime here executes on this thread, which would stall Playwright.
// Built on the client suites' local stack (tests/client/support).
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { existsSync, readdirSync } from 'node:fs';
import { startLocalStack, type LocalStack } from '../../client/support/local-stack';

export async function startAppStack(extra?: (root: Hono) => void): Promise<LocalStack> {
  if (!existsSync('build/index.html')) throw new Error('build/ is missing: the app build runs in the test global setup (tests/setup/app-build.ts)');
  return startLocalStack({
    mount: (root: Hono, config) => {
      root.get('/api/config', (c) => c.json(config));
      extra?.(root);
      root.use('/*', serveStatic({ root: './build' }));
      // SPA fallback for client-side routes.
      root.get('/*', serveStatic({ path: './build/index.html' }));
    },
  });
}

/** URL path of the built hash worker (its file name carries a content hash). */
export function hashWorkerPath(): string {
  const dir = 'build/_app/immutable/workers';
  const file = readdirSync(dir).find((f) => f.startsWith('hash.worker') && f.endsWith('.js'));
  if (!file) throw new Error(`no hash worker in ${dir}`);
  return `/_app/immutable/workers/${file}`;
}
