// Which bucket a new user goes to: the first bucket, in creation order, that
// has room for one more user (capacity in users and in bytes is a setting of
// the index). Pure: the index canister's adapter keeps the records.

export interface BucketRecord {
  id: string;
  users: number;
  /** Bytes the bucket reported last (0 until it reports). */
  bytes: bigint;
}

export interface Capacity {
  users: number;
  bytes: bigint;
}

/** The bucket with room, or undefined when a new bucket must be created. */
export function bucketWithRoom(buckets: BucketRecord[], capacity: Capacity): BucketRecord | undefined {
  return buckets.find((b) => b.users < capacity.users && b.bytes < capacity.bytes);
}
