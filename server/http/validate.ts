// Request validation: hono's `validator` with a zod schema (what
// @hono/zod-validator does, without the extra package). Failures become
// INVALID_ARGUMENT (400) naming the first offending fields; a JSON route called
// with another content type gets UNSUPPORTED_MEDIA_TYPE (415).
import type { ValidationTargets } from 'hono';
import { validator } from 'hono/validator';
import type { z } from 'zod';
import { ApiError } from '../errors.js';

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** "title is longer than 512 bytes; metadata: expected record": a message that already names its field is not prefixed again. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'body';
      return i.message.startsWith(`${where} `) ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}

export const validate = <T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) =>
  validator(target, async (value, c): Promise<z.output<S>> => {
    if (target === 'json') {
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim();
      if (!JSON_TYPE.test(type)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'expected Content-Type: application/json');
    }
    const result = await schema.safeParseAsync(value);
    if (!result.success) throw new ApiError('INVALID_ARGUMENT', describeIssues(result.error));
    return result.data;
  });
