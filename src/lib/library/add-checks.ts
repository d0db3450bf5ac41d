// What can be added, decided before anything is queued (pure): a file or a
// note that the server or the canister would refuse is named with its cause
// and never enters the queue.
import { MAX_FILE_BYTES, TEXT_LIMITS, utf8Length } from '../../../contract';

export interface Refusal {
  name: string;
  reason: string;
}

const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 2)} MiB`;

export function checkFile(f: { name: string; size: number }, title?: string): string | null {
  if (f.size === 0) return 'the file is empty (0 bytes)';
  if (f.size > MAX_FILE_BYTES) return `the file is ${f.size.toLocaleString('en')} bytes, over the ${mib(MAX_FILE_BYTES)} (${MAX_FILE_BYTES.toLocaleString('en')} bytes) limit`;
  const nameBytes = utf8Length(f.name);
  if (nameBytes > TEXT_LIMITS.fileName) return `the file name is ${nameBytes} bytes long, over the ${TEXT_LIMITS.fileName}-byte limit`;
  return checkTitle(title ?? f.name);
}

export function checkTitle(title: string): string | null {
  const n = utf8Length(title);
  if (n > TEXT_LIMITS.title) return `the title is ${n} bytes long, over the ${TEXT_LIMITS.title}-byte limit`;
  if (title.trim().length === 0) return 'the title is empty';
  return null;
}

export function checkDescription(text: string): string | null {
  const n = utf8Length(text);
  return n > TEXT_LIMITS.description ? `the description is ${n} bytes long, over the ${TEXT_LIMITS.description}-byte limit` : null;
}

/** Splits a pick into what may be queued and what is refused, each refusal with its cause. */
export function partitionFiles<F extends { name: string; size: number }>(files: F[], titles?: (string | undefined)[]): { ok: F[]; refused: Refusal[] } {
  const ok: F[] = [];
  const refused: Refusal[] = [];
  files.forEach((f, i) => {
    const reason = checkFile(f, titles?.[i]);
    if (reason) refused.push({ name: f.name, reason });
    else ok.push(f);
  });
  return { ok, refused };
}
