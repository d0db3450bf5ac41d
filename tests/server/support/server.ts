// A server app over a real database for API tests: requests go through the
// real Hono app in-process (app.request), sessions are opened through the
// real session service (sign-in itself is tested against the canister).
import { openSession, userForPrincipal } from '../../../server/auth/sessions.js';
import { createServerApp, createServerDeps, type ServerConfig, type ServerDeps } from '../../../server/app.js';
import { createJsonLogger, silentLogger } from '../../../server/logging.js';
import { SESSION_COOKIE } from '../../../server/http/session.js';
import { createTestDatabase, type TestDatabase, type TestEngine } from './database.js';

export interface TestServer {
  db: TestDatabase;
  deps: ServerDeps & { close(): Promise<void> };
  app: ReturnType<typeof createServerApp>;
  /** Opens a session for `principal` and returns its Cookie header value. */
  signIn(principal: string): Promise<string>;
  request(path: string, init?: RequestInit & { cookie?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

// Nothing listens on port 9 (discard): IC calls fail fast unless a test
// injects the real stack's adapters.
const NO_IC = { icHost: 'http://127.0.0.1:9', canisterId: 'aaaaa-aa', fetchRootKey: true };

export async function startTestServer(engine: TestEngine, overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const db = await createTestDatabase(engine);
  const deps = await createServerDeps({
    ...NO_IC,
    dataDir: db.dataDir,
    databaseUrl: db.databaseUrl,
    logger: process.env.FOREVER_TEST_LOG ? createJsonLogger({ level: 'warn', write: (l) => process.stderr.write(l + '\n') }) : silentLogger,
    ...overrides,
    queue: { enabled: false, ...overrides.queue },
  });
  const app = createServerApp(deps);
  return {
    db,
    deps,
    app,
    async signIn(principal) {
      const user = await userForPrincipal(deps, principal);
      const { token } = await openSession(deps, user.id, 365 * 24 * 3600_000);
      return `${SESSION_COOKIE}=${token}`;
    },
    async request(path, init = {}) {
      const { cookie, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (cookie) headers.set('cookie', cookie);
      let body = rest.body;
      if (json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(json);
      }
      return app.request(path, { ...rest, headers, body });
    },
    async close() {
      await deps.close();
      await db.drop();
    },
  };
}

/** Two distinct self-authenticating-looking principals for isolation tests. */
export const ALICE = 'xkbqi-2qaaa-aaaah-qbpqq-cai';
export const BOB = 'rrkah-fqaaa-aaaaa-aaaaq-cai';
