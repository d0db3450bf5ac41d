// Adds `icp:public <name>` / `icp:private <name>` custom sections to a module,
// as `ic-wasm metadata` and dfx do (for example `candid:service`, which azle
// does not embed). The module hash changes accordingly, as it does with dfx.
import { concatBytes, customSectionName, encodeName, readSections, writeSections } from './binary.js';

export function addMetadata(
  wasm: Uint8Array,
  name: string,
  data: Uint8Array | string,
  visibility: 'public' | 'private' = 'public',
): Uint8Array {
  const sectionName = `icp:${visibility} ${name}`;
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const sections = readSections(wasm).filter(
    (s) => s.id !== 0 || !/^icp:(public|private) /.test(customSectionName(s)) || !customSectionName(s).endsWith(` ${name}`),
  );
  sections.push({ id: 0, payload: concatBytes([Uint8Array.from(encodeName(sectionName)), bytes]) });
  return writeSections(sections);
}
