//! State shared by the [`Runtime`](super::Runtime) handle, the coordinator and the store
//! threads, and the two operations all of them need: dispatching a compilation and
//! loading an artifact.

use super::RuntimeStats;
use super::ledger::{Begun, Finish, Ledger};
use super::policy::Policy;
use super::seen::SeenFilter;
use super::stats::{CompileTotals, Counters, MissesByReason};
use revmc_cache::store::{ArtifactBuild, ArtifactKey, ArtifactStore, Loaded};
use revmc_cache::{CompiledProgram, ResidentCache, RuntimeCacheKey, Tier};
use revmc_worker::{
    CompileError, CompileJob, CompileKind, Notifier, Profiling, Rejected, WorkerPool,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Shared {
    pub policy: Policy,
    pub ledger: Ledger,
    pub cache: ResidentCache,
    pub store: Option<Arc<dyn ArtifactStore>>,
    /// How AOT code is compiled here (target, build, level, options): part of every
    /// artifact key.
    pub build: ArtifactBuild,
    pub enabled: AtomicBool,
    pub paused: AtomicBool,
    pub pool: RwLock<WorkerPool>,
    pub counters: Counters,
    /// Init code seen before, to decide whether to hash it.
    pub seen: SeenFilter,
}

impl Shared {
    /// The artifact key of `key` under this runtime's AOT settings.
    pub fn artifact_key(&self, key: RuntimeCacheKey) -> ArtifactKey {
        ArtifactKey::new(key, &self.build)
    }

    /// Loads `key`'s artifact from the store into the resident cache, if there is a valid
    /// one. A damaged artifact is counted and reported as absent (it gets recompiled).
    pub fn load_artifact(&self, key: RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        let store = self.store.as_ref()?;
        let generation = self.ledger.generation();
        match store.load(&self.artifact_key(key)) {
            Ok(Loaded::Hit(program)) => {
                let program = Arc::new(program);
                Counters::bump(&self.counters.aot_loaded);
                // Resident only if no `clear` ran meanwhile.
                self.ledger.if_current(generation, |finish| {
                    if finish == Finish::Current {
                        self.cache.insert(key, program.clone());
                    }
                });
                Some(program)
            }
            Ok(Loaded::Miss) => None,
            Ok(Loaded::Discarded(_)) => {
                Counters::bump(&self.counters.aot_discarded);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "artifact store");
                None
            }
        }
    }

    /// Dispatches a compilation of `key` of `kind` unless one is in flight; returns the
    /// notifier to wait on. A refused job completes its notifier with the reason. An
    /// optimizing compilation is of the whole program.
    pub fn dispatch(
        &self,
        key: RuntimeCacheKey,
        code: &[u8],
        kind: CompileKind,
        tier: Tier,
    ) -> (Arc<Notifier>, Option<Rejected>) {
        self.dispatch_with(key, code, kind, tier, Profiling::Off)
    }

    /// Dispatches the optimizing JIT compilation of `key`: of the blocks that ran with
    /// `Profiling::Compile`, else whole.
    pub fn dispatch_profiled(
        &self,
        key: RuntimeCacheKey,
        code: &[u8],
        profiling: Profiling,
    ) -> (Arc<Notifier>, Option<Rejected>) {
        self.dispatch_with(key, code, CompileKind::Jit, Tier::Optimized, profiling)
    }

    fn dispatch_with(
        &self,
        key: RuntimeCacheKey,
        code: &[u8],
        kind: CompileKind,
        tier: Tier,
        profiling: Profiling,
    ) -> (Arc<Notifier>, Option<Rejected>) {
        // The code must be what the key names: compiled code runs on frames found by hash.
        if revm::primitives::keccak256(code) != key.code_hash {
            let n = Notifier::new();
            n.complete(Err(CompileError::CodeMismatch));
            return (n, None);
        }
        let (notifier, generation) = match self.ledger.begin(key) {
            Begun::Joined(notifier) => return (notifier, None),
            Begun::Started { notifier, generation } => (notifier, generation),
        };
        let shape = self.policy.job(&key, kind, tier, || self.artifact_key(key).id());
        let job = CompileJob {
            kind,
            key,
            bytecode: code.into(),
            symbol: shape.symbol,
            opt_level: shape.opt_level,
            tier: shape.tier,
            profiling: self.policy.profiling(kind, shape.tier, profiling),
            notifier: Some(notifier.clone()),
            generation,
        };
        let submitted = self.pool.read().unwrap_or_else(|e| e.into_inner()).submit(job);
        match submitted {
            Ok(()) => {
                Counters::bump(&self.counters.dispatched);
                (notifier, None)
            }
            Err(refused) => {
                self.ledger.abandon(&key, &notifier);
                notifier.complete(Err(match refused.reason {
                    Rejected::Full => CompileError::QueueFull,
                    Rejected::ShutDown => CompileError::ShutDown,
                }));
                (notifier, Some(refused.reason))
            }
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RuntimeStats {
        let s = self;
        let c = &s.counters;
        let misses_by_reason = MissesByReason::from_counters(&c.miss_reasons);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let CompileTotals {
            compile_time,
            first_tier_compile_time,
            compile_cpu_time,
            first_tier_compile_cpu_time,
            phases,
        } = *c.compile.lock().unwrap_or_else(|e| e.into_inner());
        RuntimeStats {
            hits: c.hits.load(),
            misses: misses_by_reason.enabled_total(),
            events_dropped: load(&c.events_dropped),
            queued: s.pool.read().unwrap_or_else(|e| e.into_inner()).pending() as u64,
            dispatched: load(&c.dispatched),
            deferred: load(&c.deferred),
            succeeded: load(&c.succeeded),
            first_tier: load(&c.first_tier),
            tier_ups: load(&c.tier_ups),
            recompiled_widened: load(&c.recompiled_widened),
            recompiled_whole: load(&c.recompiled_whole),
            failed: load(&c.failed),
            stale: load(&c.stale),
            aot_loaded: load(&c.aot_loaded),
            aot_stored: load(&c.aot_stored),
            aot_discarded: load(&c.aot_discarded),
            evictions: s.cache.evictions(),
            resident_entries: s.cache.len() as u64,
            negative_entries: s.ledger.failures() as u64,
            tracked_keys: load(&c.tracked_keys),
            jit_code_bytes: s.cache.code_bytes() as u64,
            live_jit_code_bytes: revmc_worker::live_code_bytes() as u64,
            compile_time,
            first_tier_compile_time,
            compile_cpu_time,
            first_tier_compile_cpu_time,
            phases,
            misses_by_reason,
        }
    }
}
