// The certified state tree as the replica certifies it, seen through
// read_state and call certificates verified by the real @dfinity/agent: the
// whole tree pruned to the requested paths, so an unrequested label is
// Unknown, a requested one the state lacks is provably Absent, and the same
// state gives the same root whatever was asked. Also `GET /_/topology`, as
// dfx's local network (PocketIC) serves it.
import {
  Actor,
  AgentError,
  Cbor,
  Certificate,
  CanisterStatus,
  HttpAgent,
  LookupPathStatus,
  lookupResultToBuffer,
  reconstruct,
  type HashTree as AgentHashTree,
} from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lookupPath, type HashTree } from '../../canister/local/http/hash-tree.js';
import { addMetadata } from '../../canister/local/index.js';
import { startManualIc, type ManualIc } from './support/manual-ic.js';
import { assembleWat } from './support/wat.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the certified state tree over HTTP', () => {
  let net: ManualIc;
  let agent: HttpAgent;
  let probeId: Principal;
  let emptyId: Principal;

  beforeAll(async () => {
    net = await startManualIc();
    probeId = await net.ic.createCanister({ controllers: [Principal.anonymous()] });
    const wasm = addMetadata(
      addMetadata(await assembleWat('probe'), 'candid:service', 'service : { inc : () -> (nat64) }'),
      'secret',
      'for controllers',
      'private',
    );
    await net.ic.installCode(probeId, wasm, { mode: 'install' });
    emptyId = await net.ic.createCanister();
    agent = await net.agent();
  });
  afterAll(async () => {
    await net?.close();
  });
  beforeEach(async () => {
    await net.catchUp();
  });

  async function readState(canisterId: Principal, paths: (string | Uint8Array)[][]) {
    const encoded = paths.map((p) => p.map((l) => (typeof l === 'string' ? utf8(l) : l)));
    const { certificate } = await agent.readState(canisterId, { paths: encoded });
    const cert = await Certificate.create({ certificate, rootKey: agent.rootKey!, canisterId });
    const tree = Cbor.decode<{ tree: HashTree }>(certificate).tree;
    return { cert, tree, root: hex(await reconstruct(tree as unknown as AgentHashTree)) };
  }

  // Lookups of what a certificate leaves out use the specification's
  // algorithm (hash-tree.ts): @dfinity/agent 3.4.3's find_label calls a label
  // greater when any byte is greater, not lexicographically, so it reports
  // some pruned labels as Absent and most absence proofs as Unknown, against
  // any replica. The agent still verifies every certificate here.
  it('reveals what was asked; every other label looks up as Unknown, not Absent', async () => {
    const { cert, tree } = await readState(probeId, [['canister', probeId.toUint8Array(), 'module_hash']]);
    expect(cert.lookup_path(['canister', probeId.toUint8Array(), 'module_hash']).status).toBe(LookupPathStatus.Found);
    expect(hex(lookupResultToBuffer(cert.lookup_path(['canister', probeId.toUint8Array(), 'module_hash']))!)).toBe(
      hex(net.ic.moduleHash(probeId)!),
    );
    // `time` is always in a certificate.
    expect(cert.lookup_path(['time']).status).toBe(LookupPathStatus.Found);
    for (const other of [
      ['canister', probeId.toUint8Array(), 'controllers'],
      ['canister', probeId.toUint8Array(), 'metadata', 'candid:service'],
      ['canister', emptyId.toUint8Array(), 'controllers'],
      ['subnet'],
      ['request_status', new Uint8Array(32).fill(3), 'status'],
      ['canister_ranges'],
    ]) {
      expect(lookupPath(tree, other).status).toBe('unknown');
    }
  });

  it('proves a requested but missing request id Absent, as the replica does', async () => {
    // Some history first, so the absence is proven by neighbours.
    const probe = Actor.createActor<{ inc(): Promise<bigint> }>(({ IDL: I }) => I.Service({ inc: I.Func([], [I.Nat64], []) }), {
      agent,
      canisterId: probeId,
    });
    await Promise.all([probe.inc(), probe.inc(), probe.inc()]);
    for (const fill of [0x00, 0x42, 0xff]) {
      const rid = new Uint8Array(32).fill(fill);
      const { tree } = await readState(probeId, [['request_status', rid]]);
      expect(lookupPath(tree, ['request_status', rid, 'status']).status).toBe('absent');
      expect(lookupPath(tree, ['request_status', rid, 'reply']).status).toBe('absent');
    }
  });

  it('proves absent what the state lacks: the module hash of an empty canister, a custom section, an unknown canister', async () => {
    const a = await readState(emptyId, [['canister', emptyId.toUint8Array(), 'module_hash']]);
    expect(a.cert.lookup_path(['canister', emptyId.toUint8Array(), 'module_hash']).status).toBe(LookupPathStatus.Absent);
    expect(a.cert.lookup_path(['canister', emptyId.toUint8Array(), 'controllers']).status).toBe(LookupPathStatus.Unknown);
    const b = await readState(probeId, [['canister', probeId.toUint8Array(), 'metadata', 'candid:args']]);
    expect(lookupPath(b.tree, ['canister', probeId.toUint8Array(), 'metadata', 'candid:args']).status).toBe('absent');
    const unknown = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
    const c = await readState(unknown, [['canister', unknown.toUint8Array(), 'module_hash']]);
    expect(lookupPath(c.tree, ['canister', unknown.toUint8Array(), 'module_hash']).status).toBe('absent');
  });

  it('serves a private custom section to controllers only, as the replica does', async () => {
    const path = ['canister', probeId.toUint8Array(), 'metadata', 'secret'];
    // The anonymous principal controls the probe.
    const { cert } = await readState(probeId, [path]);
    expect(new TextDecoder().decode(lookupResultToBuffer(cert.lookup_path(path))!)).toBe('for controllers');
    const stranger = await HttpAgent.create({ host: net.served.url, shouldFetchRootKey: true, identity: Ed25519KeyIdentity.generate(), retryTimes: 0 });
    const refused = await stranger.readState(probeId, { paths: [path.map((l) => (typeof l === 'string' ? utf8(l) : l))] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AgentError);
    expect(String((refused as Error).message)).toMatch(/403/);
    expect(JSON.stringify((refused as AgentError).cause)).toContain('Custom section secret can only be requested by the controllers of the canister.');
  });

  it('gives the same root for the same state whatever was asked, and another once the state changes', async () => {
    const at = net.ic.timeNs();
    const roots = new Set<string>();
    for (const paths of [
      [['time']],
      [['canister', probeId.toUint8Array(), 'module_hash']],
      [['canister', probeId.toUint8Array(), 'controllers'], ['subnet']],
      [['request_status', new Uint8Array(32).fill(9)]],
    ]) {
      roots.add((await readState(probeId, paths)).root);
    }
    expect(net.ic.timeNs()).toBe(at);
    expect(roots.size).toBe(1);
    // Another canister's controllers change: a different state, a different root.
    await net.ic.setControllers(emptyId, [Principal.anonymous()]);
    expect((await readState(probeId, [['time']])).root).not.toBe([...roots][0]);
    // Time alone is part of the state too.
    const before = (await readState(probeId, [['time']])).root;
    await net.ic.advanceTime(1);
    expect((await readState(probeId, [['time']])).root).not.toBe(before);
  });

  it('serves controllers, module hash, Candid and subnet through the agent\'s CanisterStatus', async () => {
    const status = await CanisterStatus.request({ agent, canisterId: probeId, paths: ['controllers', 'module_hash', 'candid', 'subnet', 'time'] });
    expect((status.get('controllers') as Principal[]).map((p) => p.toText())).toEqual([Principal.anonymous().toText()]);
    expect(status.get('module_hash')).toBe(hex(net.ic.moduleHash(probeId)!));
    expect(status.get('candid')).toBe('service : { inc : () -> (nat64) }');
    const subnet = status.get('subnet') as CanisterStatus.SubnetStatus;
    expect(subnet.subnetId).toBe(net.iface.keys.subnetId.toText());
    expect(subnet.nodeKeys.size).toBe(1);
  });

  it('certifies the routing table under /canister_ranges/<subnet>/<shard> as well as /subnet/<subnet>/canister_ranges', async () => {
    const subnet = net.iface.keys.subnetId.toUint8Array();
    const { tree } = await readState(probeId, [['subnet', subnet, 'canister_ranges']]);
    const flat = lookupPath(tree, ['subnet', subnet, 'canister_ranges']);
    expect(flat.status).toBe('found');
    const ranges = Cbor.decode<Uint8Array[][]>((flat as { value: Uint8Array }).value);
    const inRange = (id: Principal) =>
      ranges.some(([lo, hi]) => Buffer.compare(Buffer.from(lo), Buffer.from(id.toUint8Array())) <= 0 && Buffer.compare(Buffer.from(id.toUint8Array()), Buffer.from(hi)) <= 0);
    expect(inRange(probeId) && inRange(emptyId)).toBe(true);
    // The sharded form is part of the same tree: its label is pruned here, not absent.
    expect(lookupPath(tree, ['canister_ranges', subnet]).status).toBe('unknown');
  });

  it('GET /_/topology answers as PocketIC does: the subnet, its canister ranges, the default effective canister id', async () => {
    const r = await fetch(`${net.served.url}/_/topology`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const topology = (await r.json()) as {
      subnet_configs: Record<string, { subnet_kind: string; subnet_seed: number[]; instruction_config: string; canister_ranges: { start: { canister_id: string }; end: { canister_id: string } }[] }>;
      default_effective_canister_id: { canister_id: string };
    };
    const subnetIds = Object.keys(topology.subnet_configs);
    // The subnet agents derive from the root key when there is no delegation.
    expect(subnetIds).toEqual([Principal.selfAuthenticating(agent.rootKey!).toText()]);
    const config = topology.subnet_configs[subnetIds[0]];
    expect(config.subnet_kind).toBe('Application');
    expect(config.instruction_config).toBe('Production');
    expect(config.subnet_seed).toHaveLength(32);
    const ranges = config.canister_ranges.map(({ start, end }) => [
      Principal.fromUint8Array(Buffer.from(start.canister_id, 'base64')),
      Principal.fromUint8Array(Buffer.from(end.canister_id, 'base64')),
    ]);
    const covered = (id: Principal) => ranges.some(([lo, hi]) => lo.ltEq(id) && hi.gtEq(id));
    const ecid = Principal.fromUint8Array(Buffer.from(topology.default_effective_canister_id.canister_id, 'base64'));
    expect(covered(ecid) && covered(probeId) && covered(emptyId)).toBe(true);
    // The same ranges the subnet certifies.
    const subnet = net.iface.keys.subnetId.toUint8Array();
    const { tree } = await readState(probeId, [['subnet', subnet, 'canister_ranges']]);
    const certified = Cbor.decode<Uint8Array[][]>((lookupPath(tree, ['subnet', subnet, 'canister_ranges']) as { value: Uint8Array }).value);
    expect(certified.map(([lo, hi]) => [Principal.fromUint8Array(lo).toText(), Principal.fromUint8Array(hi).toText()])).toEqual(
      ranges.map(([lo, hi]) => [lo.toText(), hi.toText()]),
    );
    // The agent can use the default effective canister id for a read_state of its own.
    const { cert } = await readState(ecid, [['time']]);
    expect(cert.lookup_path(['time']).status).toBe(LookupPathStatus.Found);
  });
});
