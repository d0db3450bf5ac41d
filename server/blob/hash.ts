// SHA-256 of raw bytes as lowercase hex (the content address everywhere).
import { createHash } from 'node:crypto';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
