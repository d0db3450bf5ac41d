// The Candid interface of the `forever` canister, declared once. The canister
// (with azle's IDL), the generated declarations in src/declarations/forever
// (canister/scripts/post-build.ts prints them from this file), the local IC
// tests and the client all use these definitions, so they cannot drift.
//
// This module must not import azle: it is also loaded in Node by the
// declaration generator and the tests. It receives the IDL namespace the same
// way an `idlFactory` does.
import type { IDL as IDLNamespace } from '@dfinity/candid';

/** The IDL namespace as an `idlFactory` receives it (azle's re-export in the canister). */
type Idl = Parameters<IDLNamespace.InterfaceFactory>[0]['IDL'];

/** Every named Candid type of the interface, in declaration order. */
export function foreverTypes(IDL: Idl) {
  const MemoryType = IDL.Variant({
    Image: IDL.Null,
    Video: IDL.Null,
    Audio: IDL.Null,
    Document: IDL.Null,
    Note: IDL.Null,
  });
  // One error variant for every method; clients switch on the case, never on the text.
  const Error = IDL.Variant({
    Unauthorized: IDL.Null,
    AlreadyExists: IDL.Null,
    NotFound: IDL.Null,
    InvalidHash: IDL.Null,
    InvalidArgument: IDL.Text,
    QuotaExceeded: IDL.Record({ used: IDL.Nat64, limit: IDL.Nat64 }),
    TooManyUploads: IDL.Record({ active: IDL.Nat32, max: IDL.Nat32 }),
    UploadExpired: IDL.Null,
    Internal: IDL.Text,
    // This bucket does not keep this principal's data: ask the index (forever_index) for the caller's bucket.
    WrongBucket: IDL.Null,
  });
  const MemoryMetadata = IDL.Record({
    title: IDL.Text,
    description: IDL.Opt(IDL.Text),
    tags: IDL.Vec(IDL.Text),
    file_name: IDL.Opt(IDL.Text),
    mime_type: IDL.Opt(IDL.Text),
    // When the memory was made (photo taken, note written), ms since epoch, as the client knows it.
    taken_at_ms: IDL.Opt(IDL.Nat64),
  });
  const AssetInfo = IDL.Record({
    memory_id: IDL.Text,
    sha256: IDL.Vec(IDL.Nat8),
    size: IDL.Nat64,
    chunk_count: IDL.Nat32,
    chunk_size: IDL.Nat32,
    committed_at: IDL.Nat64,
  });
  const Memory = IDL.Record({
    id: IDL.Text,
    owner: IDL.Principal,
    memory_type: MemoryType,
    metadata: MemoryMetadata,
    created_at: IDL.Nat64,
    updated_at: IDL.Nat64,
    asset: IDL.Opt(AssetInfo),
  });
  const UpsertResult = IDL.Record({ memory_id: IDL.Text, created: IDL.Bool });
  const MemoryPage = IDL.Record({ items: IDL.Vec(Memory), next_cursor: IDL.Opt(IDL.Text) });
  const MemoryPresence = IDL.Record({
    memory_id: IDL.Text,
    owner: IDL.Opt(IDL.Principal),
    metadata_present: IDL.Bool,
    asset_present: IDL.Bool,
    sha256: IDL.Opt(IDL.Vec(IDL.Nat8)),
    size: IDL.Opt(IDL.Nat64),
  });
  const PresencePage = IDL.Record({ items: IDL.Vec(MemoryPresence), next_cursor: IDL.Opt(IDL.Text) });
  const UploadSession = IDL.Record({
    session_id: IDL.Text,
    memory_id: IDL.Text,
    expected_sha256: IDL.Vec(IDL.Nat8),
    total_size: IDL.Nat64,
    chunk_count: IDL.Nat32,
    // Every chunk but the last is exactly this long; the last holds the rest.
    chunk_size: IDL.Nat32,
    received_chunks: IDL.Vec(IDL.Nat32),
    bytes_received: IDL.Nat64,
    created_at: IDL.Nat64,
    // Nanoseconds since epoch; each accepted call on the session moves it forward.
    expires_at: IDL.Nat64,
  });
  const ChunkReceipt = IDL.Record({
    chunks_received: IDL.Nat32,
    bytes_received: IDL.Nat64,
    expires_at: IDL.Nat64,
  });
  const Gallery = IDL.Record({
    id: IDL.Text,
    title: IDL.Text,
    description: IDL.Opt(IDL.Text),
    memory_ids: IDL.Vec(IDL.Text),
  });
  const StoredGallery = IDL.Record({
    id: IDL.Text,
    owner: IDL.Principal,
    title: IDL.Text,
    description: IDL.Opt(IDL.Text),
    memory_ids: IDL.Vec(IDL.Text),
    created_at: IDL.Nat64,
    updated_at: IDL.Nat64,
  });
  const StoreGalleryResult = IDL.Record({ gallery_id: IDL.Text, created: IDL.Bool });
  const GalleryPage = IDL.Record({ items: IDL.Vec(StoredGallery), next_cursor: IDL.Opt(IDL.Text) });
  const ProofReceipt = IDL.Record({ principal: IDL.Principal, expires_at: IDL.Nat64 });
  const Usage = IDL.Record({
    used_bytes: IDL.Nat64,
    // Bytes promised to live upload sessions (counted against the quota).
    reserved_bytes: IDL.Nat64,
    limit_bytes: IDL.Nat64,
    memories: IDL.Nat64,
    galleries: IDL.Nat64,
    assets: IDL.Nat64,
    active_uploads: IDL.Nat32,
    max_active_uploads: IDL.Nat32,
  });
  const Limits = IDL.Record({
    max_file_size: IDL.Nat64,
    chunk_size: IDL.Nat32,
    session_ttl_seconds: IDL.Nat32,
    max_live_sessions: IDL.Nat32,
    default_quota_bytes: IDL.Nat64,
  });
  const Stats = IDL.Record({
    principals: IDL.Nat64,
    memories: IDL.Nat64,
    galleries: IDL.Nat64,
    assets: IDL.Nat64,
    stored_bytes: IDL.Nat64,
    live_sessions: IDL.Nat64,
    chunks: IDL.Nat64,
    session_records: IDL.Nat64,
    pending_proofs: IDL.Nat64,
    // Ended sessions whose chunks the sweeper is still freeing.
    sessions_freeing: IDL.Nat64,
  });
  const InvariantReport = IDL.Record({
    ok: IDL.Bool,
    violations: IDL.Vec(IDL.Text),
    checked_chunks: IDL.Nat64,
    checked_sessions: IDL.Nat64,
    checked_principals: IDL.Nat64,
  });
  // Instruction counts (ic0.performance_counter deltas) of the last update call, per phase.
  const CallProfile = IDL.Record({
    method: IDL.Text,
    phases: IDL.Vec(IDL.Record({ phase: IDL.Text, instructions: IDL.Nat64 })),
    total: IDL.Nat64,
  });
  // What delete_memory did: `freed_bytes` left the caller's used_bytes (0 while another memory holds the same bytes).
  const DeleteResult = IDL.Record({ deleted: IDL.Bool, freed_bytes: IDL.Nat64 });
  // A memory's thumbnail: at most 64 KiB, its SHA-256 computed by the canister, its type read from its bytes.
  const Thumbnail = IDL.Record({ bytes: IDL.Vec(IDL.Nat8), sha256: IDL.Vec(IDL.Nat8), mime_type: IDL.Text });
  // sha256_parts' answer: the saved hash state (to pass to the next call) and the digest so far.
  const HashProgress = IDL.Record({ state: IDL.Vec(IDL.Nat8), digest: IDL.Vec(IDL.Nat8) });
  // The bucket's init (and upgrade) argument: the index it answers to (none: standalone, every caller its own owner)
  // and the principals allowed to call verify_presence.
  const BucketInit = IDL.Record({ index: IDL.Opt(IDL.Principal), presence_verifiers: IDL.Vec(IDL.Principal) });
  const result = (ok: IDLNamespace.Type) => IDL.Variant({ Ok: ok, Err: Error });
  return {
    MemoryType,
    Error,
    MemoryMetadata,
    AssetInfo,
    Memory,
    UpsertResult,
    MemoryPage,
    MemoryPresence,
    PresencePage,
    UploadSession,
    ChunkReceipt,
    Gallery,
    StoredGallery,
    StoreGalleryResult,
    GalleryPage,
    ProofReceipt,
    Usage,
    Limits,
    Stats,
    InvariantReport,
    CallProfile,
    DeleteResult,
    Thumbnail,
    HashProgress,
    BucketInit,
    Result_upsert: result(UpsertResult),
    Result_memory: result(Memory),
    Result_memory_page: result(MemoryPage),
    Result_presence: result(MemoryPresence),
    Result_presence_page: result(PresencePage),
    Result_presence_list: result(IDL.Vec(MemoryPresence)),
    Result_session: result(UploadSession),
    Result_sessions: result(IDL.Vec(UploadSession)),
    Result_chunk: result(ChunkReceipt),
    Result_chunk_data: result(IDL.Vec(IDL.Nat8)),
    Result_asset: result(AssetInfo),
    Result_unit: result(IDL.Null),
    Result_gallery: result(StoredGallery),
    Result_store_gallery: result(StoreGalleryResult),
    Result_gallery_page: result(GalleryPage),
    Result_proof: result(ProofReceipt),
    Result_usage: result(Usage),
    Result_limits: result(Limits),
    Result_stats: result(Stats),
    Result_invariants: result(InvariantReport),
    Result_profile: result(CallProfile),
    Result_principals: result(IDL.Vec(IDL.Principal)),
    Result_Delete: result(DeleteResult),
    Result_Thumbnail: result(IDL.Opt(Thumbnail)),
    Result_hash: result(HashProgress),
    Result_bool: result(IDL.Bool),
  };
}

export type ForeverTypes = ReturnType<typeof foreverTypes>;

export interface MethodSpec {
  args: IDLNamespace.Type[];
  ret: IDLNamespace.Type;
  query: boolean;
}

/** Every method: argument types, the single return type, query or update. */
export function foreverMethods(IDL: Idl, t: ForeverTypes = foreverTypes(IDL)) {
  const u = (args: IDLNamespace.Type[], ret: IDLNamespace.Type): MethodSpec => ({ args, ret, query: false });
  const q = (args: IDLNamespace.Type[], ret: IDLNamespace.Type): MethodSpec => ({ args, ret, query: true });
  const Cursor = IDL.Opt(IDL.Text);
  const Limit = IDL.Opt(IDL.Nat32);
  const Bytes = IDL.Vec(IDL.Nat8);
  return {
    // Memories
    upsert_metadata: u([IDL.Text, t.MemoryType, t.MemoryMetadata, IDL.Text], t.Result_upsert),
    get_memory: q([IDL.Text], t.Result_memory),
    list_memories: q([Cursor, Limit], t.Result_memory_page),
    get_memory_presence: q([IDL.Text], t.Result_presence),
    get_memory_list_presence: q([IDL.Vec(IDL.Text), Cursor, Limit], t.Result_presence_page),
    verify_presence: q([IDL.Principal, IDL.Vec(IDL.Text)], t.Result_presence_list),
    delete_memory: u([IDL.Text], t.Result_Delete),
    set_thumbnail: u([IDL.Text, Bytes], t.Result_unit),
    get_thumbnail: q([IDL.Text], t.Result_Thumbnail),
    // Chunked uploads
    begin_asset_upload: u([IDL.Text, Bytes, IDL.Nat32, IDL.Nat64], t.Result_session),
    put_chunk: u([IDL.Text, IDL.Nat32, Bytes], t.Result_chunk),
    commit_asset: u([IDL.Text, Bytes], t.Result_asset),
    cancel_upload: u([IDL.Text], t.Result_unit),
    get_upload_progress: q([IDL.Text], t.Result_session),
    list_my_uploads: q([], t.Result_sessions),
    read_chunk: q([IDL.Text, IDL.Nat32], t.Result_chunk_data),
    // Galleries
    store_gallery: u([t.Gallery], t.Result_store_gallery),
    get_gallery: q([IDL.Text], t.Result_gallery),
    list_galleries: q([Cursor, Limit], t.Result_gallery_page),
    // Sign-in proof for the server
    prove_principal: u([IDL.Text], t.Result_proof),
    nonce_principal: q([IDL.Text], IDL.Opt(IDL.Principal)),
    // Usage and limits
    get_usage: q([], t.Result_usage),
    get_limits: q([], t.Limits),
    // Controller-only administration
    set_limits: u([t.Limits], t.Result_limits),
    set_quota: u([IDL.Principal, IDL.Opt(IDL.Nat64)], t.Result_usage),
    set_presence_verifiers: u([IDL.Vec(IDL.Principal)], t.Result_principals),
    get_presence_verifiers: q([], t.Result_principals),
    get_stats: q([], t.Result_stats),
    check_invariants: q([], t.Result_invariants),
    last_call_profile: q([], t.Result_profile),
    // Controllers: SHA-256 by the module's block function, continuing from a saved state (the build's self-check).
    sha256_parts: q([IDL.Opt(Bytes), IDL.Vec(Bytes)], t.Result_hash),
    // Admission (the index or a controller): which owners this bucket keeps data for.
    admit_owner: u([IDL.Principal], t.Result_unit),
    evict_owner: u([IDL.Principal], t.Result_unit),
    is_admitted: q([IDL.Principal], t.Result_bool),
  } satisfies Record<string, MethodSpec>;
}

export type ForeverMethods = ReturnType<typeof foreverMethods>;

/** The init (and upgrade) argument: `opt BucketInit`; an empty argument means none. */
export function foreverInit(IDL: Idl, t: ForeverTypes = foreverTypes(IDL)): IDLNamespace.Type[] {
  return [IDL.Opt(t.BucketInit)];
}
export type ForeverMethodName = keyof ForeverMethods;

/** The `idlFactory` of the interface, as `dfx generate` would export it. */
export const idlFactory: IDLNamespace.InterfaceFactory = ({ IDL }) => {
  const methods = foreverMethods(IDL);
  return IDL.Service(
    Object.fromEntries(
      Object.entries(methods).map(([name, m]) => [name, IDL.Func(m.args as [IDLNamespace.Type], [m.ret], m.query ? ['query'] : [])]),
    ),
  );
};
