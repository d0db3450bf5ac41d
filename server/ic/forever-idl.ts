// The `forever` canister's Candid interface as the server uses it: the
// declarations generated from canister/forever.did (src/declarations/forever),
// so the server can never drift from the contract. The server calls two
// methods: `nonce_principal` (sign-in) and `verify_presence` (presence, as a
// verifier the canister's controller registered with `set_presence_verifiers`).
export { idlFactory as foreverIdlFactory } from '../../src/declarations/forever/forever.did.js';
export type { _SERVICE as ForeverService, MemoryPresence, Result_presence_list } from '../../src/declarations/forever/forever.did.js';

/** The canister answers `verify_presence` for at most this many ids per call. */
export const VERIFY_PRESENCE_MAX_IDS = 100;
