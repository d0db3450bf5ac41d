// A process that runs the local IC on a data directory and commits updates in
// a loop, printing `COMMITTED <i>` after update i returned, so the crash test
// knows what must survive a SIGKILL. Config (JSON) in LOCAL_IC_CHILD:
// { dataDir, wasmPath, thread? } (thread: where the runtime executes, as in LocalIC.create).
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { LocalIC } from '../../../canister/local/index.js';

interface ChildConfig {
  dataDir: string;
  wasmPath: string;
  thread?: 'main' | 'worker';
}

const config = JSON.parse(process.env.LOCAL_IC_CHILD ?? '{}') as ChildConfig;
const ic = await LocalIC.create({ dataDir: config.dataDir, clock: 'manual', log: () => undefined, thread: config.thread });
let [id] = ic.canisterIds();
if (!id) {
  id = await ic.createCanister();
  await ic.installCode(id, new Uint8Array(readFileSync(config.wasmPath)), {
    mode: 'install',
    arg: new Uint8Array(IDL.encode([IDL.Text], ['crash'])),
  });
}
process.stdout.write(`READY ${id.toText()}\n`);
// Values big enough that one update spans many stable-memory blocks.
const value = (i: number): string => `v${i}-`.padEnd(20_000, String.fromCharCode(97 + (i % 26)));
for (let i = 0; ; i++) {
  const r = await ic.update(id, 'stableSet', new Uint8Array(IDL.encode([IDL.Text, IDL.Text], [`k${i}`, value(i)])));
  if (r.status !== 'replied') throw new Error(`update ${i} failed: ${r.rejectMessage}`);
  process.stdout.write(`COMMITTED ${i}\n`);
}
