//! Counters of the compile service and their snapshot.

use revmc_cache::Tier;
use revmc_worker::CompilePhases;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A point-in-time view of the runtime's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Lookups that found compiled code.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Execution events dropped because the channel was full.
    pub events_dropped: u64,
    /// Jobs admitted to the pool and not finished.
    pub queued: u64,
    /// Jobs handed to the pool.
    pub dispatched: u64,
    /// Promotions deferred because the pool was full.
    pub deferred: u64,
    /// Compilations that produced a program.
    pub succeeded: u64,
    /// Of `succeeded`, first-tier compilations.
    pub first_tier: u64,
    /// Optimizing recompilations of first-tier code dispatched.
    pub tier_ups: u64,
    /// Recompilations dispatched of optimized code compiled from a profile, whose frames
    /// left to the interpreter at cold code for `tier_up_gas`
    /// (`Tuning::compile_what_ran`), from the profile those frames widened
    /// (`Tuning::profile_widenings`).
    pub recompiled_widened: u64,
    /// The same, compiling the code whole: after `Tuning::profile_widenings` widened
    /// ones.
    pub recompiled_whole: u64,
    /// Compilations that failed.
    pub failed: u64,
    /// Results dropped because `clear` ran while they compiled.
    pub stale: u64,
    /// Programs evicted from the resident cache.
    pub evictions: u64,
    /// Programs resident.
    pub resident_entries: u64,
    /// Keys in the negative cache.
    pub negative_entries: u64,
    /// Keys whose gas the coordinator is counting.
    pub tracked_keys: u64,
    /// Code bytes of the resident programs.
    pub jit_code_bytes: u64,
    /// Code bytes of every JIT program alive in the process (resident or still running).
    pub live_jit_code_bytes: u64,
    /// AOT programs loaded from the artifact store (preload, promotion, or after eviction).
    pub aot_loaded: u64,
    /// AOT libraries written to the store.
    pub aot_stored: u64,
    /// Artifacts that failed verification and were moved aside.
    pub aot_discarded: u64,
    /// Compile time, summed over successful compilations: wall time from each job's start
    /// to its end (the latency, including time its threads waited for a core).
    pub compile_time: Duration,
    /// Of `compile_time`, first-tier compilations'.
    pub first_tier_compile_time: Duration,
    /// `compile_time` by phase (wall time too).
    pub phases: CompilePhases,
    /// CPU time of the same compilations: what compiling took from execution (the threads
    /// that compiled them, worker or compile thread, and compile child processes; zero
    /// off Linux).
    pub compile_cpu_time: Duration,
    /// Of `compile_cpu_time`, first-tier compilations'.
    pub first_tier_compile_cpu_time: Duration,
    /// Of `misses`, by the reason the lookup gave (and lookups while disabled).
    pub misses_by_reason: MissesByReason,
}

/// Lookups that found no compiled code, by [`InterpretReason`](super::InterpretReason).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MissesByReason {
    /// The runtime was disabled (not counted in `misses`).
    pub disabled: u64,
    /// Not compiled yet.
    pub not_compiled: u64,
    /// The compilation failed.
    pub failed: u64,
    /// Longer than `max_bytecode_len`.
    pub too_large: u64,
    /// The compilation ran past its deadline.
    pub timed_out: u64,
    /// Loop-free code too short to repay compiled code's entry.
    pub unprofitable: u64,
    /// Refused by the translator's limits as too costly to compile.
    pub too_costly: u64,
}

impl MissesByReason {
    /// Misses while enabled: every reason but `disabled`.
    pub fn enabled_total(&self) -> u64 {
        self.not_compiled
            + self.failed
            + self.too_large
            + self.timed_out
            + self.unprofitable
            + self.too_costly
    }

    pub(crate) fn from_counters(c: &[ShardedCounter; REASONS]) -> Self {
        use super::InterpretReason as R;
        let n = |r: R| c[r as usize].load();
        Self {
            disabled: n(R::Disabled),
            not_compiled: n(R::NotCompiled),
            failed: n(R::Failed),
            too_large: n(R::TooLarge),
            timed_out: n(R::TimedOut),
            unprofitable: n(R::Unprofitable),
            too_costly: n(R::TooCostly),
        }
    }
}

/// Number of [`InterpretReason`](super::InterpretReason)s.
pub(crate) const REASONS: usize = super::InterpretReason::COUNT;

// Every reason is counted: a reason added to the enum fails to compile here until it is
// named, next to the last one whose discriminant sets `REASONS`.
const _: () = {
    use super::InterpretReason as R;
    const fn index(r: R) -> usize {
        match r {
            R::Disabled
            | R::NotCompiled
            | R::Failed
            | R::TooLarge
            | R::TimedOut
            | R::Unprofitable
            | R::TooCostly => r as usize,
        }
    }
    assert!(index(R::TooCostly) + 1 == REASONS);
};

/// A counter bumped from many threads at once: one cache line per slot, each thread
/// bumping the slot of its own, so that lookups on different threads never contend for
/// one counter's line. Reading sums the slots.
#[derive(Debug, Default)]
pub(crate) struct ShardedCounter([PaddedU64; 16]);

#[repr(align(128))]
#[derive(Debug, Default)]
struct PaddedU64(AtomicU64);

impl ShardedCounter {
    pub fn bump(&self) {
        thread_local! {
            static SLOT: usize = {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                NEXT.fetch_add(1, Ordering::Relaxed) as usize % 16
            };
        }
        let slot = SLOT.with(|s| *s);
        self.0[slot].0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn load(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// Counters updated by callers and the coordinator.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: ShardedCounter,
    /// Misses by `InterpretReason as usize`.
    pub miss_reasons: [ShardedCounter; REASONS],
    pub events_dropped: AtomicU64,
    pub dispatched: AtomicU64,
    pub deferred: AtomicU64,
    pub succeeded: AtomicU64,
    pub first_tier: AtomicU64,
    pub tier_ups: AtomicU64,
    pub recompiled_widened: AtomicU64,
    pub recompiled_whole: AtomicU64,
    pub failed: AtomicU64,
    pub stale: AtomicU64,
    pub aot_loaded: AtomicU64,
    pub aot_stored: AtomicU64,
    pub aot_discarded: AtomicU64,
    pub tracked_keys: AtomicU64,
    /// Compile time and its phases, over successful compilations.
    pub compile: Mutex<CompileTotals>,
}

/// Sums over successful compilations (`RuntimeStats`' fields of the same names).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CompileTotals {
    pub compile_time: Duration,
    pub first_tier_compile_time: Duration,
    pub compile_cpu_time: Duration,
    pub first_tier_compile_cpu_time: Duration,
    pub phases: CompilePhases,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a successful compilation of `tier` that took `time` (wall) and `cpu`.
    pub fn add_compile(&self, time: Duration, cpu: Duration, phases: CompilePhases, tier: Tier) {
        let mut c = self.compile.lock().unwrap_or_else(|e| e.into_inner());
        c.compile_time += time;
        c.compile_cpu_time += cpu;
        c.phases += phases;
        if tier == Tier::First {
            c.first_tier_compile_time += time;
            c.first_tier_compile_cpu_time += cpu;
            Self::bump(&self.first_tier);
        }
    }
}
