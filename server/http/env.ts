// Hono environment shared by every route: what middleware puts on the context.
import type { SessionUser } from '../auth/session-user.js';

export type { SessionUser };

export interface AppEnv {
  Variables: {
    user: SessionUser;
    /** Matched route pattern, for metrics and logs. */
    routeName: string;
  };
}
