// Verifies the index's certified answer to "where is my bucket"
// (`my_bucket_certified`): the certificate is the IC's signature (checked
// against the root key by @dfinity/agent's Certificate) over the index's
// certified data; the tree's root hash must equal that data; the path
// `bucket/<principal>` in the tree then proves the bucket, or its absence.
// A query answer is served by one replica, so without this a single node
// could send a user's uploads to a canister of its choosing.
import { Cbor, Certificate, LookupPathStatus, lookup_path, lookupResultToBuffer, reconstruct, type HashTree } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';

export class UncertifiedBucketError extends Error {
  constructor(reason: string) {
    super(`The index's answer is not certified: ${reason}`);
    this.name = 'UncertifiedBucketError';
  }
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The bucket the certified tree names for `principal`, or null when the tree
 * shows none for it (proven absent, or not revealed). Null only leads the
 * locator to `assign_bucket`, an update whose answer goes through consensus
 * and which answers an assigned principal with its bucket, so a tree that
 * hides the caller costs one update, never a wrong bucket. Throws
 * UncertifiedBucketError when the certificate or the tree does not check out.
 */
export async function verifyCertifiedBucket(answer: {
  certificate: Uint8Array;
  tree: Uint8Array;
  indexId: string;
  principal: string;
  rootKey: Uint8Array;
}): Promise<string | null> {
  const index = Principal.fromText(answer.indexId);
  let cert: Certificate;
  try {
    cert = await Certificate.create({ certificate: answer.certificate, rootKey: answer.rootKey, canisterId: index });
  } catch (e) {
    throw new UncertifiedBucketError(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
  const certified = lookupResultToBuffer(cert.lookup_path(['canister', index.toUint8Array(), 'certified_data']));
  if (!certified) throw new UncertifiedBucketError('the certificate holds no certified data of the index');
  let tree: HashTree;
  let root: Uint8Array;
  try {
    tree = Cbor.decode<HashTree>(answer.tree);
    root = await reconstruct(tree);
  } catch {
    throw new UncertifiedBucketError('the tree is not a CBOR hash tree');
  }
  if (!equal(root, certified)) throw new UncertifiedBucketError("the tree's root hash is not the index's certified data");
  const found = lookup_path(['bucket', Principal.fromText(answer.principal).toUint8Array()], tree);
  if (found.status !== LookupPathStatus.Found) return null;
  return Principal.fromUint8Array(found.value).toText();
}
