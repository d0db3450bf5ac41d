// Where a memory's artifacts can be: one storage edge per (memory, artifact, backend).
// `neon` is the Web2 metadata, `blob` the server's blob copy, `icp` the
// canister, `ipfs` a pin on IPFS (its location is `ipfs://<cid>`).
export const STORAGE_BACKENDS = ['neon', 'blob', 'icp', 'ipfs'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

/** An IPFS pin job's states, in order; `completed` and `failed` are final. */
export const IPFS_JOB_STATUSES = ['pending_payment', 'paid', 'pinning', 'completed', 'failed'] as const;
export type IpfsJobStatus = (typeof IPFS_JOB_STATUSES)[number];
