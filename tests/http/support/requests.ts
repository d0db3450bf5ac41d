// Hand-built signed requests for what the agent never sends on its own
// (expired ingress, a tampered signature, the same request twice).
import { Cbor, requestIdOf, type SignIdentity, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

export interface RawCall {
  body: Uint8Array;
  requestId: Uint8Array;
}

export async function signedCall(
  identity: SignIdentity | Identity,
  canisterId: Principal,
  methodName: string,
  opts: { expiryNs?: bigint; arg?: Uint8Array; requestType?: 'call' | 'query'; tamper?: boolean } = {},
): Promise<RawCall> {
  const content = {
    request_type: opts.requestType ?? 'call',
    canister_id: canisterId,
    method_name: methodName,
    arg: opts.arg ?? new Uint8Array(IDL.encode([], [])),
    sender: identity.getPrincipal(),
    ingress_expiry: opts.expiryNs ?? (BigInt(Date.now()) + 240_000n) * 1_000_000n,
    nonce: crypto.getRandomValues(new Uint8Array(16)),
  };
  const transformed = (await identity.transformRequest({ request: {}, endpoint: 'call', body: content } as never)) as {
    body: { sender_sig?: Uint8Array };
  };
  if (opts.tamper && transformed.body.sender_sig) {
    const sig = new Uint8Array(transformed.body.sender_sig);
    sig[5] ^= 0x01;
    transformed.body.sender_sig = sig;
  }
  return { body: Cbor.encode(transformed.body as never), requestId: requestIdOf(content) };
}

export async function post(url: string, body: Uint8Array): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: body as Uint8Array<ArrayBuffer> });
}
