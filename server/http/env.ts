// Hono environment shared by every route: what middleware puts on the context.
export interface SessionUser {
  /** Server-side user id (UUID). */
  id: string;
  /** The Internet Identity principal (textual) the session was opened for. */
  principal: string;
}

export interface AppEnv {
  Variables: {
    user: SessionUser;
    /** Matched route pattern, for metrics and logs. */
    routeName: string;
  };
}
