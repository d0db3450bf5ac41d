// The contract: what the canister, the server and the client agree on. The
// only module every tier imports. Pure: no I/O, no dependencies, so azle's
// bundler, Node and the browser all take it.
export * from './limits';
export * from './ids';
export * from './memory-types';
export * from './errors';
export * from './storage';
