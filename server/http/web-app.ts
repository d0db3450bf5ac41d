// The web app: the SvelteKit build (adapter-static) served from build/, with
// the SPA fallback (index.html) for client-side routes, and /favicon.ico.
// Hashed assets under /_app/immutable/ are cached for a year; everything else
// is revalidated, so a new build is picked up on the next load.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** Mounts the app on `app` when `buildDir` holds a build; returns whether it did. */
export function mountWebApp(app: Hono, buildDir: string): boolean {
  const index = path.join(buildDir, 'index.html');
  if (!existsSync(index)) return false;
  const root = path.relative(process.cwd(), buildDir) || '.';
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    if (c.req.path.startsWith('/_app/immutable/')) c.header('cache-control', 'public, max-age=31536000, immutable');
    else c.header('cache-control', 'no-cache');
    return serveStatic({ root })(c, next);
  });
  app.use('*', async (c, next) => {
    const p = c.req.path;
    const isPage = (c.req.method === 'GET' || c.req.method === 'HEAD') && !p.startsWith('/api/') && !p.startsWith('/ii/') && !path.extname(p);
    if (!isPage) return next();
    c.header('cache-control', 'no-cache');
    return c.html(readFileSync(index, 'utf8'));
  });
  return true;
}
