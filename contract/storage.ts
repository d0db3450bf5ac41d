// Where a memory's artifacts can be: one storage edge per (memory, artifact, backend).
// `neon` is the Web2 metadata, `blob` the server's blob copy, `icp` the
// canister, `ipfs` a pin on IPFS (its location is `ipfs://<cid>`).
export const STORAGE_BACKENDS = ['neon', 'blob', 'icp', 'ipfs'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

/** An IPFS pin job's states, in order; `completed` and `failed` are final. */
export const IPFS_JOB_STATUSES = ['pending_payment', 'paid', 'pinning', 'completed', 'failed'] as const;
export type IpfsJobStatus = (typeof IPFS_JOB_STATUSES)[number];

/** An IPFS pin job as the broker's API returns it (`GET /api/ipfs/jobs/:id`, a 202 or a 200). */
export interface IpfsJobView {
  jobId: string;
  status: IpfsJobStatus;
  provider: string;
  source: 'memory' | 'inline';
  memory_id: string | null;
  filename: string | null;
  endpoint: 'pin/json' | 'pin/file' | null;
  file_size_bytes: number | null;
  price_usd: number | null;
  /** Token units (6 decimals). */
  amount: string | null;
  error: string | null;
  attempts: number;
  result: {
    success: true;
    cid: string;
    ipfsHash: string;
    ipfsUrl: string;
    endpoint: string | null;
    priceUsd: number | null;
    profile: string | null;
  } | null;
  created_at: string;
  updated_at: string;
}
