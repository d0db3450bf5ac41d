// `npm start`'s deploy of the index (canister/local/deploy-index.ts) on a
// local IC: the first start installs forever_index and uploads the bucket
// module in chunks; a restart with the same modules changes nothing and
// uploads nothing; a new bucket module is uploaded and the index's rolling
// upgrade moves every existing bucket to it, their data kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, describe, expect, it } from 'vitest';
import { installableWasm, readCanisterIds } from '../../canister/local/deploy.js';
import { deployIndex, listBuckets, upgradeStatus, type IndexDeployOptions } from '../../canister/local/deploy-index.js';
import { addMetadata, LocalIC } from '../../canister/local/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'forever-deploy-index-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : null);

describe('deploying the index', () => {
  it('installs, then restarts without uploading again, then rolls a new bucket module out to every bucket', async () => {
    const ic = await LocalIC.create({ dataDir: join(dataDir, 'ic'), log: () => undefined });
    try {
      const controller = Ed25519KeyIdentity.generate().getPrincipal();
      const verifier = Ed25519KeyIdentity.generate().getPrincipal();
      const lines: string[] = [];
      const opts: IndexDeployOptions = { ic, dataDir, controller, capacity: { users: 5, bytes: 1n << 40n }, presenceVerifiers: [verifier], log: (l) => lines.push(l) };
      const first = await deployIndex(opts);
      expect(first).toMatchObject({ action: 'installed', bucketModule: 'uploaded', buckets: [], upgrade: null });
      expect(readCanisterIds(dataDir)).toEqual({ forever_index: { local: first.indexId.toText() } });

      // A user arrives: the index creates the first bucket with the module it holds.
      const user = Ed25519KeyIdentity.generate().getPrincipal();
      const assigned = await ic.update(first.indexId, 'assign_bucket', new Uint8Array(IDL.encode([], [])), { caller: user });
      expect(assigned.status).toBe('replied');
      const [bucket] = (await listBuckets(ic, first.indexId, controller)).map((b) => b.id);
      expect(hex(ic.moduleHash(bucket))).toBe(first.bucketModuleHash);
      const note = await ic.update(bucket, 'prove_principal', new Uint8Array(IDL.encode([IDL.Text], ['n'.repeat(32)])), { caller: user });
      expect(note.status).toBe('replied');

      // Restart, same modules: nothing uploaded, nothing upgraded.
      lines.length = 0;
      const again = await deployIndex(opts);
      expect(again).toMatchObject({ action: 'unchanged', bucketModule: 'unchanged', upgrade: null });
      expect(again.indexId.toText()).toBe(first.indexId.toText());
      expect(again.buckets.map((b) => b.toText())).toEqual([bucket.toText()]);
      expect(lines.some((l) => l.includes('uploaded bucket module'))).toBe(false);

      // A new bucket module (same code, other metadata, so another hash): uploaded, and the bucket upgraded by the index.
      const next = addMetadata(await installableWasm('forever'), 'forever:release', 'next');
      const third = await deployIndex({ ...opts, bucketWasm: next });
      expect(third.bucketModule).toBe('uploaded');
      expect(third.bucketModuleHash).not.toBe(first.bucketModuleHash);
      expect(third.upgrade).not.toBeNull();
      for (;;) {
        const s = await upgradeStatus(ic, third.indexId, controller);
        if (s && !('Running' in s.state)) {
          expect(s.state).toEqual({ Done: null });
          break;
        }
        // The rollout runs on the index's timers; the local IC runs them as time passes.
        await ic.advanceTime(1000);
      }
      expect(hex(ic.moduleHash(bucket))).toBe(third.bucketModuleHash);
      // The bucket kept its data and its index: the user's proof is still there, for the user only.
      const proof = await ic.query(bucket, 'nonce_principal', new Uint8Array(IDL.encode([IDL.Text], ['n'.repeat(32)])));
      expect(proof.status).toBe('replied');
      const named = IDL.decode([IDL.Opt(IDL.Principal)], (proof as { reply: Uint8Array }).reply)[0] as [] | [Principal];
      expect(named[0]?.toText()).toBe(user.toText());
    } finally {
      await ic.close();
    }
  }, 600_000);
});
