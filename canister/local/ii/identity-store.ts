// The development identity provider's identities, kept on the server side of
// the local IC (never in the page): an anchor number, a display name and a
// 32-byte secret from which every per-origin key is derived. Stored in
// `<dataDir>/ii/identities.json` (in memory without a data directory).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurable } from '../durable-file.js';

export interface DevIdentity {
  anchor: number;
  name: string;
  secret: Uint8Array;
  createdAt: string;
}

interface StoredIdentity {
  anchor: number;
  name: string;
  secret: string;
  createdAt: string;
}

/** II's first anchor number; dev anchors count up from it. */
export const FIRST_ANCHOR = 10_000;
export const MAX_NAME_LENGTH = 64;

export class IdentityNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityNameError';
  }
}

export class IdentityStore {
  readonly #file: string | undefined;
  #identities: DevIdentity[] = [];
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.#file = file;
  }

  static async open(dataDir?: string): Promise<IdentityStore> {
    const store = new IdentityStore(dataDir ? path.join(dataDir, 'ii', 'identities.json') : undefined);
    if (store.#file) {
      try {
        const stored = JSON.parse(await readFile(store.#file, 'utf8')) as StoredIdentity[];
        store.#identities = stored.map((s) => ({ ...s, secret: Buffer.from(s.secret, 'hex') }));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return store;
  }

  list(): readonly DevIdentity[] {
    return this.#identities;
  }

  get(anchor: number): DevIdentity | undefined {
    return this.#identities.find((i) => i.anchor === anchor);
  }

  async create(name: string): Promise<DevIdentity> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) {
      throw new IdentityNameError(`an identity name has 1 to ${MAX_NAME_LENGTH} characters`);
    }
    const anchor = Math.max(FIRST_ANCHOR - 1, ...this.#identities.map((i) => i.anchor)) + 1;
    const identity: DevIdentity = { anchor, name: trimmed, secret: new Uint8Array(randomBytes(32)), createdAt: new Date().toISOString() };
    this.#identities = [...this.#identities, identity];
    await this.#save();
    return identity;
  }

  // Writes are serialised, atomic and durable: losing this file loses every local principal.
  #save(): Promise<void> {
    const file = this.#file;
    if (!file) return Promise.resolve();
    const snapshot: StoredIdentity[] = this.#identities.map((i) => ({ ...i, secret: Buffer.from(i.secret).toString('hex') }));
    this.#writing = this.#writing.then(async () => {
      writeFileDurable(file, JSON.stringify(snapshot, null, 2), 0o600);
    });
    return this.#writing;
  }
}
