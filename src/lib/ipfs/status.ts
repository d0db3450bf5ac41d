// Pure: what a memory's IPFS copy is doing, in the words a screen shows.
export type IpfsPhase = 'waiting' | 'paying' | 'pinning' | 'kept' | 'failed';

export interface MemoryIpfsState {
  phase: IpfsPhase;
  cid?: string;
  /** The gateway link of the CID. */
  url?: string;
  error?: string;
}

export function phaseLabel(s: MemoryIpfsState): string {
  switch (s.phase) {
    case 'waiting':
      return 'Waiting for the Internet Computer…';
    case 'paying':
      return 'Paying…';
    case 'pinning':
      return 'Pinning…';
    case 'kept':
      return 'Kept on IPFS';
    case 'failed':
      return `Failed: ${s.error ?? 'unknown error'}`;
  }
}

/** "2 kept on IPFS, 1 pinning…, 1 failed" for a selection or a gallery; '' when none has started. */
export function summaryLabel(states: readonly (MemoryIpfsState | undefined)[]): string {
  const n = { kept: 0, busy: 0, waiting: 0, failed: 0 };
  for (const s of states) {
    if (!s) continue;
    if (s.phase === 'kept') n.kept++;
    else if (s.phase === 'failed') n.failed++;
    else if (s.phase === 'waiting') n.waiting++;
    else n.busy++;
  }
  const parts: string[] = [];
  if (n.kept) parts.push(`${n.kept} kept on IPFS`);
  if (n.busy) parts.push(`${n.busy} paying or pinning…`);
  if (n.waiting) parts.push(`${n.waiting} waiting for the Internet Computer`);
  if (n.failed) parts.push(`${n.failed} failed`);
  return parts.join(', ');
}

/** The total of several prices in token units, as USD (the token has `decimals`). */
export function totalUsd(amounts: readonly string[], decimals = 6): number {
  const units = amounts.reduce((a, b) => a + BigInt(b), 0n);
  return Number(units) / 10 ** decimals;
}
