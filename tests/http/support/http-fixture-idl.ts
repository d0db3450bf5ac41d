// Candid interface of tests/fixtures/http_fixture (as `azle build` writes it).
import type { IDL } from '@dfinity/candid';

export const httpFixtureIdl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    whoami: IDL.Func([], [IDL.Principal], []),
    whoami_query: IDL.Func([], [IDL.Principal], ['query']),
    increment: IDL.Func([], [IDL.Nat64], []),
    count: IDL.Func([], [IDL.Nat64], ['query']),
    trap_after_increment: IDL.Func([], [IDL.Nat64], []),
    set_certified: IDL.Func([IDL.Vec(IDL.Nat8)], [IDL.Null], []),
    certificate: IDL.Func([], [IDL.Opt(IDL.Vec(IDL.Nat8))], ['query']),
  });
