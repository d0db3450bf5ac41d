// The certified state of the local IC, as the labeled tree of the interface
// specification (time, request_status, canister, subnet), and certificates
// over it. Each certificate is built from the parts its paths name, revealed
// through the same pruning a replica would apply, and signed with the root
// key: agents verify it exactly as they verify mainnet's.
import { lebEncode } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { concatBytes } from '@noble/hashes/utils';
import { encodeCbor } from './cbor.js';
import { label, node, reconstruct, toHashTree, type HashTree, type LabeledTree, type TreePath } from './hash-tree.js';
import type { IcKeys } from './keys.js';
import type { RequestHistory, RequestRecord } from './request-status.js';
import type { IcRuntime } from './runtime.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const eq = (a: Uint8Array, s: string): boolean => Buffer.from(a).equals(Buffer.from(utf8(s)));

// Standard canister ids are <u64 big-endian> 0x01 0x01; one range covers them all.
const RANGE_LO = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
const RANGE_HI = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 1]);

export interface StateSources {
  runtime: IcRuntime;
  history: RequestHistory;
  keys: IcKeys;
}

function requestStatusNode(r: RequestRecord): LabeledTree {
  const o = r.outcome;
  if (!o) return node([['status', utf8('processing')]]);
  if (o.status === 'replied') return node([['status', utf8('replied')], ['reply', o.reply]]);
  return node([
    ['status', utf8('rejected')],
    ['reject_code', lebEncode(o.rejectCode)],
    ['reject_message', utf8(o.rejectMessage)],
    ['error_code', utf8(o.errorCode)],
  ]);
}

/** Canister ranges of the one subnet: every standard canister id, plus any other id the runtime holds. */
export function canisterRanges(runtime: IcRuntime): Uint8Array[][] {
  const ranges: Uint8Array[][] = [[RANGE_LO, RANGE_HI]];
  const lo = Principal.fromUint8Array(RANGE_LO);
  const hi = Principal.fromUint8Array(RANGE_HI);
  for (const id of runtime.canisterIds()) {
    if (!(lo.ltEq(id) && hi.gtEq(id))) ranges.push([id.toUint8Array(), id.toUint8Array()]);
  }
  return ranges.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
}

function subnetNode(src: StateSources): LabeledTree {
  const { keys } = src;
  return node([
    [
      keys.subnetId.toUint8Array(),
      node([
        ['canister_ranges', encodeCbor(canisterRanges(src.runtime))],
        ['node', node([[keys.nodeId.toUint8Array(), node([['public_key', keys.nodeKeyDer]])]])],
        ['public_key', keys.rootKeyDer],
      ]),
    ],
  ]);
}

function canisterNode(src: StateSources, id: Principal, metadataNames: Uint8Array[]): LabeledTree {
  const { runtime } = src;
  const entries: Array<[string, LabeledTree]> = [
    ['certified_data', runtime.certifiedData(id)],
    ['controllers', encodeCbor(runtime.controllers(id).map((p) => p.toUint8Array()))],
  ];
  const hash = runtime.moduleHash(id);
  if (hash) entries.push(['module_hash', hash]);
  const meta: Array<[Uint8Array, LabeledTree]> = [];
  for (const name of metadataNames) {
    const value = runtime.metadata(id, new TextDecoder().decode(name));
    if (value && !meta.some(([n]) => Buffer.from(n).equals(Buffer.from(name)))) meta.push([name, value]);
  }
  entries.push(['metadata', node(meta)]);
  return node(entries);
}

/**
 * The state tree holding what `paths` ask for (and `time`). Parts no path
 * touches are left out: a certificate reveals only what was asked.
 */
export function stateTreeFor(src: StateSources, paths: readonly Uint8Array[][], nowNs: bigint): LabeledTree {
  const top: Array<[string, LabeledTree]> = [['time', lebEncode(nowNs)]];
  const requestIds = new Map<string, Uint8Array>();
  const canisters = new Map<string, { id: Principal; names: Uint8Array[] }>();
  let subnet = false;
  for (const p of paths) {
    if (p.length === 0) continue;
    if (eq(p[0], 'request_status') && p.length >= 2) requestIds.set(Buffer.from(p[1]).toString('hex'), p[1]);
    else if (eq(p[0], 'subnet')) subnet = true;
    else if (eq(p[0], 'canister') && p.length >= 2) {
      const key = Buffer.from(p[1]).toString('hex');
      let id: Principal;
      try {
        id = Principal.fromUint8Array(p[1]);
      } catch {
        continue;
      }
      const c = canisters.get(key) ?? { id, names: [] };
      if (p.length >= 4 && eq(p[2], 'metadata')) c.names.push(p[3]);
      canisters.set(key, c);
    }
  }
  if (requestIds.size > 0) {
    const entries: Array<[Uint8Array, LabeledTree]> = [];
    for (const rid of requestIds.values()) {
      const r = src.history.get(rid);
      if (r) entries.push([rid, requestStatusNode(r)]);
    }
    top.push(['request_status', node(entries)]);
  }
  if (canisters.size > 0) {
    const known = new Set(src.runtime.canisterIds().map((c) => c.toText()));
    const entries: Array<[Uint8Array, LabeledTree]> = [];
    for (const { id, names } of canisters.values()) {
      if (known.has(id.toText())) entries.push([id.toUint8Array(), canisterNode(src, id, names)]);
    }
    top.push(['canister', node(entries)]);
  }
  if (subnet) top.push(['subnet', subnetNode(src)]);
  return node(top);
}

const STATE_ROOT_DOMAIN = concatBytes(new Uint8Array([13]), utf8('ic-state-root'));

/** A CBOR certificate `{tree, signature}` revealing `paths` (and `time`) of `tree`. */
export function certify(keys: IcKeys, tree: LabeledTree, paths: readonly TreePath[]): Uint8Array {
  const pruned: HashTree = toHashTree(tree, [[label('time')], ...paths]);
  const signature = keys.signRoot(concatBytes(STATE_ROOT_DOMAIN, reconstruct(pruned)));
  return encodeCbor({ tree: pruned, signature });
}

/** Certificate for `ic0.data_certificate` in a query: time and the canister's certified data. */
export function dataCertificate(src: StateSources, canisterId: Principal, nowNs: bigint): Uint8Array {
  const path = [utf8('canister'), canisterId.toUint8Array(), utf8('certified_data')];
  return certify(src.keys, stateTreeFor(src, [path], nowNs), [path]);
}
