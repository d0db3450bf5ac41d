// Random tokens for nonces and session cookies, and the hash under which a
// session token is stored (a leaked database does not yield live cookies).
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../bytes.js';

export const newNonce = (): string => randomBytes(24).toString('base64url');
export const newSessionToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): string => sha256Hex(token);
