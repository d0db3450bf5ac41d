// The Store Forever modal's steps and error categories (pure).
export type Step = 'idle' | 'auth' | 'prepare' | 'store' | 'verify' | 'success' | 'error';

export const STEP_ORDER: Step[] = ['auth', 'prepare', 'store', 'verify'];

export const STEP_WORDS: Record<Step, string> = {
  idle: 'Ready',
  auth: 'Signing in',
  prepare: 'Preparing',
  store: 'Storing',
  verify: 'Verifying',
  success: 'Stored forever',
  error: 'Stopped',
};

export type ErrorCategory = 'auth' | 'network' | 'quota' | 'validation' | 'unknown';

export function categorize(code: string | null | undefined, message: string): ErrorCategory {
  const c = code ?? '';
  if (/UNAUTHENTICATED|Unauthorized|needs-sign-in|AuthRequired|sign.?in/i.test(c + ' ' + message)) return 'auth';
  if (/Quota|STORAGE_QUOTA/i.test(c)) return 'quota';
  if (/Network|Timeout|Http5|IcTransient|CircuitOpen|unreachable|fetch/i.test(c + ' ' + message)) return 'network';
  if (/InvalidArgument|InvalidHash|INVALID|BytesMissing|FileUnreadable/i.test(c)) return 'validation';
  return 'unknown';
}

export const CATEGORY_WORDS: Record<ErrorCategory, string> = {
  auth: 'Your sign-in ended. Sign in again and press Retry; what was stored stays stored.',
  network: 'The connection to the Internet Computer failed. The upload retries on its own; press Retry to try now.',
  quota: 'Your storage quota is used up. Free some space or raise the quota, then press Retry.',
  validation: 'A memory was refused as it is. Its reason is shown below; the others were stored.',
  unknown: 'Something went wrong. Its reason is shown below; press Retry.',
};
