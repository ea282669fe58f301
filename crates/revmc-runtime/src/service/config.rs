//! Runtime configuration: [`RuntimeConfig`] (what the runtime is given) and [`Tuning`]
//! (its sizes, thresholds and levels, serializable so that a node can read it from its
//! configuration file). Every knob, its default and its measured effect are in
//! `docs/tuning.md`.
//!
//! Zero has one meaning everywhere a limit can be zero: no limit (unbounded, never, none).

use revmc_cache::store::ArtifactStore;
use revmc_worker::OptLevel;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What hot code is compiled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

impl RuntimeConfig {
    /// A runtime that compiles nothing and starts no thread: every lookup says
    /// [`InterpretReason::Disabled`](crate::InterpretReason::Disabled). Enabling it later
    /// ([`crate::Runtime::set_enabled`]) starts its workers then.
    pub fn disabled() -> Self {
        Self { enabled: false, preload: false, ..Self::default() }
    }
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

/// Sizing and thresholds of the compile service. Zero means "no limit" for every limit.
///
/// Deserializes from any serde format with every field optional (defaults fill the rest)
/// and unknown fields refused; durations are written as `"2s"`, `"1h"`, `"300ms"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tuning {
    /// Compile worker threads (at least one; [`RuntimeConfig::disabled`] runs none).
    pub jit_worker_count: usize,
    /// Jobs queued per worker before background promotions are deferred (0: unbounded).
    pub queue_capacity_per_worker: usize,
    /// Jobs queued or compiling at most, over all workers (0: only the per-worker bound).
    pub max_pending_jobs: usize,
    /// Gas a contract must execute interpreted before it is compiled (0: at first sight,
    /// in the background).
    pub hot_threshold_gas: u64,
    /// Compile on first sight and wait, on the executing thread (for debugging): a
    /// [`JitEvm`](crate::evm::JitEvm) made with `with_runtime` runs every frame compiled
    /// that can be.
    pub blocking: bool,
    /// Budget for resident compiled code, in bytes (0: unbounded).
    pub code_cache_bytes: usize,
    /// Programs unused for this long are evicted (0: only the budget evicts).
    #[serde(with = "humantime_serde")]
    pub idle_eviction: Duration,
    /// Compilations after which a worker's compiler is replaced (0: never).
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
    /// First-tier programs whose estimated compile cost (`revmc_ir::compile_cost`,
    /// microseconds of the reference machine) exceeds this are compiled as several
    /// functions of about this cost: twice as fast for the largest contracts
    /// (`revmc_ir::Limits::first_tier_chunk_cost`).
    pub first_tier_chunk_cost: usize,
    /// Code from which every path fails (REVERT, INVALID and other errors) is not
    /// compiled: compiled code leaves the rest of such a frame to the interpreter
    /// (`revmc_ir::Limits::interpret_failing_paths`). `false` compiles it too.
    pub interpret_failing_paths: bool,
    /// With a first tier: its code records the blocks it runs, and the optimizing tier
    /// compiles only those, leaving the others to the interpreter
    /// (`revmc_ir::translate_profiled`): on the contracts the board's workloads run, a
    /// sixth to two fifths of the whole contract's compile time (`docs/compile-cost.md`,
    /// "Compiling what ran"). Should optimized frames then leave to the interpreter at
    /// blocks that did not run, using `tier_up_gas` there, the code is compiled again
    /// from its profile, widened with what those frames ran (see `profile_widenings`).
    /// `false` compiles the whole program.
    pub compile_what_ran: bool,
    /// How many times code compiled from a profile is compiled again from a wider one
    /// (`compile_what_ran`) before it is compiled whole instead: each time costs at most
    /// a whole compilation, and needs frames that left the code at blocks that had not
    /// run to use `tier_up_gas` first. 0 compiles whole at once.
    pub profile_widenings: u8,
    /// Added to the nice value of the worker and compile threads (and of compile child
    /// processes), 0 to 19: where cores are short they take what execution leaves, instead
    /// of half a core from a block for as long as LLVM runs. Callers that wait for a
    /// compilation (`compile_sync`, `prepare_aot`, `blocking`) wait for them at that
    /// priority. Their deadlines leave out the time they wait for a core, so that waiting
    /// never times a compilation out (Linux; elsewhere threads keep the process's priority
    /// and deadlines are wall time). Relative to the thread that starts the workers (the
    /// one that starts the runtime, or for a disabled runtime the first call that needs
    /// them). 0: that thread's priority.
    pub compile_nice: u8,
    /// Deadline of a first-tier compilation, in the time the compile thread works on it
    /// (its CPU time, and time it is blocked; not time it waits for a core): past it the
    /// compilation is abandoned, the key is refused as `Timeout` (for 10 minutes) and the
    /// worker moves on (0: none).
    #[serde(with = "humantime_serde")]
    pub compile_deadline: Duration,
    /// Deadline of optimizing and AOT compilations, which take longer (up to 15 s for the
    /// largest real contracts here, `docs/compile-cost.md`) (0: none). Counted as
    /// `compile_deadline` is, for a compile child process (`optimizing_compile_process`)
    /// too.
    #[serde(with = "humantime_serde")]
    pub optimizing_compile_deadline: Duration,
    /// Optimization level of AOT compilations.
    pub aot_opt_level: OptLevel,
    /// Longer bytecode is never compiled (0: no bound beyond the translator's own).
    pub max_bytecode_len: usize,
    /// Loop-free bytecode that runs fewer instructions per call is never compiled: entering
    /// compiled code costs about what the interpreter spends on 50 instructions
    /// (`docs/benchmarks.md`). 0 compiles everything.
    pub min_loop_free_instructions: usize,
    /// Capacity of the execution-event channel; events beyond it are dropped, never waited
    /// on (0: unbounded).
    pub event_capacity: usize,
    /// Bytes the AOT store may hold (artifacts, orphans, quarantine); after each library
    /// it stores, the runtime collects least recently used artifacts beyond it
    /// (`ArtifactStore::gc`) (0: unbounded).
    pub store_byte_budget: u64,
    /// Keys the negative cache remembers at most, least recently used evicted first
    /// (0: unbounded).
    pub max_negative_entries: usize,
    /// Keys whose gas the coordinator counts at most, towards compiling or tiering up,
    /// least recently executed evicted first (0: unbounded).
    pub max_tracked_keys: usize,
    /// Where every compilation writes its bytecode (`.hex`), its IR (`.ir`), its LLVM IR
    /// before and after optimization (`.unopt.ll`, `.opt.ll`) and its assembly (`.opt.s`),
    /// named by symbol. For debugging; `None`: nothing is written.
    pub dump_dir: Option<PathBuf>,
    /// An executable that compiles in a child process ([`revmc_worker::CompileProcess`];
    /// the `revmc` binary's `compile-job` does, of the same build). With it, optimizing
    /// JIT compilations run LLVM there: killed at `optimizing_compile_deadline` (none if
    /// zero), and an LLVM crash fails one compilation instead of the process. `None`:
    /// they run in the worker, abandoned at the deadline but run to their end.
    pub optimizing_compile_process: Option<revmc_worker::CompileProcess>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            jit_worker_count: std::thread::available_parallelism()
                .map_or(1, |n| (n.get() / 2).max(1)),
            queue_capacity_per_worker: 64,
            max_pending_jobs: 0,
            hot_threshold_gas: 1_000_000,
            blocking: false,
            code_cache_bytes: 256 << 20,
            idle_eviction: Duration::from_secs(3600),
            compiler_recycle_threshold: 256,
            jit_opt_level: OptLevel::O2,
            first_tier_opt_level: Some(OptLevel::O0),
            tier_up_gas: 10_000_000,
            first_tier_chunk_cost: revmc_ir::DEFAULT_FIRST_TIER_CHUNK_COST,
            interpret_failing_paths: true,
            compile_what_ran: true,
            profile_widenings: 2,
            compile_nice: 10,
            compile_deadline: Duration::from_secs(2),
            optimizing_compile_deadline: Duration::from_secs(60),
            aot_opt_level: OptLevel::O3,
            max_bytecode_len: 64 * 1024,
            min_loop_free_instructions: 64,
            event_capacity: 4096,
            store_byte_budget: 1 << 30,
            max_negative_entries: 1 << 16,
            max_tracked_keys: 1 << 16,
            dump_dir: None,
            optimizing_compile_process: None,
        }
    }
}

/// A [`Tuning`] that cannot work, named by its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No worker: nothing could ever compile.
    #[error(
        "tuning.jit_worker_count is 0: use RuntimeConfig::disabled() for a runtime that compiles nothing"
    )]
    NoWorkers,
    /// The first tier would be more optimized than the optimizing tier.
    #[error("tuning.first_tier_opt_level {first:?} is above tuning.jit_opt_level {optimizing:?}")]
    TiersInverted {
        /// `first_tier_opt_level`.
        first: OptLevel,
        /// `jit_opt_level`.
        optimizing: OptLevel,
    },
    /// `dump_dir` names something that is not a directory.
    #[error("tuning.dump_dir {0} exists and is not a directory")]
    DumpDirNotADirectory(PathBuf),
    /// AOT mode without a store.
    #[error("mode = aot needs an artifact store")]
    AotWithoutStore,
    /// `optimizing_compile_process` names a path with no file.
    #[error("tuning.optimizing_compile_process {0} is not a file")]
    CompileProcessMissing(PathBuf),
    /// `compile_nice` past the largest nice value.
    #[error("tuning.compile_nice {0} is above 19, the lowest priority")]
    NiceOutOfRange(u8),
}

impl Tuning {
    /// Checks that the settings can work together; [`crate::Runtime::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.jit_worker_count == 0 {
            return Err(ConfigError::NoWorkers);
        }
        if let Some(first) = self.first_tier_opt_level
            && first > self.jit_opt_level
        {
            return Err(ConfigError::TiersInverted { first, optimizing: self.jit_opt_level });
        }
        if self.compile_nice > 19 {
            return Err(ConfigError::NiceOutOfRange(self.compile_nice));
        }
        if let Some(dir) = &self.dump_dir
            && dir.exists()
            && !dir.is_dir()
        {
            return Err(ConfigError::DumpDirNotADirectory(dir.clone()));
        }
        // A bare name is looked up in `PATH` when the child starts; a path must exist.
        if let Some(process) = &self.optimizing_compile_process
            && process.program.components().count() > 1
            && !process.program.is_file()
        {
            return Err(ConfigError::CompileProcessMissing(process.program.clone()));
        }
        Ok(())
    }
}

/// `limit`, or no limit when it is zero.
pub(crate) fn unless_zero(limit: usize) -> usize {
    if limit == 0 { usize::MAX } else { limit }
}

/// `d`, or none when it is zero.
pub(crate) fn duration_unless_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}
