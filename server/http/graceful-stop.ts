// A graceful stop for a Node HTTP server, bounded in time:
// 1. stop accepting connections (server.close());
// 2. let the requests in flight finish, each answered with `Connection: close`
//    so its socket ends after the answer (a request that arrives on an open
//    keep-alive socket meanwhile is served the same way);
// 3. close keep-alive sockets as soon as they are idle (checked on every
//    answer and on a short timer), so no idle socket holds the stop open;
// 4. past the deadline, close whatever is left.
// The caller stops what the requests need (the IC, the database) only after.
import type { Server, ServerResponse } from 'node:http';

export interface GracefulStop {
  readonly stopping: boolean;
  /** Resolves once every connection is closed; `forced` when the deadline cut some. */
  stop(deadlineMs: number): Promise<{ forced: boolean }>;
}

export function gracefulStop(server: Server): GracefulStop {
  let stopping = false;
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    // Runs after the app's own listener started the request, before it answers.
    if (stopping) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (stopping) server.closeIdleConnections();
    });
  });
  return {
    get stopping() {
      return stopping;
    },
    stop(deadlineMs) {
      stopping = true;
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      return new Promise((resolve) => {
        let forced = false;
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => {
          forced = true;
          server.closeAllConnections();
        }, deadlineMs);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve({ forced });
        });
        server.closeIdleConnections();
      });
    },
  };
}
