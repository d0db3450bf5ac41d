// The local pinner's gateway: GET /ipfs/<cid> returns the exact bytes of a
// file this server pinned. Only CIDs of completed pins are served: a raw-leaf
// CID is just a SHA-256, and the blob copy must not answer for any private
// file whose hash someone knows.
import { Hono } from 'hono';
import { MAX_FILE_BYTES } from '../../contract/index.js';
import { ApiError } from '../errors.js';
import type { IpfsService } from './service.js';
import { paymentCors } from './routes.js';
import { exportFile, parseCid } from './unixfs.js';

export function ipfsGateway(ipfs: IpfsService) {
  const app = new Hono();
  app.use('*', paymentCors());
  app.on(['GET', 'HEAD'], '/:cid', async (c) => {
    const text = c.req.param('cid');
    const cid = parseCid(text);
    if (!cid) throw new ApiError('INVALID_ARGUMENT', 'not a CID');
    const pinned = await ipfs.db.selectFrom('ipfs_jobs').select('id').where('cid', '=', cid.toString()).where('status', '=', 'completed').limit(1).executeTakeFirst();
    const bytes = pinned ? await exportFile(cid, ipfs.blobStore, MAX_FILE_BYTES) : null;
    if (!bytes) throw new ApiError('NOT_FOUND', 'not pinned here');
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.byteLength),
      'cache-control': 'public, max-age=29030400, immutable',
      etag: `"${cid.toString()}"`,
      'x-ipfs-path': `/ipfs/${cid.toString()}`,
      'x-content-type-options': 'nosniff',
    });
  });
  return app;
}
