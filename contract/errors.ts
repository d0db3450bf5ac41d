// The error vocabularies clients switch on (never on message text).

/** The canister's `Error` variant, one name per case (Candid in canister/src/candid.ts). */
export const CANISTER_ERRORS = [
  'Unauthorized',
  'AlreadyExists',
  'NotFound',
  'InvalidHash',
  'InvalidArgument',
  'QuotaExceeded',
  'TooManyUploads',
  'UploadExpired',
  'Internal',
  // This bucket does not keep this principal's data: the client re-asks the index for its bucket and retries.
  'WrongBucket',
] as const;
export type CanisterErrorName = (typeof CANISTER_ERRORS)[number];

/** The server's `{ error: { code, message } }` codes and the HTTP status each comes with. */
export const API_ERRORS = {
  BAD_REQUEST: 400,
  INVALID_ARGUMENT: 400,
  INVALID_HASH: 400,
  UNAUTHENTICATED: 401,
  INVALID_NONCE: 401,
  FORBIDDEN: 403,
  STORAGE_QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ICP_PRESENCE_UNCONFIRMED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORAGE_QUEUE_FAILED: 500,
  IC_UNAVAILABLE: 502,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}
