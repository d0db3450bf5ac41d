// The canister's error model: one Candid variant (`Error` in forever.did).
// Service code throws `Fail`; the adapter replies `{ Err }` when nothing was
// written yet and traps (the IC rolls the message back) otherwise, so an error
// can never leave state half-written.
import type { Error as ApiError } from './candid-types';

export type { ApiError };

export class Fail extends Error {
  /**
   * `keep`: the writes made before this error form a consistent state and
   * must be kept (e.g. a session ended because its bytes did not match).
   */
  constructor(
    readonly error: ApiError,
    readonly keep = false,
  ) {
    super(`canister error ${Object.keys(error)[0]}${'InvalidArgument' in error ? `: ${error.InvalidArgument}` : ''}`);
  }
}

export const unauthorized = (): Fail => new Fail({ Unauthorized: null });
export const notFound = (): Fail => new Fail({ NotFound: null });
export const alreadyExists = (): Fail => new Fail({ AlreadyExists: null });
export const invalidHash = (): Fail => new Fail({ InvalidHash: null });
export const invalid = (why: string): Fail => new Fail({ InvalidArgument: why });
export const uploadExpired = (): Fail => new Fail({ UploadExpired: null });
export const quotaExceeded = (used: bigint, limit: bigint): Fail => new Fail({ QuotaExceeded: { used, limit } });
export const tooManyUploads = (active: number, max: number): Fail => new Fail({ TooManyUploads: { active, max } });
export const internal = (why: string): Fail => new Fail({ Internal: why });
