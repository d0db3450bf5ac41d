// Body size limits for JSON routes, answered with the API's error shape.
import type { Context } from 'hono';
import { ApiError } from '../errors.js';

export const jsonBodyLimit = (maxSize: number) => ({
  maxSize,
  onError: (_c: Context): never => {
    throw new ApiError('PAYLOAD_TOO_LARGE', `body larger than ${maxSize} bytes`);
  },
});
