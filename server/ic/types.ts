// What the server needs from the canister, as two narrow ports. The default
// adapters (canister-client.ts) speak to the IC with @dfinity/agent.

export interface IcMemoryPresence {
  memory_id: string;
  metadata_present: boolean;
  asset_present: boolean;
  /** Hex SHA-256 of the committed asset, when there is one. */
  sha256: string | null;
  size: number | null;
}

export interface PrincipalResolver {
  /**
   * The principal that proved `nonce` with `prove_principal`, or null. With an
   * index, `claimed` (the principal the client says it is) names whose
   * bucket holds the proof; the answer is that principal only if the proof
   * there is its own.
   */
  noncePrincipal(nonce: string, claimed?: string): Promise<string | null>;
}

export interface PresenceVerifier {
  /** Presence in `owner`'s bucket of `memoryIds` owned by `owner` (textual principal). */
  presence(owner: string, memoryIds: readonly string[]): Promise<Map<string, IcMemoryPresence>>;
}

/** The canister could not be reached or answered with a reject. */
export class IcUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IcUnavailableError';
  }
}
