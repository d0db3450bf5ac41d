// Text the screens check before they write it (pure); files and notes are
// checked by the upload engine (its fileProblem / noteProblem), with the
// same contract limits.
import { TEXT_LIMITS, utf8Length } from '../../../contract';
import { titleProblem } from '../upload';

export { titleProblem };

/** A gallery's or a memory's title: present and within the limit. */
export function checkTitle(title: string): string | null {
  if (title.trim().length === 0) return 'the title is empty';
  return titleProblem(title);
}

export function checkDescription(text: string): string | null {
  const n = utf8Length(text);
  return n > TEXT_LIMITS.description ? `description is longer than ${TEXT_LIMITS.description} bytes (it has ${n})` : null;
}
