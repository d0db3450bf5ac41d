// Compiles the Motoko test canisters (tests/fixtures/motoko_canisters) with
// moc from the `motoko` npm package, in the test process: no dfx, no
// download. moc 4.10 emits enhanced orthogonal persistence only, a module
// with a 64-bit memory and a 64-bit table (see docs/local-ic.md for what the
// local IC does to run it on Node 20).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mo from 'motoko';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/motoko_canisters');

export interface CompiledMotoko {
  wasm: Uint8Array;
  /** The Candid interface moc derives (also embedded as `candid:service`). */
  candid: string;
}

export async function compileMotoko(name: string): Promise<CompiledMotoko> {
  const file = `${name}.mo`;
  mo.write(file, await readFile(path.join(DIR, file), 'utf8'));
  const { wasm, candid } = mo.wasm(file, 'ic') as { wasm: Uint8Array; candid: string };
  return { wasm: new Uint8Array(wasm), candid };
}
