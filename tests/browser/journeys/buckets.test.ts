// Buckets in real Chromium against one `npm start` whose index holds one user
// per bucket (BUCKET_CAPACITY_USERS=1): two people, each in their own browser
// with their own dev-II identity, sign in, store a memory and read it back
// Verified from the Internet Computer. The index then lists two buckets, one
// user each, and names a different bucket for each of them: the one the app
// read the memory from. Screens at 1280×800 and 390×844 (.screenshots/buckets/).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Actor, HttpAgent } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { loadOrCreateDeployerIdentity } from '../../../canister/local/deploy';
import { browserSuite } from '../support/browser-suite';
import { launchChromium, type LaunchedBrowser } from '../support/chromium';
import { npmStart } from '../support/npm-start';
import { card, closeDialog, openAddSheet, openApp, signInWithPopup, waitStoredForever } from './support/app';
import { png } from './support/fixtures';
import { look } from './support/look';

const suite = browserSuite(() => npmStart({ BUCKET_CAPACITY_USERS: '1' }), { browser: 'per-file' });
let second: LaunchedBrowser | undefined;
afterAll(async () => second?.close());

interface IndexAdmin {
  list_buckets(): Promise<{ id: Principal; users: number; bytes: bigint }[]>;
  lookup_bucket(p: Principal): Promise<[] | [Principal]>;
}
const indexAdminIdl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    list_buckets: IDL.Func([], [IDL.Vec(IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 }))], ['query']),
    lookup_bucket: IDL.Func([IDL.Principal], [IDL.Opt(IDL.Principal)], ['query']),
  });

interface Stored {
  principal: string;
  /** The canister the app says it read the memory back from. */
  shownBucket: string;
}

/** One person's visit: sign in, add one image, see it stored forever, read it back Verified. */
async function storeAndVerify(context: BrowserContext, origin: string, who: string, image: { name: string; buffer: Buffer }): Promise<Stored> {
  const page: Page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await openApp(page, origin);
  await signInWithPopup(context, page, who);
  // A newcomer's first visit may wait for the index to create their bucket (a 3.6 MB install).
  await page.getByRole('heading', { name: 'Nothing here yet' }).waitFor({ timeout: 180_000 }).catch(async (e: unknown) => {
    await page.screenshot({ path: `.screenshots/buckets/${who.toLowerCase()}-failed.png` });
    throw e;
  });
  const slug = who.toLowerCase();
  await look(page, 'buckets', `${slug}-empty-library`);
  await page.getByRole('button', { name: 'Account' }).click();
  const principal = (await page.getByTestId('principal').textContent())?.trim() ?? '';
  await page.keyboard.press('Escape');

  await openAddSheet(page);
  await page.getByTestId('add-files').setInputFiles([{ name: image.name, mimeType: 'image/png', buffer: image.buffer }]);
  await page.getByText('1 memory added').waitFor();
  await closeDialog(page);
  await waitStoredForever(page, [image.name]);
  expect(await card(page, image.name).getByTestId('badge').textContent()).toContain('ICP');
  await look(page, 'buckets', `${slug}-library`);

  await card(page, image.name).getByRole('link').click();
  await page.getByRole('heading', { name: image.name }).waitFor();
  await page.getByRole('button', { name: 'View on ICP' }).click();
  await page.getByText('Verified: the SHA-256 of the stored bytes matches').waitFor();
  expect(await page.getByTestId('verified-hash').textContent()).toBe(createHash('sha256').update(image.buffer).digest('hex'));
  await look(page, 'buckets', `${slug}-memory-verified`);
  const shownBucket = (await page.getByTestId('canister-id').textContent())?.trim() ?? '';
  return { principal, shownBucket };
}

describe('buckets', () => {
  it('two users store and view their memories, each served by a bucket of their own that the index created', async () => {
    const { stack, browser } = suite;
    const ada = await storeAndVerify(browser.context, stack.origin, 'Ada', { name: 'Ada at the lake.png', buffer: png(64, 48, [200, 90, 40]) });
    second = await launchChromium();
    const grace = await storeAndVerify(second.context, stack.origin, 'Grace', { name: 'Grace in the garden.png', buffer: png(48, 64, [40, 160, 90]) });
    expect(ada.principal).not.toBe(grace.principal);

    // The index, asked as its controller (the deployer identity npm start keeps in its data directory).
    const operator = loadOrCreateDeployerIdentity(join(stack.dataDir, 'ic'));
    const agent = await HttpAgent.create({ host: stack.origin, identity: operator, shouldFetchRootKey: true });
    const index = Actor.createActor<IndexAdmin>(indexAdminIdl, { agent, canisterId: stack.indexId });
    const buckets = await index.list_buckets();
    expect(buckets.map((b) => b.users)).toEqual([1, 1]);
    const ids = buckets.map((b) => b.id.toText());
    const adaBucket = (await index.lookup_bucket(Principal.fromText(ada.principal)))[0]?.toText();
    const graceBucket = (await index.lookup_bucket(Principal.fromText(grace.principal)))[0]?.toText();
    expect(adaBucket).toBe(ids[0]);
    expect(graceBucket).toBe(ids[1]);
    expect(adaBucket).not.toBe(graceBucket);
    // Each read its memory back from the bucket the index names for them.
    expect([ada.shownBucket, grace.shownBucket]).toEqual([adaBucket, graceBucket]);
    // Neither bucket is the index: no canister id but the index's is configured.
    expect(ids).not.toContain(stack.indexId);
  }, 600_000);
});
