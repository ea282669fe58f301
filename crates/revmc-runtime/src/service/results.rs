//! Recording a worker's result: the program into the resident cache (an AOT library first
//! through the store), the failure into the negative cache, and the waiters woken.

use super::ledger::Finish;
use super::shared::Shared;
use super::stats::Counters;
use revmc_cache::store::Loaded;
use revmc_cache::{CompiledProgram, RuntimeCacheKey, Tier};
use revmc_worker::{CompileError, CompileKind, Compiled, WorkerResult};
use std::sync::Arc;

/// Stores a result of the current generation and wakes its waiters. An AOT library is
/// written to the store and loaded back first: call this where disk I/O may block.
pub(crate) fn record(shared: &Shared, result: WorkerResult) {
    let WorkerResult {
        key, outcome, notifier, generation, duration, cpu, phases, kind, tier, ..
    } = result;
    // Libraries are persisted and loaded outside the ledger's lock: disk and dlopen.
    let outcome = match outcome {
        Ok(Compiled::Program(program)) => Ok(program),
        Ok(Compiled::Library(library)) => persist(shared, key, &library),
        Err(e) => Err(e),
    };
    let outcome = shared.ledger.finish(&key, notifier.as_ref(), generation, |finish| {
        if finish == Finish::Stale {
            Counters::bump(&shared.counters.stale);
            return Err(CompileError::Cleared);
        }
        super::metrics::record_compile(duration, tier, outcome.is_ok());
        match &outcome {
            Ok(program) => {
                Counters::bump(&shared.counters.succeeded);
                shared.counters.add_compile(duration, cpu, phases, tier);
                if !shared.cache.insert(key, program.clone()).stored {
                    // Larger than the whole budget: never resident, so never recompile.
                    let max = shared.cache.budget();
                    let len = program.code_bytes();
                    shared.ledger.remember_failure(key, CompileError::TooLarge { len, max });
                }
            }
            Err(error) => {
                Counters::bump(&shared.counters.failed);
                // A failed tier-up leaves the first-tier code in place (a failed
                // recompilation, the code compiled from a profile); should it be
                // evicted, the key is compiled at the first tier again, never tiered up.
                let tier_up = kind == CompileKind::Jit
                    && tier == Tier::Optimized
                    && (shared.cache.get(&key))
                        .is_some_and(|p| p.tier() == Tier::First || p.is_profiled());
                if tier_up {
                    shared.ledger.remember_tier_up_failure(key, error.clone());
                } else {
                    shared.ledger.remember_failure(key, error.clone());
                }
            }
        }
        outcome
    });
    if let Some(notifier) = notifier {
        notifier.complete(outcome);
    }
}

/// Writes an AOT library to the store and loads it back through the store's verification,
/// so that what runs is exactly what a later process will load.
fn persist(
    shared: &Shared,
    key: RuntimeCacheKey,
    library: &revmc_worker::Library,
) -> Result<Arc<CompiledProgram>, CompileError> {
    let store = shared.store.as_ref().ok_or(CompileError::Store("no artifact store".into()))?;
    let artifact = shared.artifact_key(key);
    store
        .store(&artifact, &library.bytes, &library.symbol)
        .map_err(|e| CompileError::Store(e.to_string()))?;
    Counters::bump(&shared.counters.aot_stored);
    match store.load(&artifact) {
        Ok(Loaded::Hit(program)) => Ok(Arc::new(program)),
        Ok(other) => {
            Err(CompileError::Store(format!("the stored library did not load: {other:?}")))
        }
        Err(e) => Err(CompileError::Store(e.to_string())),
    }
}
