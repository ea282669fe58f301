//! Runtime configuration.

use revmc_cache::store::ArtifactStore;
use revmc_llvm::OptLevel;
use std::sync::Arc;
use std::time::Duration;

/// What hot code is compiled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompileMode {
    /// In-process JIT code, lost at exit.
    #[default]
    Jit,
    /// Shared libraries persisted in the artifact store, reused across restarts.
    Aot,
}

/// How the runtime behaves.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Whether lookups may return compiled code (see [`crate::Runtime::set_enabled`]).
    pub enabled: bool,
    /// JIT or AOT for background compilations.
    pub mode: CompileMode,
    /// Where AOT artifacts persist; required for [`CompileMode::Aot`] and `prepare_aot`.
    pub store: Option<Arc<dyn ArtifactStore>>,
    /// Load every valid artifact of the store into the resident cache at start-up.
    pub preload: bool,
    /// Sizing and thresholds.
    pub tuning: Tuning,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            mode: CompileMode::Jit,
            store: None,
            preload: true,
            tuning: Tuning::default(),
        }
    }
}

/// Sizing and thresholds of the compile service.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Compile worker threads (zero: nothing compiles, every job fails at once).
    pub jit_worker_count: usize,
    /// Jobs admitted per worker before background promotions are deferred.
    pub queue_capacity_per_worker: usize,
    /// Gas a contract must execute interpreted before it is compiled.
    pub hot_threshold_gas: u64,
    /// Budget for resident compiled code, in bytes.
    pub code_cache_bytes: usize,
    /// Programs unused for this long are evicted (`None`: only the budget evicts).
    pub idle_eviction: Option<Duration>,
    /// Compilations after which a worker's compiler is replaced.
    pub compiler_recycle_threshold: usize,
    /// Optimization level of JIT compilations (the optimizing tier).
    pub jit_opt_level: OptLevel,
    /// The first JIT tier: hot code is compiled at this level first (ready in a fraction
    /// of the optimizing tier's time) and recompiled at `jit_opt_level` once its
    /// first-tier frames have run `tier_up_gas`. `None`: one tier, at `jit_opt_level`.
    /// AOT compilations and `compile_sync` always use the optimizing level.
    pub first_tier_opt_level: Option<OptLevel>,
    /// Gas that first-tier code must run before it is recompiled optimized.
    pub tier_up_gas: u64,
    /// Deadline of a first-tier compilation: past it the compilation is abandoned, the
    /// key is refused as `Timeout` (for 10 minutes) and the worker moves on. `None`: none.
    pub compile_deadline: Option<Duration>,
    /// Deadline of optimizing and AOT compilations, which take longer (up to 15 s for the
    /// largest real contracts here, `docs/compile-cost.md`).
    pub optimizing_compile_deadline: Option<Duration>,
    /// Optimization level of AOT compilations.
    pub aot_opt_level: OptLevel,
    /// Longer bytecode is never compiled.
    pub max_bytecode_len: usize,
    /// Loop-free bytecode that runs fewer instructions per call is never compiled: entering
    /// compiled code costs about what the interpreter spends on 50 instructions
    /// (`docs/benchmarks.md`). 0 compiles everything.
    pub min_loop_free_instructions: usize,
    /// Capacity of the execution-event channel; events beyond it are dropped, never waited on.
    pub event_capacity: usize,
    /// Bytes the AOT store may hold (artifacts, orphans, quarantine); after each library
    /// it stores, the runtime collects least recently used artifacts beyond it
    /// (`ArtifactStore::gc`). `None`: unbounded.
    pub store_byte_budget: Option<u64>,
    /// Keys the negative cache remembers at most (least recently used evicted first).
    pub max_negative_entries: usize,
    /// Keys whose gas the coordinator counts at most, towards compiling or tiering up
    /// (least recently executed evicted first).
    pub max_tracked_keys: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            jit_worker_count: std::thread::available_parallelism()
                .map_or(1, |n| (n.get() / 2).max(1)),
            queue_capacity_per_worker: 64,
            hot_threshold_gas: 1_000_000,
            code_cache_bytes: 256 << 20,
            idle_eviction: Some(Duration::from_secs(3600)),
            compiler_recycle_threshold: 256,
            jit_opt_level: OptLevel::O2,
            first_tier_opt_level: Some(OptLevel::O0),
            tier_up_gas: 10_000_000,
            compile_deadline: Some(Duration::from_secs(2)),
            optimizing_compile_deadline: Some(Duration::from_secs(60)),
            aot_opt_level: OptLevel::O3,
            max_bytecode_len: 64 * 1024,
            min_loop_free_instructions: 64,
            event_capacity: 4096,
            store_byte_budget: Some(1 << 30),
            max_negative_entries: 1 << 16,
            max_tracked_keys: 1 << 16,
        }
    }
}
