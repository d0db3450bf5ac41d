// Uploads the bucket module (the `forever` canister's Wasm, about 3.6 MB) to
// an index canister on a real network: chunks of at most 1 MiB
// (`upload_bucket_module_chunk`), then `set_bucket_module` with the chunk
// count and SHA-256. Signed with a controller's dfx identity (secp256k1 PEM:
// `dfx identity export <name> > id.pem`). The local deploy does the same
// through the embedded IC (canister/local/deploy-index.ts).
//
//   npx tsx scripts/upload-bucket-module.ts --host https://icp-api.io --index <id> --pem id.pem [--wasm .azle/forever/forever.wasm]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Actor, HttpAgent, type ActorMethod } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';

const CHUNK = 1024 * 1024;

type Unit = { Ok: null } | { Err: Record<string, unknown> };
interface IndexAdmin {
  upload_bucket_module_chunk: ActorMethod<[number, Uint8Array], Unit>;
  set_bucket_module: ActorMethod<[number, Uint8Array], Unit>;
}

const idl: IDL.InterfaceFactory = ({ IDL }) => {
  const IndexError = IDL.Variant({ Unauthorized: IDL.Null, InvalidArgument: IDL.Text, NoBucketModule: IDL.Null, Busy: IDL.Null, CreateFailed: IDL.Text, AdmitFailed: IDL.Text });
  const Unit = IDL.Variant({ Ok: IDL.Null, Err: IndexError });
  return IDL.Service({
    upload_bucket_module_chunk: IDL.Func([IDL.Nat32, IDL.Vec(IDL.Nat8)], [Unit], []),
    set_bucket_module: IDL.Func([IDL.Nat32, IDL.Vec(IDL.Nat8)], [Unit], []),
  });
};

const { values } = parseArgs({
  options: { host: { type: 'string' }, index: { type: 'string' }, pem: { type: 'string' }, wasm: { type: 'string', default: '.azle/forever/forever.wasm' } },
});
if (!values.host || !values.index || !values.pem) {
  console.error('usage: upload-bucket-module.ts --host <IC url> --index <index id> --pem <controller identity PEM> [--wasm <bucket module>]');
  process.exit(2);
}
const local = /^(localhost|127\.|\[::1\])/.test(new URL(values.host).hostname);
const identity = Secp256k1KeyIdentity.fromPem(readFileSync(values.pem, 'utf8'));
const agent = await HttpAgent.create({ host: values.host, identity, shouldFetchRootKey: local });
const index = Actor.createActor<IndexAdmin>(idl, { agent, canisterId: values.index });
const wasm = new Uint8Array(readFileSync(values.wasm!));
const sha256 = new Uint8Array(createHash('sha256').update(wasm).digest());
const count = Math.ceil(wasm.length / CHUNK);
const ok = (what: string, r: Unit) => {
  if ('Err' in r) throw new Error(`${what} refused: ${JSON.stringify(r.Err)}`);
};
for (let i = 0; i < count; i++) {
  ok(`chunk ${i}`, await index.upload_bucket_module_chunk(i, wasm.subarray(i * CHUNK, (i + 1) * CHUNK)));
  console.log(`chunk ${i + 1}/${count} uploaded`);
}
ok('set_bucket_module', await index.set_bucket_module(count, sha256));
console.log(`bucket module set: ${count} chunks, sha256 ${Buffer.from(sha256).toString('hex')}`);
