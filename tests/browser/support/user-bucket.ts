// A user's bucket on a running `npm start`, asked the way the app asks: the
// index id from /api/config, then `assign_bucket` signed as the user (it
// answers the bucket of an assigned user, and places a newcomer).
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import type { Principal } from '@dfinity/principal';
import { indexIdlFactory, type IndexService } from '../../../src/lib/upload/adapters/index-idl';

export async function indexIdOf(origin: string): Promise<string> {
  const config = (await (await fetch(`${origin}/api/config`)).json()) as { indexId?: string };
  if (!config.indexId) throw new Error('/api/config names no index');
  return config.indexId;
}

export async function userBucket(origin: string, user: Identity): Promise<string> {
  const agent = await HttpAgent.create({ host: origin, identity: user, shouldFetchRootKey: true });
  const index = Actor.createActor<IndexService>(indexIdlFactory, { agent, canisterId: await indexIdOf(origin) });
  for (let attempt = 0; ; attempt++) {
    const r = (await index.assign_bucket()) as { Ok: Principal } | { Err: Record<string, unknown> };
    if ('Ok' in r) return r.Ok.toText();
    // Busy: the index is creating a bucket for someone else; its call returns when it is done.
    if (!('Busy' in r.Err) || attempt > 60) throw new Error(`assign_bucket: ${JSON.stringify(r.Err)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
