// The server's queue worker runs the IPFS executor on its own loop: with the
// worker started, a paid job is pinned without anyone calling runOnce().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpfsService } from '../../server/ipfs/service.js';
import { startTestServer, type TestServer } from '../server/support/server.js';
import { appFetch, newPayer } from './support/payer.js';

describe('the queue worker drains IPFS jobs', () => {
  let s: TestServer;
  let ipfs: IpfsService;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { queue: { enabled: true, pollIntervalMs: 20 } });
    ipfs = s.deps.ipfs!;
  });
  afterAll(async () => s?.close());

  it('pins a paid job in the background', async () => {
    expect(s.deps.worker).not.toBeNull();
    const pinned = new Promise<string>((resolve) => {
      const original = ipfs.pinner.pin.bind(ipfs.pinner);
      ipfs.pinner.pin = async (req) => {
        const r = await original(req);
        setImmediate(() => resolve(req.jobId));
        return r;
      };
    });
    const payer = newPayer(appFetch(s.app as never), { network: ipfs.config.network, asset: ipfs.config.asset });
    await ipfs.ledger!.mint(payer.account.address, 100_000n);
    const r = await payer.pay('http://forever.test/api/ipfs/store', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: '{"bg": true}' }) });
    expect(r.status).toBe(202);
    const { jobId } = (await r.json()) as { jobId: string };
    expect(await pinned).toBe(jobId);
    await s.deps.worker!.stop();
    const job = await ipfs.db.selectFrom('ipfs_jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job.status).toBe('completed');
  });
});
