// Candid types of the management canister (`aaaaa-aa`) methods the local IC
// implements, as the IC interface specification's ic.did declares them
// (dfinity/portal docs/references/_attachments/ic.did). Replies use the
// newest record shapes: a caller built against an older ic.did decodes them
// too, since Candid ignores record fields it does not expect.
import { IDL } from '@dfinity/candid';

const canisterId = IDL.Principal;

export const LogVisibility = IDL.Variant({
  controllers: IDL.Null,
  public: IDL.Null,
  allowed_viewers: IDL.Vec(IDL.Principal),
});

const EnvironmentVariable = IDL.Record({ name: IDL.Text, value: IDL.Text });

export const CanisterSettings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
  reserved_cycles_limit: IDL.Opt(IDL.Nat),
  log_visibility: IDL.Opt(LogVisibility),
  wasm_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_threshold: IDL.Opt(IDL.Nat),
  environment_variables: IDL.Opt(IDL.Vec(EnvironmentVariable)),
});

export const DefiniteCanisterSettings = IDL.Record({
  controllers: IDL.Vec(IDL.Principal),
  compute_allocation: IDL.Nat,
  memory_allocation: IDL.Nat,
  freezing_threshold: IDL.Nat,
  reserved_cycles_limit: IDL.Nat,
  log_visibility: LogVisibility,
  wasm_memory_limit: IDL.Nat,
  wasm_memory_threshold: IDL.Nat,
  environment_variables: IDL.Vec(EnvironmentVariable),
});

export const ChunkHash = IDL.Record({ hash: IDL.Vec(IDL.Nat8) });

export const CanisterInstallMode = IDL.Variant({
  install: IDL.Null,
  reinstall: IDL.Null,
  upgrade: IDL.Opt(
    IDL.Record({
      skip_pre_upgrade: IDL.Opt(IDL.Bool),
      wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
    }),
  ),
});

const CanisterIdRecord = IDL.Record({ canister_id: canisterId });

export const ManagementArgs = {
  create_canister: IDL.Record({ settings: IDL.Opt(CanisterSettings), sender_canister_version: IDL.Opt(IDL.Nat64) }),
  update_settings: IDL.Record({
    canister_id: canisterId,
    settings: CanisterSettings,
    sender_canister_version: IDL.Opt(IDL.Nat64),
  }),
  upload_chunk: IDL.Record({ canister_id: canisterId, chunk: IDL.Vec(IDL.Nat8) }),
  clear_chunk_store: CanisterIdRecord,
  stored_chunks: CanisterIdRecord,
  install_code: IDL.Record({
    mode: CanisterInstallMode,
    canister_id: canisterId,
    wasm_module: IDL.Vec(IDL.Nat8),
    arg: IDL.Vec(IDL.Nat8),
    sender_canister_version: IDL.Opt(IDL.Nat64),
  }),
  install_chunked_code: IDL.Record({
    mode: CanisterInstallMode,
    target_canister: canisterId,
    store_canister: IDL.Opt(canisterId),
    chunk_hashes_list: IDL.Vec(ChunkHash),
    wasm_module_hash: IDL.Vec(IDL.Nat8),
    arg: IDL.Vec(IDL.Nat8),
    sender_canister_version: IDL.Opt(IDL.Nat64),
  }),
  uninstall_code: IDL.Record({ canister_id: canisterId, sender_canister_version: IDL.Opt(IDL.Nat64) }),
  start_canister: CanisterIdRecord,
  stop_canister: CanisterIdRecord,
  canister_status: CanisterIdRecord,
} as const;

export type ManagementMethod = keyof typeof ManagementArgs | 'raw_rand';

export const CanisterStatusResult = IDL.Record({
  status: IDL.Variant({ running: IDL.Null, stopping: IDL.Null, stopped: IDL.Null }),
  ready_for_migration: IDL.Bool,
  version: IDL.Nat64,
  settings: DefiniteCanisterSettings,
  module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
  memory_size: IDL.Nat,
  memory_metrics: IDL.Record({
    wasm_memory_size: IDL.Nat,
    stable_memory_size: IDL.Nat,
    global_memory_size: IDL.Nat,
    wasm_binary_size: IDL.Nat,
    custom_sections_size: IDL.Nat,
    canister_history_size: IDL.Nat,
    wasm_chunk_store_size: IDL.Nat,
    snapshots_size: IDL.Nat,
  }),
  cycles: IDL.Nat,
  reserved_cycles: IDL.Nat,
  idle_cycles_burned_per_day: IDL.Nat,
  query_stats: IDL.Record({
    num_calls_total: IDL.Nat,
    num_instructions_total: IDL.Nat,
    request_payload_bytes_total: IDL.Nat,
    response_payload_bytes_total: IDL.Nat,
  }),
});

export const ManagementResults = {
  create_canister: [IDL.Record({ canister_id: canisterId })],
  update_settings: [],
  upload_chunk: [ChunkHash],
  clear_chunk_store: [],
  stored_chunks: [IDL.Vec(ChunkHash)],
  install_code: [],
  install_chunked_code: [],
  uninstall_code: [],
  start_canister: [],
  stop_canister: [],
  canister_status: [CanisterStatusResult],
  raw_rand: [IDL.Vec(IDL.Nat8)],
} satisfies Record<ManagementMethod, IDL.Type[]>;

/** The replica's defaults for settings the local IC records but does not enforce. */
export const DEFAULT_SETTINGS = {
  compute_allocation: 0n,
  memory_allocation: 0n,
  freezing_threshold: 2_592_000n,
  reserved_cycles_limit: 5_000_000_000_000n,
  wasm_memory_limit: 3n * 1024n ** 3n,
  wasm_memory_threshold: 0n,
};

/** At most this many controllers (the replica's `max_controllers`). */
export const MAX_CONTROLLERS = 10;
