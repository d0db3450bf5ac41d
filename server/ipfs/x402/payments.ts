// The broker's side of x402: one resource server (the exact-EVM scheme over
// the configured facilitator) and, per job, the real `@x402/hono` payment
// middleware priced from the job's stored quote. The 402 and the settlement
// are the package's; the broker decides only what is sold.
import type { MiddlewareHandler } from 'hono';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer, type FacilitatorClient, type RouteConfig } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddlewareFromHTTPServer } from '@x402/hono';
import type { ResolvedIpfsConfig } from '../config.js';
import type { JobRow } from '../schema.js';

/** How long a signed payment stays valid (the authorization's validBefore window). */
export const PAYMENT_TIMEOUT_SECONDS = 300;

// The package's HTML paywall is for browsers navigating to a paid page; this
// API always answers JSON (the broker rewrites every 402 body).
const noPaywall = { generateHtml: () => '<!doctype html><p>Payment required</p>' };

export class BrokerPayments {
  readonly resourceServer: x402ResourceServer;
  private initialized: Promise<void> | null = null;

  constructor(
    private readonly config: ResolvedIpfsConfig,
    facilitator: FacilitatorClient,
  ) {
    this.resourceServer = new x402ResourceServer(facilitator).register(config.network as `${string}:${string}`, new ExactEvmScheme());
  }

  static facilitatorFor(config: ResolvedIpfsConfig, local: () => FacilitatorClient): FacilitatorClient {
    return config.facilitatorUrl ? new HTTPFacilitatorClient({ url: config.facilitatorUrl }) : local();
  }

  /** Fetches what the facilitator supports, once (again after a failure). */
  async ready(): Promise<void> {
    this.initialized ??= this.resourceServer.initialize().catch((error: unknown) => {
      this.initialized = null;
      throw error;
    });
    await this.initialized;
  }

  routeFor(job: JobRow): RouteConfig {
    if (!job.amount || !job.asset || !job.pay_to || !job.network) throw new Error(`job ${job.id} has no price`);
    return {
      accepts: {
        scheme: 'exact',
        network: job.network as `${string}:${string}`,
        payTo: job.pay_to,
        price: { amount: job.amount, asset: job.asset, extra: { name: this.config.tokenName, version: this.config.tokenVersion } },
        maxTimeoutSeconds: PAYMENT_TIMEOUT_SECONDS,
      },
      description: `IPFS pin of ${job.file_size ?? 0} bytes (${job.endpoint})`,
      mimeType: 'application/json',
    };
  }

  middlewareFor(job: JobRow): MiddlewareHandler {
    const http = new x402HTTPResourceServer(this.resourceServer, this.routeFor(job));
    return paymentMiddlewareFromHTTPServer(http, undefined, noPaywall, false);
  }
}
