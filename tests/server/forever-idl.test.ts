// The server declares the few canister methods it calls (server/ic/forever-idl.ts)
// instead of importing another tier's folder; this pins that subset to the
// declarations generated from canister/forever.did, method by method.
import { IDL } from '@dfinity/candid';
import { describe, expect, it } from 'vitest';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import { foreverIdlFactory } from '../../server/ic/forever-idl.js';

const methods = (factory: IDL.InterfaceFactory): Map<string, string> =>
  new Map((factory({ IDL }) as IDL.ServiceClass)._fields.map(([name, func]) => [name, func.display()]));

describe("the server's Candid subset of forever", () => {
  it('declares each method exactly as the canister does', () => {
    const full = methods(idlFactory);
    const subset = methods(foreverIdlFactory);
    expect([...subset.keys()].sort()).toEqual(['get_presence_verifiers', 'nonce_principal', 'set_presence_verifiers', 'verify_presence']);
    for (const [name, display] of subset) expect({ name, display }).toEqual({ name, display: full.get(name) });
  });
});
