// What the contract refuses, checked before anything is queued: a file or a
// note that cannot succeed never enters the queue. Pure; every cause is
// named in words the person can act on.
import { MAX_FILE_BYTES, TEXT_LIMITS, utf8Length } from '../../../../contract';

/** A refusal: the name the user knows the file by and why. */
export interface Refusal {
  name: string;
  reason: string;
}

/** Why a title cannot be stored, or null. */
export function titleProblem(title: string): string | null {
  const n = utf8Length(title);
  if (n > TEXT_LIMITS.title) return `title is longer than ${TEXT_LIMITS.title} bytes (it has ${n})`;
  return null;
}

/** Why a file (its name, its size, the title it would get) cannot be stored, or null. */
export function fileProblem(file: { name: string; size: number }, title: string = file.name): string | null {
  if (file.size === 0) return 'the file is empty (0 bytes): there is nothing to store';
  if (file.size > MAX_FILE_BYTES) return `the file is ${file.size} bytes, more than the ${MAX_FILE_BYTES} bytes (100 MiB) a memory can hold`;
  const nameBytes = utf8Length(file.name);
  if (nameBytes > TEXT_LIMITS.fileName) return `the file name is longer than ${TEXT_LIMITS.fileName} bytes (it has ${nameBytes})`;
  if (nameBytes === 0) return 'the file has no name';
  return titleProblem(title);
}

/** Why a note cannot be stored, or null. */
export function noteProblem(title: string, text: string): string | null {
  if (title.trim().length === 0) return 'a note needs a title';
  if (text.length === 0) return 'the note is empty';
  const t = titleProblem(title);
  if (t) return t;
  const size = utf8Length(text);
  if (size > MAX_FILE_BYTES) return `the note is ${size} bytes, more than the ${MAX_FILE_BYTES} bytes a memory can hold`;
  return null;
}

/** The file name a note is stored under: its title, made safe for a file name and kept within the limit. */
export function noteFileName(title: string): string {
  let base = title.replace(/[\\/:*?"<>|\u0000-\u001f]/g, ' ').trim() || 'note';
  while (utf8Length(`${base}.md`) > TEXT_LIMITS.fileName) base = Array.from(base).slice(0, -1).join('');
  return `${base}.md`;
}
