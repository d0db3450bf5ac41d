// Driving the minimal upload page (src/routes/+page.svelte) from a test.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import type { Page } from 'playwright-core';
import { idlFactory } from '../../../src/declarations/forever/forever.did.js';
import type { LocalStack } from '../../client/support/local-stack';

export const item = (page: Page) => page.locator('[data-testid=item]');

/** Opens the page and waits until the upload client started (service worker ready, or page mode). */
export async function openApp(page: Page, origin: string, query = ''): Promise<string> {
  await page.goto(`${origin}/${query}`);
  await page.waitForSelector('body[data-ready]');
  return (await page.getAttribute('body', 'data-ready')) ?? '';
}

export async function pickFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.setInputFiles('[data-testid=files]', { name, mimeType: 'application/octet-stream', buffer: bytes });
}

export async function waitForState(page: Page, state: string, timeout = 120_000): Promise<void> {
  await page.waitForSelector(`[data-testid=item][data-state="${state}"]`, { timeout });
}

const service = idlFactory({ IDL }) as IDL.ServiceClass;

/** The caller's usage as the canister reports it (memories, assets). */
export async function usageOf(stack: LocalStack, principal: string): Promise<{ memories: bigint; assets: bigint; active_uploads: number }> {
  const f = service._fields.find(([n]) => n === 'get_usage')![1];
  const r = await stack.ic.query(Principal.fromText(stack.canisterId), 'get_usage', new Uint8Array(IDL.encode(f.argTypes, [])), { caller: Principal.fromText(principal) });
  if (r.status !== 'replied') throw new Error(r.rejectMessage);
  const [result] = IDL.decode(f.retTypes, r.reply) as [{ Ok: { memories: bigint; assets: bigint; active_uploads: number } } | { Err: unknown }];
  if ('Err' in result) throw new Error(`get_usage: ${JSON.stringify(Object.keys(result.Err as object))}`);
  return result.Ok;
}
