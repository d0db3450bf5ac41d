// The local IC's request id (node:crypto) against the agent's requestIdOf,
// the reference the signatures are made over: the same bytes for call,
// query and read_state contents, nested maps and arrays, unknown fields and
// a 1 MiB argument, and a refusal for every value without a hash.
import { randomBytes } from 'node:crypto';
import { requestIdOf as agentRequestIdOf } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../canister/local/http/request-id';

const same = (content: Record<string, unknown>) => expect(Buffer.from(requestIdOf(content)).toString('hex')).toBe(Buffer.from(agentRequestIdOf(content)).toString('hex'));

describe('requestIdOf', () => {
  it("equals the agent's for the contents agents send", () => {
    const sender = Principal.fromText('2vxsx-fae').toUint8Array();
    const canister = Principal.fromText('bkyz2-fmaaa-aaaaa-qaaaq-cai').toUint8Array();
    same({ request_type: 'call', canister_id: canister, method_name: 'put_chunk', arg: new Uint8Array(randomBytes(1024 * 1024)), sender, ingress_expiry: 1_700_000_000_000_000_000n, nonce: new Uint8Array(randomBytes(16)) });
    same({ request_type: 'query', canister_id: canister, method_name: 'get', arg: new Uint8Array(), sender, ingress_expiry: 5 });
    same({ request_type: 'read_state', paths: [[new Uint8Array([1, 2]), new Uint8Array()], []], sender, ingress_expiry: 2n ** 64n - 1n });
    // Unknown fields, nested maps, unicode keys, zero and multi-byte LEB128 numbers.
    same({ z: 'é✓🙂', a: { b: [1, 127, 128, 300, 2n ** 40n], c: { d: new Uint8Array([0]) } }, '': '', ключ: [[], [[]]] });
    same({ only_undefined: undefined, kept: 1 });
  });

  it('refuses values without a representation-independent hash, as the agent does', () => {
    for (const v of [1.5, -1, true, null, -2n]) {
      expect(() => agentRequestIdOf({ x: v })).toThrow();
      expect(() => requestIdOf({ x: v })).toThrow();
    }
  });
});
