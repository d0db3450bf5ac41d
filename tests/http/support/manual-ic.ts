// A LocalIC on a manual clock that starts at the wall clock, served over the
// IC HTTP interface: tests move time explicitly (timers) while the agent,
// whose own clock is the wall clock, still accepts the certificates and
// ingress expiries.
import { HttpAgent } from '@dfinity/agent';
import type { Identity } from '@dfinity/agent';
import { createIcHttpApp } from '../../../canister/local/http/app.js';
import { IcHttpInterface } from '../../../canister/local/http/interface.js';
import { loadOrCreateKeys } from '../../../canister/local/http/keys.js';
import { LocalIC } from '../../../canister/local/index.js';
import { serveApp, type Served } from './serve.js';

export interface ManualIc {
  ic: LocalIC;
  iface: IcHttpInterface;
  served: Served;
  /** Moves the IC's clock up to the wall clock (never back). */
  catchUp(): Promise<void>;
  agent(identity?: Identity): Promise<HttpAgent>;
  close(): Promise<void>;
}

export async function startManualIc(): Promise<ManualIc> {
  const ic = await LocalIC.create({ clock: 'manual', startTime: BigInt(Date.now()) * 1_000_000n, log: () => {} });
  const iface = new IcHttpInterface({ runtime: ic, keys: loadOrCreateKeys() });
  const served = await serveApp(createIcHttpApp(iface));
  return {
    ic,
    iface,
    served,
    async catchUp() {
      const wall = BigInt(Date.now()) * 1_000_000n;
      if (wall > ic.timeNs()) await ic.setTime(wall);
    },
    agent: (identity) => HttpAgent.create({ host: served.url, shouldFetchRootKey: true, ...(identity ? { identity } : {}) }),
    async close() {
      await served.close();
      await ic.close();
    },
  };
}
