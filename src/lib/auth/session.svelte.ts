// Who is signed in: the Internet Identity delegation the auth client keeps
// (IndexedDB, shared with the service worker) and, from it, the two typed
// clients: the canister (signed as the user) and the server (its session
// cookie obtained by proving the principal on the canister).
import { AuthClient } from '@dfinity/auth-client';
import { CanisterReader, type CanisterTarget } from '../api/canister';
import { ServerApi } from '../api/server';

const SESSION_HOURS = 8;

export class Session {
  principal: string | null = $state(null);
  ready = $state(false);
  signingIn = $state(false);
  error: string | null = $state(null);
  canister: CanisterReader | null = $state.raw(null);
  readonly server: ServerApi;
  private auth: AuthClient | null = null;
  private target: CanisterTarget | null = null;
  private identityProvider = '';

  constructor(apiBase = '') {
    this.server = new ServerApi(apiBase);
  }

  async init(target: CanisterTarget, identityProvider: string): Promise<void> {
    this.target = target;
    this.identityProvider = identityProvider;
    this.auth = await AuthClient.create({ idleOptions: { disableIdle: true } });
    await this.adopt();
    this.ready = true;
  }

  /** Reads the auth client's identity; builds the canister client for it. */
  private async adopt(): Promise<void> {
    if (!this.auth || !this.target) return;
    if (!(await this.auth.isAuthenticated())) {
      this.principal = null;
      this.canister = null;
      this.server.setProver(null);
      return;
    }
    const identity = this.auth.getIdentity();
    const canister = await CanisterReader.create(identity, this.target);
    this.canister = canister;
    const principal = identity.getPrincipal().toText();
    // The principal goes with the proof: the server finds its bucket through the index.
    this.server.setProver(async (nonce) => {
      await canister.provePrincipal(nonce);
      return principal;
    });
    this.principal = principal;
  }

  /** Opens Internet Identity in a popup; resolves once signed in (or throws with II's reason). */
  async signIn(): Promise<void> {
    if (!this.auth) throw new Error('The app is still starting');
    this.signingIn = true;
    this.error = null;
    try {
      await new Promise<void>((resolve, reject) =>
        this.auth!.login({
          identityProvider: this.identityProvider,
          maxTimeToLive: BigInt(SESSION_HOURS * 3600) * 1_000_000_000n,
          onSuccess: () => resolve(),
          onError: (e) => reject(new Error(e ?? 'Sign-in was cancelled')),
        }),
      );
      await this.adopt();
      // Open the server session now, so the first screen does not wait for a 401.
      await this.server.signIn().catch(() => undefined);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      throw e;
    } finally {
      this.signingIn = false;
    }
  }

  /** Re-reads the stored delegation (a test or another tab may have signed in). */
  refresh(): Promise<void> {
    return this.adopt();
  }

  async signOut(): Promise<void> {
    await this.server.logout().catch(() => undefined);
    await this.auth?.logout();
    await this.adopt();
  }
}
