// GET /api/config (also /env.json): where the browser finds the index canister
// (which names each user's bucket), the IC and the identity provider (src/lib/upload/client-config.ts reads it).
// With the embedded local IC they are this origin, as the page sees it
// (localhost or 127.0.0.1), so the same server works under either name.
import { Hono } from 'hono';

export interface ClientConfigOptions {
  indexId?: string;
  /** A standalone canister instead of an index (a deployment of one `forever`). */
  canisterId?: string;
  /** The IC host of a real network; undefined when the local IC is mounted on this origin. */
  remoteIcHost?: string;
  /** The identity provider's URL for an origin (the local IC's own, or a fixed one). */
  identityProvider: (origin: string) => string;
  fetchRootKey: boolean;
  serverPrincipal: string;
}

export function clientConfigRoutes(o: ClientConfigOptions): Hono {
  const app = new Hono();
  const handler = (c: import('hono').Context) => {
    const here = new URL(c.req.url).origin;
    c.header('cache-control', 'no-store');
    return c.json({
      ...(o.indexId ? { indexId: o.indexId } : { canisterId: o.canisterId }),
      icHost: o.remoteIcHost ?? here,
      identityProvider: o.identityProvider(here),
      fetchRootKey: o.fetchRootKey,
      apiBase: '',
      serverPrincipal: o.serverPrincipal,
    });
  };
  app.get('/api/config', handler);
  app.get('/env.json', handler);
  return app;
}
