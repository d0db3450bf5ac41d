// Random tokens for nonces and session cookies, and the hash under which a
// session token is stored (a leaked database does not yield live cookies).
import { createHash, randomBytes } from 'node:crypto';

export const newNonce = (): string => randomBytes(24).toString('base64url');
export const newSessionToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
