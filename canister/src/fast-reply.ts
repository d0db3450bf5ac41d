// put_chunk's Ok reply, encoded without @dfinity/candid: IDL.encode of this
// small record costs about 14 million instructions in QuickJS (it rebuilds
// and hashes the whole type table, Error variant included, every call),
// more than everything put_chunk does but the hash. The type table is taken
// once from IDL.encode itself, so the bytes are exactly what it would send;
// only the 21 value bytes are written here.
import type { IDL as IdlNamespace } from '@dfinity/candid';
import type { ChunkReceipt } from './candid-types';

/** Candid's field id of a label: the hash over its UTF-8 bytes (ASCII labels here). */
function labelHash(label: string): number {
  let h = 0;
  for (let i = 0; i < label.length; i++) h = (Math.imul(h, 223) + label.charCodeAt(i)) >>> 0;
  return h;
}

const FIELDS = ['chunks_received', 'bytes_received', 'expires_at'] as const;
const VALUE_BYTES = 1 + 4 + 8 + 8;

export function chunkReceiptEncoder(encode: typeof IdlNamespace.encode, ret: IdlNamespace.Type): (r: ChunkReceipt) => Uint8Array {
  let prefix: Uint8Array | undefined;
  let okIndex = 0;
  // Record fields go on the wire in the order of their ids.
  const order = [...FIELDS].sort((a, b) => labelHash(a) - labelHash(b));
  return (r) => {
    if (!prefix) {
      const template = new Uint8Array(encode([ret], [{ Ok: { chunks_received: 0, bytes_received: 0n, expires_at: 0n } }]));
      prefix = template.slice(0, template.length - VALUE_BYTES);
      okIndex = template[template.length - VALUE_BYTES];
    }
    const out = new Uint8Array(prefix.length + VALUE_BYTES);
    out.set(prefix);
    const v = new DataView(out.buffer);
    let p = prefix.length;
    out[p++] = okIndex;
    for (const f of order) {
      if (f === 'chunks_received') {
        v.setUint32(p, r.chunks_received, true);
        p += 4;
      } else {
        v.setBigUint64(p, f === 'bytes_received' ? r.bytes_received : r.expires_at, true);
        p += 8;
      }
    }
    return out;
  };
}
