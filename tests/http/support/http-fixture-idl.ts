// Candid interface of tests/fixtures/http_fixture (as `azle build` writes it).
import type { IDL } from '@dfinity/candid';

/** The fixture's protocol methods (identity, a counter, a trap); the TypeScript stand-in in echo-runtime.ts answers exactly these. */
export const protocolMethods = (I: Parameters<IDL.InterfaceFactory>[0]['IDL']) => ({
  whoami: I.Func([], [I.Principal], []),
  whoami_query: I.Func([], [I.Principal], ['query']),
  increment: I.Func([], [I.Nat64], []),
  count: I.Func([], [I.Nat64], ['query']),
  trap_after_increment: I.Func([], [I.Nat64], []),
});

export const httpFixtureIdl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    ...protocolMethods(IDL),
    set_certified: IDL.Func([IDL.Vec(IDL.Nat8)], [IDL.Null], []),
    certificate: IDL.Func([], [IDL.Opt(IDL.Vec(IDL.Nat8))], ['query']),
  });
