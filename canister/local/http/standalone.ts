// The local IC on its own, like `dfx start`: the runtime with its HTTP
// interface and development identity provider on one port, deploying the
// `forever` canister first unless told not to.
//   tsx canister/local/http/standalone.ts      (PORT=4943, DATA_DIR=.data)
//   NO_DEPLOY=1 tsx canister/local/http/standalone.ts
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { deployCanister, loadOrCreateDeployerIdentity } from '../deploy.js';
import { LocalIC } from '../index.js';
import { createLocalIcHttp, identityProviderUrl } from './local-ic-http.js';

const dataDir = path.resolve(process.env.DATA_DIR ?? '.data');
const icDir = path.join(dataDir, 'ic');
const port = Number(process.env.PORT ?? 4943);

// Canisters execute on a worker thread so the HTTP endpoints answer while a message runs.
const ic = await LocalIC.create({ dataDir: icDir, thread: 'worker' });
if (process.env.NO_DEPLOY !== '1') {
  const deployer = loadOrCreateDeployerIdentity(icDir);
  await deployCanister({ ic, dataDir, name: 'forever', controller: deployer.getPrincipal(), log: (l) => console.log(l) });
}
const http = await createLocalIcHttp({ runtime: ic, dataDir: icDir });
const app = new Hono();
http.mount(app);
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  const origin = `http://127.0.0.1:${info.port}`;
  console.log(`local IC listening on ${origin} (identity provider ${identityProviderUrl(origin)})`);
});
const stop = async () => {
  server.close();
  await ic.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
