// Hash trees, certificates and keys on their own (pure modules), checked
// against the agent's own reconstruction, lookup and BLS verification.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Certificate, lookup_path, LookupPathStatus, reconstruct as agentReconstruct, type HashTree as AgentHashTree } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { afterAll, describe, expect, it } from 'vitest';
import { certify } from '../../canister/local/http/certified-state.js';
import { lookupPath, node, reconstruct, rootHash, toHashTree, type LabeledTree } from '../../canister/local/http/hash-tree.js';
import { KEYS_FILE, loadOrCreateKeys } from '../../canister/local/http/keys.js';

const b = (s: string) => new TextEncoder().encode(s);

const state: LabeledTree = node([
  ['time', Uint8Array.from([1, 2, 3])],
  [
    'request_status',
    node([
      [new Uint8Array(32).fill(1), node([['status', b('replied')], ['reply', b('A')]])],
      [new Uint8Array(32).fill(5), node([['status', b('processing')]])],
      [new Uint8Array(32).fill(9), node([['status', b('rejected')], ['reject_code', Uint8Array.from([5])]])],
    ]),
  ],
  ['subnet', node([['x', b('y')]])],
]);

describe('hash trees', () => {
  it('every pruned view has the root hash of the full tree, as the agent reconstructs it', async () => {
    const full = toHashTree(state);
    const views = [
      full,
      toHashTree(state, [['time']]),
      toHashTree(state, [['request_status', new Uint8Array(32).fill(5)]]),
      toHashTree(state, [['request_status', new Uint8Array(32).fill(7)]]),
      toHashTree(state, [['nothing', 'here']]),
    ];
    for (const v of views) {
      expect(Buffer.from(reconstruct(v)).equals(Buffer.from(rootHash(state)))).toBe(true);
      expect(Buffer.from(await agentReconstruct(v as unknown as AgentHashTree)).equals(Buffer.from(rootHash(state)))).toBe(true);
    }
  });

  it('reveals the requested paths and proves absence of missing ones', () => {
    const rid = new Uint8Array(32).fill(5);
    const t = toHashTree(state, [['request_status', rid]]);
    expect(lookupPath(t, ['request_status', rid, 'status'])).toEqual({ status: 'found', value: b('processing') });
    // Other requests are pruned: their content is unknown, not absent.
    expect(lookupPath(t, ['request_status', new Uint8Array(32).fill(1), 'status']).status).toBe('unknown');
    expect(lookupPath(t, ['time']).status).toBe('unknown');
    // A request that is not there is provably absent (neighbours are shown).
    const missing = new Uint8Array(32).fill(7);
    const m = toHashTree(state, [['request_status', missing]]);
    expect(lookupPath(m, ['request_status', missing, 'status']).status).toBe('absent');
    expect(lookup_path(['request_status', missing, 'status'], m as unknown as AgentHashTree).status).toBe(LookupPathStatus.Absent);
    expect(lookup_path(['request_status', rid, 'status'], t as unknown as AgentHashTree).status).toBe(LookupPathStatus.Found);
  });

  it('refuses duplicate labels', () => {
    expect(() => node([['a', b('1')], ['a', b('2')]])).toThrow(/duplicate label/);
  });
});

describe('certificates and keys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ic-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('signs certificates the agent verifies with the root key, and only with it', async () => {
    const keys = loadOrCreateKeys();
    const now = BigInt(Date.now()) * 1_000_000n;
    const { lebEncode } = await import('@dfinity/candid');
    const tree = node([['time', lebEncode(now)], ['canister', node([])]]);
    const certificate = certify(keys, tree, [['time']]);
    const canisterId = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
    await expect(Certificate.create({ certificate, rootKey: keys.rootKeyDer, canisterId })).resolves.toBeInstanceOf(Certificate);
    const other = loadOrCreateKeys();
    await expect(Certificate.create({ certificate, rootKey: other.rootKeyDer, canisterId })).rejects.toThrow(/signature/i);
  });

  it('keeps the keys in the data directory across restarts', () => {
    const a = loadOrCreateKeys(dir);
    const b2 = loadOrCreateKeys(dir);
    expect(Buffer.from(a.rootKeyDer).equals(Buffer.from(b2.rootKeyDer))).toBe(true);
    expect(a.nodeId.toText()).toBe(b2.nodeId.toText());
    expect(a.subnetId.toText()).toBe(Principal.selfAuthenticating(a.rootKeyDer).toText());
    expect(JSON.parse(readFileSync(path.join(dir, KEYS_FILE), 'utf8')).version).toBe(1);
    expect(Buffer.from(loadOrCreateKeys().rootKeyDer).equals(Buffer.from(a.rootKeyDer))).toBe(false);
  });
});
