// "Also keep on IPFS", run in the background: the screens ask for the price
// (the broker's unpaid 402), the user agrees, and the agreement is queued as
// an intent in IndexedDB. Once the memory is committed on the Internet
// Computer, the intent is paid with the wallet (the development wallet under
// `npm start`, an injected EIP-1193 wallet in production) and the job is
// followed until it has a CID or an error. Nothing here blocks a screen.
import { app } from '$lib/app/app.svelte';
import { IpfsClient, type IpfsConfigView } from './client';
import { IpfsIntents } from './intents';
import { formatUsd, type IpfsJob, type IpfsOffer } from './offer';
import type { MemoryIpfsState } from './status';
import { developmentWallet, injectedWallet, type IpfsWallet } from './wallet';
import type { EIP1193Provider } from 'viem';

export interface IpfsQuote {
  /** The offers to pay, one per memory. */
  offers: { memoryId: string; offer: IpfsOffer }[];
  /** Memories already paid or pinned: nothing to pay. */
  already: string[];
  /** Memories the broker refused to price, with the reason. */
  refused: { memoryId: string; reason: string }[];
  config: IpfsConfigView;
}

/** A reason in plain words (a failed fetch means the server did not answer). */
const message = (e: unknown) => (e instanceof TypeError && /fetch/i.test(e.message) ? 'the Forever server could not be reached' : e instanceof Error ? e.message : String(e));

export class IpfsKeeper {
  states: Record<string, MemoryIpfsState> = $state({});
  private readonly client = new IpfsClient();
  private readonly intents = new IpfsIntents();
  private wallet: Promise<IpfsWallet> | null = null;
  private running: Promise<void> | null = null;
  private checked = new Set<string>();

  /** The price of keeping these memories on IPFS (no payment yet). */
  async quote(memoryIds: readonly string[]): Promise<IpfsQuote> {
    const config = await this.client.config();
    const q: IpfsQuote = { offers: [], already: [], refused: [], config };
    for (const memoryId of memoryIds) {
      try {
        const o = await this.client.offerForMemory(memoryId);
        if ('offer' in o) q.offers.push({ memoryId, offer: o.offer });
        else {
          q.already.push(memoryId);
          this.follow(memoryId, o.job);
        }
      } catch (e) {
        q.refused.push({ memoryId, reason: message(e) });
      }
    }
    return q;
  }

  /** The user agreed to the quote: queue the intents and run them in the background. */
  async keep(q: IpfsQuote): Promise<void> {
    const owner = app.session.principal;
    for (const { memoryId, offer } of q.offers) {
      await this.intents.put({ memoryId, owner, maxAmount: offer.amount, queuedAt: Date.now() });
      this.states[memoryId] = { phase: 'waiting' };
    }
    void this.run();
  }

  /** Reads a memory's latest job once (a pin made earlier, or on another device), and resumes queued intents. */
  watch(memoryId: string): void {
    void this.run();
    if (this.checked.has(memoryId)) return;
    this.checked.add(memoryId);
    this.client
      .jobsForMemory(memoryId)
      .then((jobs) => {
        const latest = jobs[0];
        if (latest && !this.states[memoryId]) this.follow(memoryId, latest);
      })
      .catch(() => undefined);
  }

  /** Runs the queued intents until none is left; one runner at a time. */
  run(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const owner = app.session.principal;
      if (!owner) return;
      const pending = await this.intents.all(owner);
      if (pending.length === 0) return;
      let progressed = false;
      for (const intent of pending) {
        const m = app.library.byId(intent.memoryId);
        // Only after the ICP commit: IPFS is the second copy, not the first.
        if (!m?.onIcp) {
          this.states[intent.memoryId] ??= { phase: 'waiting' };
          if (this.states[intent.memoryId].phase !== 'waiting') this.states[intent.memoryId] = { phase: 'waiting' };
          continue;
        }
        progressed = true;
        await this.pay(intent.memoryId, intent.maxAmount);
      }
      // Waiting for Store Forever to finish; the library reloads when it does.
      if (!progressed) await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private async pay(memoryId: string, maxAmount: string): Promise<void> {
    this.states[memoryId] = { phase: 'paying' };
    try {
      const o = await this.client.offerForMemory(memoryId);
      if ('job' in o) {
        await this.intents.delete(memoryId);
        await this.finish(memoryId, o.job);
        return;
      }
      if (BigInt(o.offer.amount) > BigInt(maxAmount)) {
        await this.intents.delete(memoryId);
        this.states[memoryId] = { phase: 'failed', error: `the price is now ${formatUsd(o.offer.priceUsd)}; ask again to see it` };
        return;
      }
      const wallet = await this.walletFor();
      const paid = await this.client.payMemory(memoryId, o.offer, wallet);
      // Paid: the server has the job now, so the intent is done whatever the pin does.
      await this.intents.delete(memoryId);
      await this.finish(memoryId, paid);
    } catch (e) {
      await this.intents.delete(memoryId);
      this.states[memoryId] = { phase: 'failed', error: message(e) };
    }
  }

  private follow(memoryId: string, job: IpfsJob): void {
    void this.finish(memoryId, job).catch((e) => (this.states[memoryId] = { phase: 'failed', error: message(e) }));
  }

  private async finish(memoryId: string, job: IpfsJob): Promise<void> {
    if (job.status === 'pending_payment') return;
    let j = job;
    if (j.status !== 'completed' && j.status !== 'failed') {
      this.states[memoryId] = { phase: 'pinning' };
      j = await this.client.waitForJob(j.jobId, { intervalMs: 500 });
    }
    if (j.status === 'completed' && j.result) {
      this.states[memoryId] = { phase: 'kept', cid: j.result.cid, url: j.result.ipfsUrl };
      void app.reload();
    } else this.states[memoryId] = { phase: 'failed', error: j.error ?? 'the pin failed' };
  }

  private walletFor(): Promise<IpfsWallet> {
    this.wallet ??= (async () => {
      const config = await this.client.config();
      if (config.dev_faucet) return developmentWallet(this.client, localStorage);
      const injected = (globalThis as { ethereum?: EIP1193Provider }).ethereum;
      if (!injected) throw new Error('no wallet in this browser: install one to pay for IPFS');
      return injectedWallet(injected);
    })();
    this.wallet.catch(() => (this.wallet = null));
    return this.wallet;
  }
}

/** One keeper per page. */
export const ipfsKeeper = new IpfsKeeper();

/** Which wallet will pay, in plain words. */
export function walletName(config: IpfsConfigView): string {
  if (config.dev_faucet) return 'the development wallet (test money from this server, not a real chain)';
  return 'your browser wallet';
}
