// The app's managers, created once per page: who is signed in, this
// browser's queue, the library, the galleries and the Store Forever run.
import { Session } from '../auth/session.svelte';
import { Galleries } from '../galleries/galleries.svelte';
import { Library } from '../library/library.svelte';
import { StoreForeverFlow } from '../store-forever/flow.svelte';
import { Uploads } from '../uploads/uploads.svelte';
import { clearOfflineCopies } from '../library/offline';

class App {
  readonly session = new Session();
  readonly uploads = new Uploads(() => this.session.principal);
  readonly library = new Library(this.uploads, () => this.session.principal);
  readonly galleries = new Galleries();
  readonly storeForever = new StoreForeverFlow(this.session, this.uploads, this.library);
  booted = $state(false);
  bootError: string | null = $state(null);
  uploadsOpen = $state(false);
  private booting: Promise<void> | null = null;

  boot(): Promise<void> {
    this.booting ??= (async () => {
      try {
        const params = new URLSearchParams(location.search);
        const client = await this.uploads.start({ useServiceWorker: params.get('sw') !== '0' });
        const c = client.config;
        await this.session.init({ host: c.icHost, indexId: c.indexId, canisterId: c.canisterId, fetchRootKey: c.fetchRootKey }, c.identityProvider);
        document.body.dataset.ready = client.mode;
        // When an item is saved or stored, the server's view changed: read it again (debounced).
        client.subscribe((m) => {
          if (m.type === 'state' && (m.item.state === 'saved' || m.item.state === 'recorded')) this.reloadSoon();
        });
        // Back online: the library (perhaps the offline copy) is read again.
        addEventListener('online', () => {
          void client.wakeOffline();
          this.reloadSoon();
        });
        this.booted = true;
        if (this.session.principal) {
          await this.uploads.claim(this.session.principal);
          void this.reload();
          // A Store Forever run this tab had going before a reload: its modal follows it again.
          void this.storeForever.resume(() => this.reload());
        }
        // Items parked for sign-in continue once signed in.
      } catch (e) {
        this.bootError = e instanceof Error ? e.message : String(e);
      }
    })();
    return this.booting;
  }

  /** Re-reads the library and the galleries from the server and the canister. */
  async reload(): Promise<void> {
    const { server, canister } = this.session;
    await Promise.all([this.library.load(server, canister), this.galleries.load(server, canister)]);
  }

  private reloadTimer: ReturnType<typeof setTimeout> | null = null;

  reloadSoon(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      if (this.session.principal) void this.reload();
    }, 400);
  }

  async signIn(): Promise<void> {
    await this.session.signIn();
    if (this.session.principal) await this.uploads.claim(this.session.principal);
    await this.uploads.client?.drain();
    await this.reload();
  }

  async signOut(): Promise<void> {
    await this.session.signOut();
    // The offline copies (list, thumbnails) are this person's: the next one on this browser must not find them.
    await clearOfflineCopies().catch(() => undefined);
    this.library.clear();
    this.galleries.clear();
  }
}

export const app = new App();
