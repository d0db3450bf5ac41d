// The queue of "keep on IPFS" intents, in this browser's IndexedDB (its own
// small database, apart from the upload queue). An intent is a memory id, who
// asked, and the price the user agreed to: never a payment signature, which
// expires after minutes and must be made when the pin is actually paid.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export interface IpfsIntent {
  memoryId: string;
  /** The principal that asked; another account signed in on this browser does not run it. */
  owner: string | null;
  /** The most the user agreed to pay, in token units (the amount of the price shown). */
  maxAmount: string;
  queuedAt: number;
}

interface IntentsDb extends DBSchema {
  intents: { key: string; value: IpfsIntent };
}

export const INTENTS_DB = 'forever-ipfs';

export class IpfsIntents {
  private db: Promise<IDBPDatabase<IntentsDb>> | null = null;

  constructor(private readonly name = INTENTS_DB) {}

  private open(): Promise<IDBPDatabase<IntentsDb>> {
    this.db ??= openDB<IntentsDb>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore('intents', { keyPath: 'memoryId' });
      },
    });
    return this.db;
  }

  /** Idempotent by memory id: asking twice keeps one intent (the latest price agreed). */
  async put(intent: IpfsIntent): Promise<void> {
    await (await this.open()).put('intents', intent);
  }

  async all(owner: string | null): Promise<IpfsIntent[]> {
    const list = await (await this.open()).getAll('intents');
    return list.filter((i) => i.owner === owner).sort((a, b) => a.queuedAt - b.queuedAt);
  }

  async delete(memoryId: string): Promise<void> {
    await (await this.open()).delete('intents', memoryId);
  }
}
