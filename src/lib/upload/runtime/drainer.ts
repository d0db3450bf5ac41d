// One drainer at a time, across every page and the service worker of the
// origin: a Web Lock serialises drains between contexts, and within one
// context concurrent requests join the running drain (and ask for one more
// pass, so an item enqueued while it ran is not left behind). Events go to a
// BroadcastChannel every open page listens to.
import type { ChannelMessage, DrainReport } from '../core/events';
import type { UploadEngine } from './engine';

export type { ChannelMessage } from '../core/events';

export const DRAIN_LOCK = 'forever-upload-drain';
export const UPLOAD_CHANNEL = 'forever-uploads';
export const SYNC_TAG = 'forever-upload';

export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** In-context stand-in where Web Locks do not exist (Node, very old browsers). */
export class LocalLock implements LockManagerLike {
  private tail: Promise<unknown> = Promise.resolve();
  request<T>(_name: string, callback: () => Promise<T>): Promise<T> {
    const run = this.tail.then(callback, callback);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

export function webLocks(): LockManagerLike {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return new LocalLock();
  return { request: <T>(name: string, cb: () => Promise<T>) => locks.request(name, { mode: 'exclusive' }, () => cb()) as Promise<T> };
}

export class Drainer {
  private running: Promise<DrainReport> | null = null;
  private again = false;

  constructor(
    private readonly engine: () => Promise<UploadEngine>,
    private readonly locks: LockManagerLike = webLocks(),
    private readonly onReport?: (report: DrainReport) => void,
  ) {}

  /** Starts a drain, or joins the one running here (which then makes one more pass). */
  request(signal?: AbortSignal): Promise<DrainReport> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop(signal).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  private async loop(signal?: AbortSignal): Promise<DrainReport> {
    let report: DrainReport;
    do {
      this.again = false;
      const engine = await this.engine();
      report = await this.locks.request(DRAIN_LOCK, () => engine.drain(signal));
      this.onReport?.(report);
    } while (this.again && !signal?.aborted);
    return report;
  }
}
