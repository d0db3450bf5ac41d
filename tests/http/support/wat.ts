// Assembles the WAT test canisters (tests/fixtures/wat_canisters) with wabt,
// WebAssembly's own toolkit, so they need no CDK and no build step.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import wabtInit from 'wabt';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/wat_canisters');

let wabt: ReturnType<typeof wabtInit> | undefined;

/** Assembles `<name>.wat`; `memory64` allows 64-bit memories and tables. */
export async function assembleWat(name: string, opts: { memory64?: boolean } = {}): Promise<Uint8Array> {
  const w = await (wabt ??= wabtInit());
  const file = path.join(DIR, `${name}.wat`);
  const module = w.parseWat(file, await readFile(file, 'utf8'), {
    bulk_memory: true,
    mutable_globals: true,
    memory64: opts.memory64 ?? false,
  });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
