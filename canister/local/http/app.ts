// The IC HTTP interface as a Hono app with absolute paths (/api/v2/...,
// /api/v3/...), so it mounts on any Hono app (`app.route('/', icApp)`) and
// one origin can serve the web app, its API and the IC interface. CORS is
// open, as on the IC's boundary nodes, so a page on another local origin
// can call it.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { IcHttpInterface, IcHttpResponse } from './interface.js';

export interface IcHttpAppOptions {
  /** Serve `/api/v3/canister/:id/call` (default true). Off, agents fall back to v2 call + polling. */
  callV3?: boolean;
}

/** Largest HTTP body the replica reads (its request limit is 5 MB). */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

function respond(c: Context, r: IcHttpResponse): Response {
  const headers = { 'content-type': r.contentType };
  return typeof r.body === 'string' ? c.body(r.body, r.status as 200, headers) : c.body(r.body as Uint8Array<ArrayBuffer>, r.status as 200, headers);
}

export function createIcHttpApp(iface: IcHttpInterface, opts: IcHttpAppOptions = {}): Hono {
  const app = new Hono();
  const paths = ['/api/v2/*', '/api/v3/*', '/_/*'];
  for (const p of paths) {
    app.use(
      p,
      cors({
        origin: '*',
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'Authorization'],
        maxAge: 7200,
      }),
    );
    app.use(
      p,
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: (c) => c.text(`Request body is too large: at most ${MAX_BODY_BYTES} bytes are accepted.`, 413),
      }),
    );
  }

  app.get('/api/v2/status', (c) => respond(c, iface.status()));
  // dfx's local network (PocketIC) serves its topology here; tools read the
  // default effective canister id from it.
  app.get('/_/topology', (c) => c.json(iface.topology()));

  const endpoint = (kind: 'call-v3' | 'call-v2' | 'query' | 'read_state') => async (c: Context) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/cbor')) {
      return c.text(`Unexpected content-type, expected application/cbor, got ${type || 'nothing'}.`, 400);
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    return respond(c, await iface.handle(kind, c.req.param('id') ?? '', body));
  };

  if (opts.callV3 ?? true) app.post('/api/v3/canister/:id/call', endpoint('call-v3'));
  app.post('/api/v2/canister/:id/call', endpoint('call-v2'));
  app.post('/api/v2/canister/:id/query', endpoint('query'));
  app.post('/api/v2/canister/:id/read_state', endpoint('read_state'));
  return app;
}
