// `npm run bench`: runs every bench/*.bench.ts in turn (or those named on the
// command line). Each module's default export prints its own report; every
// figure is a ratio against a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

let failed = false;
for (const file of files) {
  console.log(`\n## ${file.replace('.bench.ts', '')}\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
    await mod.default();
  } catch (err) {
    failed = true;
    console.error(`bench ${file} failed:`, err);
  }
}
process.exit(failed ? 1 : 0);
