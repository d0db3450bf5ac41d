// The canister's byte maps as azle StableBTreeMaps (one stable memory id
// each, store.ts), with raw serializers: keys and values are already bytes,
// and azle's default stableJson costs seconds per MiB.
import { StableBTreeMap } from 'azle';
import { type KV, MAP_IDS, type TableName, type Tables } from './store';

const raw = { toBytes: (b: Uint8Array): Uint8Array => b, fromBytes: (b: Uint8Array): Uint8Array => b };

function stableKV(memoryId: number): KV {
  const m = new StableBTreeMap<Uint8Array, Uint8Array>(memoryId, raw, raw);
  return {
    get: (k) => m.get(k),
    has: (k) => m.containsKey(k),
    insert: (k, v) => {
      m.insert(k, v);
    },
    remove: (k) => {
      m.remove(k);
    },
    items: (start, length) => m.items(start, length),
    keys: (start, length) => m.keys(start, length),
    len: () => Number(m.len()),
  };
}

export function stableTables(): Tables {
  return Object.fromEntries((Object.keys(MAP_IDS) as TableName[]).map((name) => [name, stableKV(MAP_IDS[name])])) as Tables;
}
