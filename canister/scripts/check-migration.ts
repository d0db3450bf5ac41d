// Checks that a canister running an older `forever` module keeps its data
// when upgraded to the one built now: chunks stored in the old chunk map
// read back, an upload begun under the old module resumes and commits (its
// later chunks go to the chunk space), deleting frees the old chunks, and
// the invariants hold. There is no deployed canister yet; this is for the
// module that ships the chunk space, and any later change of the layout.
// Usage: tsx canister/scripts/check-migration.ts <old forever.wasm>
//   (an old module: check out an older commit, `npm run build:canister`,
//   copy .azle/forever/forever.wasm)
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { LocalIC } from '../local/index.js';
import { actorFor, blob, ok } from '../../tests/canister/support/actor.js';
import { ADMIN, chunksOf, foreverWasm, metadata, MiB, newId, principal, seededBytes, sha256, storeFile } from '../../tests/canister/support/forever.js';

async function main(oldWasm: string): Promise<void> {
  const ic = await LocalIC.create({ clock: 'manual' });
  try {
    const id = await ic.createCanister({ controllers: [ADMIN] });
    await ic.installCode(id, new Uint8Array(readFileSync(oldWasm)), { mode: 'install', sender: ADMIN });
    const user = actorFor(ic, id, principal(7));
    const admin = actorFor(ic, id, ADMIN);
    const kept = seededBytes(3 * MiB + 5, 1);
    const first = await storeFile(user, kept);
    const resumed = seededBytes(4 * MiB, 2);
    const chunks = chunksOf(resumed, MiB);
    const memoryId = newId();
    ok(await user.upsert_metadata(memoryId, { Image: null }, metadata(), 'migration-k'));
    const s = ok(await user.begin_asset_upload(memoryId, sha256(resumed), 4, BigInt(resumed.length)));
    ok(await user.put_chunk(s.session_id, 0, chunks[0]));
    ok(await user.put_chunk(s.session_id, 2, chunks[2]));
    const gone = await storeFile(user, seededBytes(2 * MiB, 3));

    await ic.installCode(id, foreverWasm(), { mode: 'upgrade', sender: ADMIN });
    assert.deepEqual(ok(await admin.check_invariants()).violations, []);
    const read = async (m: string, n: number): Promise<Buffer> => {
      const parts = [];
      for (let i = 0; i < n; i++) parts.push(blob(ok(await user.read_chunk(m, i))));
      return Buffer.concat(parts);
    };
    assert.ok((await read(first.memoryId, 4)).equals(Buffer.from(kept)), 'an old file reads back');
    ok(await user.put_chunk(s.session_id, 1, chunks[1]));
    ok(await user.put_chunk(s.session_id, 3, chunks[3]));
    ok(await user.commit_asset(s.session_id, sha256(resumed)));
    assert.ok((await read(memoryId, 4)).equals(Buffer.from(resumed)), 'the resumed upload reads back');
    ok(await user.delete_memory(gone.memoryId));
    assert.deepEqual(ok(await admin.check_invariants()).violations, []);
    const stats = ok(await admin.get_stats());
    console.log(`migration from ${oldWasm}: old chunks read, an old upload resumed, deletion freed old chunks; ${stats.chunks} chunks, invariants hold`);
  } finally {
    await ic.close();
  }
}

const old = process.argv[2];
if (!old) {
  console.error('usage: tsx canister/scripts/check-migration.ts <old forever.wasm>');
  process.exit(2);
}
await main(old);
