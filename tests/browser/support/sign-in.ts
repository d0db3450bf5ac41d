// Sign-in for a page without the identity provider's UI, with a delegation
// of any lifetime (upload-npm-start.test.ts signs in through the UI).
import { DelegationChain, Ed25519KeyIdentity } from '@dfinity/identity';
import type { DerEncodedPublicKey } from '@dfinity/agent';
import type { Page } from 'playwright-core';

/**
 * What Internet Identity does for a page, without its UI: the page's auth
 * client has created its ECDSA session key in `auth-client-db`; a user key
 * signs a delegation to it and the chain is stored where the auth client
 * reads it. The page must be on the app origin. Returns the user's principal.
 */
export async function grantDelegation(page: Page, ttlMs: number, userKey = Ed25519KeyIdentity.generate()): Promise<string> {
  const spkiHex = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('auth-client-db');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
      const req = db.transaction('ic-keyval').objectStore('ic-keyval').get('identity');
      req.onsuccess = () => resolve(req.result as CryptoKeyPair);
      req.onerror = () => reject(req.error);
    });
    db.close();
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
    return Array.from(spki, (b) => b.toString(16).padStart(2, '0')).join('');
  });
  const der = Uint8Array.from(Buffer.from(spkiHex, 'hex')) as unknown as DerEncodedPublicKey;
  const chain = await DelegationChain.create(userKey, { toDer: () => der }, new Date(Date.now() + ttlMs));
  const json = JSON.stringify(chain.toJSON());
  await page.evaluate(async (value) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('auth-client-db');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('ic-keyval', 'readwrite');
      tx.objectStore('ic-keyval').put(value, 'delegation');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, json);
  return userKey.getPrincipal().toText();
}
