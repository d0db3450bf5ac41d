// The API's error vocabulary. Every failure leaves the server as
// `{ error: { code, message } }` with the status declared here, so clients
// switch on `code` and never parse messages.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { API_ERRORS, type ApiErrorCode, type ApiErrorBody } from '../contract/index.js';

/** Every code and its status, from the contract all tiers share. */
export const ERROR_STATUS: { readonly [K in ApiErrorCode]: (typeof API_ERRORS)[K] & ContentfulStatusCode } = API_ERRORS;

export type ErrorCode = ApiErrorCode;
export type ErrorBody = ApiErrorBody;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export const notFound = (what: string): ApiError => new ApiError('NOT_FOUND', `${what} not found`);
