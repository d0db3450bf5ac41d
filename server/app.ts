// The Hono app: /healthz, /metrics and the JSON API under /api. It claims no
// wildcard under /api, so the IC HTTP interface (/api/v2/*, /api/v3/*) can be
// mounted on the same app by server/main.ts.
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ServerDeps } from './deps.js';
import { ApiError, type ErrorCode } from './errors.js';
import type { AppEnv } from './http/env.js';
import { bodyLimits } from './http/body-limits.js';
import { requireUser } from './http/session.js';
import { authRoutes } from './routes/auth.js';
import { edgeRoutes } from './routes/edges.js';
import { folderRoutes } from './routes/folders.js';
import { galleryRoutes } from './routes/galleries.js';
import { healthRoutes } from './routes/health.js';
import { memoryRoutes } from './routes/memories.js';
import { uploadRoutes } from './blob-copy/route.js';
import { usageRoutes } from './routes/usage.js';
import { ipfsGateway } from './ipfs/gateway.js';
import { ipfsRoutes } from './ipfs/routes.js';

export { createServerDeps, type ServerDeps } from './deps.js';
export type { ServerConfig } from './config.js';

const IC_INTERFACE = /^\/api\/v[23]\//;

const HTTP_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export function createServerApp(deps: ServerDeps) {
  const app = new Hono<AppEnv>();
  const auth = requireUser(deps);

  // Access log + request metric for the server's own routes.
  app.use('*', async (c, next) => {
    if (IC_INTERFACE.test(c.req.path)) return next();
    const started = performance.now();
    await next();
    const route = c.req.routePath;
    deps.metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    if (route !== '/healthz' && route !== '/metrics') {
      deps.logger.info('http', {
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      });
    }
  });

  // IPFS pins paid with x402: the broker (its own session and body limits) and the local gateway.
  if (deps.ipfs) {
    app.route('/api/ipfs', ipfsRoutes(deps.ipfs));
    app.route('/ipfs', ipfsGateway(deps.ipfs));
  }

  for (const prefix of ['/api/memories', '/api/galleries', '/api/folders', '/api/storage', '/api/upload_file', '/api/upload_queue', '/api/usage']) {
    app.use(prefix, auth);
    app.use(`${prefix}/*`, auth);
  }
  // Cookie-authenticated writes: refuse cross-site form-style posts.
  for (const prefix of ['/api/auth', '/api/memories', '/api/galleries', '/api/folders', '/api/storage', '/api/upload_file', '/api/upload_queue', '/api/usage']) {
    app.use(prefix, csrf());
    app.use(`${prefix}/*`, csrf());
  }

  // After the session check (which reads no body), so a caller without a
  // session never makes the server read the upload route's large body.
  app.use('*', bodyLimits(deps.limits.maxUploadBytes));

  app.route('/', healthRoutes(deps));

  const routes = app
    .route('/api/auth', authRoutes(deps))
    .route('/api/memories', memoryRoutes(deps))
    .route('/api/galleries', galleryRoutes(deps))
    .route('/api/folders', folderRoutes(deps))
    .route('/api/storage/edges', edgeRoutes(deps))
    .route('/api/usage', usageRoutes(deps))
    .route('/api', uploadRoutes(deps));

  app.notFound((c) => c.json(new ApiError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`).toBody(), 404));

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = HTTP_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
      return c.json({ error: { code, message: error.message || code } }, status);
    }
    deps.logger.error('UnhandledError', { route: c.req.routePath, error: error instanceof Error ? error : new Error(String(error)) });
    return c.json(new ApiError('INTERNAL', 'internal error').toBody(), 500);
  });

  return routes;
}

export type ServerApp = ReturnType<typeof createServerApp>;
