// The certified state of the local IC: the labeled tree of the interface
// specification, built whole from the state (time, request_status, canister,
// subnet, canister_ranges), and certificates over it. A certificate carries
// that one tree pruned to the requested paths, as the replica's does: what
// was not asked for is pruned (it looks up as Unknown), a requested label
// that is not in the state is proven absent by its neighbours, and the same
// state gives the same root hash whatever was asked. The root is signed with
// the root key: agents verify it exactly as they verify mainnet's.
import { lebEncode } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { concatBytes } from '@noble/hashes/utils';
import { encodeCbor } from './cbor.js';
import { label, node, reconstruct, toHashTree, type HashTree, type LabeledTree, type TreePath } from './hash-tree.js';
import type { IcKeys } from './keys.js';
import type { RequestHistory, RequestRecord } from './request-status.js';
import type { IcRuntime } from './runtime.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

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

function subnetNode(src: StateSources, ranges: Uint8Array): LabeledTree {
  const { keys } = src;
  return node([
    [
      keys.subnetId.toUint8Array(),
      node([
        ['canister_ranges', ranges],
        ['node', node([[keys.nodeId.toUint8Array(), node([['public_key', keys.nodeKeyDer]])]])],
        ['public_key', keys.rootKeyDer],
      ]),
    ],
  ]);
}

/**
 * `/canister_ranges/<subnet_id>/<first canister id of a shard>`: the routing
 * table split into shards, each a CBOR list of ranges. One shard holds them
 * all here.
 */
function canisterRangesNode(src: StateSources, ranges: Uint8Array[][], encoded: Uint8Array): LabeledTree {
  return node([[src.keys.subnetId.toUint8Array(), node([[ranges[0][0], encoded]])]]);
}

/**
 * A canister's entry: controllers and certified data always; module hash and
 * metadata (every custom section the module declares) only once a module is
 * installed, as the replica's state has them.
 */
function canisterNode(runtime: IcRuntime, id: Principal): LabeledTree {
  const entries: Array<[string, LabeledTree]> = [
    ['certified_data', runtime.certifiedData(id)],
    ['controllers', encodeCbor(runtime.controllers(id).map((p) => p.toUint8Array()))],
  ];
  const hash = runtime.moduleHash(id);
  if (hash) {
    entries.push(['module_hash', hash]);
    const meta: Array<[Uint8Array, LabeledTree]> = [];
    for (const name of runtime.metadataNames(id)) {
      const value = runtime.metadata(id, name);
      if (value) meta.push([utf8(name), value]);
    }
    entries.push(['metadata', node(meta)]);
  }
  return node(entries);
}

// The request_status subtree only changes with the history; rebuilding it
// (and so rehashing every reply) for each certificate would cost O(history).
const requestTrees = new WeakMap<RequestHistory, { version: number; tree: LabeledTree }>();

function requestStatusTree(history: RequestHistory): LabeledTree {
  const cached = requestTrees.get(history);
  if (cached && cached.version === history.version) return cached.tree;
  const tree = node([...history.records()].map((r) => [r.requestId, requestStatusNode(r)] as const));
  requestTrees.set(history, { version: history.version, tree });
  return tree;
}

/** The whole certified state at `nowNs`. */
export function stateTree(src: StateSources, nowNs: bigint): LabeledTree {
  const ranges = canisterRanges(src.runtime);
  const encodedRanges = encodeCbor(ranges);
  return node([
    ['canister', node(src.runtime.canisterIds().map((id) => [id.toUint8Array(), canisterNode(src.runtime, id)] as const))],
    ['canister_ranges', canisterRangesNode(src, ranges, encodedRanges)],
    ['request_status', requestStatusTree(src.history)],
    ['subnet', subnetNode(src, encodedRanges)],
    ['time', lebEncode(nowNs)],
  ]);
}

const STATE_ROOT_DOMAIN = concatBytes(new Uint8Array([13]), utf8('ic-state-root'));

/** A CBOR certificate `{tree, signature}` of `tree` pruned to `paths` (and `time`, always included). */
export function certify(keys: IcKeys, tree: LabeledTree, paths: readonly TreePath[]): Uint8Array {
  const pruned: HashTree = toHashTree(tree, [[label('time')], ...paths]);
  const signature = keys.signRoot(concatBytes(STATE_ROOT_DOMAIN, reconstruct(pruned)));
  return encodeCbor({ tree: pruned, signature });
}

/** Certificate for `ic0.data_certificate` in a query: time and the canister's certified data. */
export function dataCertificate(src: StateSources, canisterId: Principal, nowNs: bigint): Uint8Array {
  const path = [utf8('canister'), canisterId.toUint8Array(), utf8('certified_data')];
  return certify(src.keys, stateTree(src, nowNs), [path]);
}
