// Who a session belongs to: what the session check puts on every signed-in request.
export interface SessionUser {
  /** Server-side user id (UUID). */
  id: string;
  /** The Internet Identity principal (textual) the session was opened for. */
  principal: string;
}
