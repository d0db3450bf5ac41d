// What the user's bucket says the user stores, asked as that user through the
// IC HTTP interface with @dfinity/agent (no back door into the runtime). The
// bucket is the index's answer, or the suite's one canister (`canisterId`).
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { idlFactory } from '../../../src/declarations/forever/forever.did.js';
import type { _SERVICE, Usage } from '../../../src/declarations/forever/forever.did';
import { userBucket } from './user-bucket';

export async function canisterUsage(server: { origin: string; canisterId?: string }, user: Identity): Promise<Usage> {
  const agent = await HttpAgent.create({ host: server.origin, identity: user, shouldFetchRootKey: true });
  const actor = Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: server.canisterId ?? (await userBucket(server.origin, user)) });
  const r = await actor.get_usage();
  if ('Err' in r) throw new Error(`get_usage: ${Object.keys(r.Err)[0]}`);
  return r.Ok;
}
