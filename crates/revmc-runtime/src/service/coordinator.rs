//! The coordinator thread: accumulates gas per key, promotes hot keys to compile jobs,
//! stores results, and sweeps idle programs.

use super::CompileMode;
use super::runtime::Shared;
use super::stats::Counters;
use crossbeam_channel::{Receiver, select};
use revm::primitives::Bytes;
use revmc_cache::CompiledProgram;
use revmc_cache::store::Loaded;
use revmc_cache::{RuntimeCacheKey, Tier};
use revmc_worker::{CompileError, CompileKind, Compiled, Rejected, WorkerResult};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What callers tell the coordinator.
#[derive(Debug)]
pub(crate) enum Event {
    /// `code` ran under `key` and used `gas`: interpreted (`tier: None`), or as compiled
    /// code of that tier.
    Executed { key: RuntimeCacheKey, code: Bytes, gas: u64, tier: Option<Tier> },
    /// Forget hotness.
    Clear,
    /// Exit.
    Shutdown,
}

/// Keys tracked for hotness at most; beyond it the counts restart, which bounds memory
/// when a node sees endless distinct cold code.
const MAX_TRACKED_KEYS: usize = 1 << 16;

/// Gas run per key: interpreted (towards the first compilation) and as first-tier code
/// (towards the optimizing one).
#[derive(Debug, Default)]
struct Hotness {
    interpreted: HashMap<RuntimeCacheKey, u64>,
    first_tier: HashMap<RuntimeCacheKey, u64>,
}

impl Hotness {
    fn clear(&mut self) {
        self.interpreted.clear();
        self.first_tier.clear();
    }
}

/// Adds `gas` to `key`'s count in `counts`, restarting the counts at the cap; returns the
/// new total.
fn add_gas(counts: &mut HashMap<RuntimeCacheKey, u64>, key: RuntimeCacheKey, gas: u64) -> u64 {
    if counts.len() >= MAX_TRACKED_KEYS && !counts.contains_key(&key) {
        counts.clear();
    }
    let total = counts.entry(key).or_default();
    *total = total.saturating_add(gas);
    *total
}

pub(crate) fn run(shared: &Shared, events: &Receiver<Event>, results: &Receiver<WorkerResult>) {
    let mut hot = Hotness::default();
    let sweep = shared.tuning.idle_eviction.map_or(Duration::from_secs(1), |d| {
        (d / 4).clamp(Duration::from_millis(10), Duration::from_secs(10))
    });
    let mut next_sweep = Instant::now() + sweep;
    loop {
        // Sweep on schedule even when events never stop (a busy node is never idle).
        if Instant::now() >= next_sweep {
            if let Some(idle) = shared.tuning.idle_eviction {
                shared.cache.evict_idle(idle);
            }
            next_sweep = Instant::now() + sweep;
        }
        select! {
            recv(events) -> event => match event {
                Ok(event) => {
                    if !handle(shared, &mut hot, event) {
                        break;
                    }
                }
                Err(_) => break,
            },
            recv(results) -> result => {
                // Events sent before the job's result was stored are handled first, so a
                // caller that records events and then compiles synchronously sees them
                // applied when `compile_sync` returns.
                // Only those already queued: producers must not starve the result.
                let mut go_on = true;
                for event in events.try_iter().take(events.len()) {
                    go_on &= handle(shared, &mut hot, event);
                }
                if let Ok(result) = result {
                    store(shared, result);
                }
                if !go_on {
                    break;
                }
            },
            default(next_sweep.saturating_duration_since(Instant::now())) => {},
        }
    }
    // Results delivered before shutdown still wake their waiters.
    for result in results.try_iter() {
        store(shared, result);
    }
}

/// Applies one event; `false` on shutdown.
fn handle(shared: &Shared, hot: &mut Hotness, event: Event) -> bool {
    match event {
        Event::Executed { key, code, gas, tier: None } => {
            executed(shared, &mut hot.interpreted, key, &code, gas)
        }
        Event::Executed { key, code, gas, tier: Some(Tier::First) } => {
            ran_first_tier(shared, &mut hot.first_tier, key, &code, gas)
        }
        Event::Executed { tier: Some(Tier::Optimized), .. } => {}
        Event::Clear => hot.clear(),
        Event::Shutdown => return false,
    }
    true
}

fn executed(
    shared: &Shared,
    hot: &mut HashMap<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    code: &[u8],
    gas: u64,
) {
    if shared.paused.load(Ordering::Relaxed) {
        return;
    }
    if shared.cache.contains(&key)
        || shared.failure(&key).is_some()
        || shared.in_flight().contains_key(&key)
    {
        hot.remove(&key);
        return;
    }
    if add_gas(hot, key, gas) < shared.tuning.hot_threshold_gas {
        return;
    }
    if code.len() > shared.tuning.max_bytecode_len {
        let error = CompileError::TooLarge { len: code.len(), max: shared.tuning.max_bytecode_len };
        shared.remember_failure(key, error);
        hot.remove(&key);
        return;
    }
    let (kind, tier) = match shared.mode {
        CompileMode::Jit => (CompileKind::Jit, Tier::First),
        CompileMode::Aot => {
            // Compiled before (this run or an earlier one) and evicted since: reload it.
            if shared.load_artifact(key).is_some() {
                hot.remove(&key);
                return;
            }
            (CompileKind::Aot, Tier::Optimized)
        }
    };
    match shared.dispatch(key, code, kind, tier).1 {
        // Keep the count: the next execution retries once the queue has room.
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) | None => {
            hot.remove(&key);
        }
    }
}

/// First-tier code of `key` ran a frame using `gas`: once it has run `tier_up_gas`,
/// dispatch the optimizing compilation, whose result replaces the first-tier program.
fn ran_first_tier(
    shared: &Shared,
    warm: &mut HashMap<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    code: &[u8],
    gas: u64,
) {
    if shared.paused.load(Ordering::Relaxed) {
        return;
    }
    let first_tier = shared.cache.get(&key).is_some_and(|p| p.tier() == Tier::First);
    // A failed optimizing compilation is not retried: the first-tier code stays.
    if !first_tier || shared.failure(&key).is_some() || shared.in_flight().contains_key(&key) {
        warm.remove(&key);
        return;
    }
    if add_gas(warm, key, gas) < shared.tuning.tier_up_gas {
        return;
    }
    match shared.dispatch(key, code, CompileKind::Jit, Tier::Optimized).1 {
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) => {
            warm.remove(&key);
        }
        None => {
            Counters::bump(&shared.counters.tier_ups);
            warm.remove(&key);
        }
    }
}

/// Stores a result of the current generation and wakes its waiters.
fn store(shared: &Shared, result: WorkerResult) {
    let WorkerResult { key, outcome, notifier, generation, duration, phases, tier, .. } = result;
    // Libraries are persisted and loaded outside the in-flight lock: disk and dlopen.
    let outcome = match outcome {
        Ok(Compiled::Program(program)) => Ok(program),
        Ok(Compiled::Library(library)) => persist(shared, key, &library),
        Err(e) => Err(e),
    };
    let outcome = {
        let mut in_flight = shared.in_flight();
        let current = shared.generation.load(Ordering::Acquire) == generation;
        // A newer compilation of the key may be in flight after a `clear`: leave it.
        let ours = match (&notifier, in_flight.get(&key)) {
            (Some(n), Some(m)) => Arc::ptr_eq(n, m),
            _ => false,
        };
        if ours {
            in_flight.remove(&key);
        }
        if !current {
            Counters::bump(&shared.counters.stale);
            Err(CompileError::Cleared)
        } else {
            match &outcome {
                Ok(program) => {
                    Counters::bump(&shared.counters.succeeded);
                    shared.counters.add_compile(duration, phases, tier);
                    if !shared.cache.insert(key, program.clone()).stored {
                        // Larger than the whole budget: never resident, so never recompile.
                        let max = shared.cache.budget();
                        let len = program.code_bytes();
                        shared.remember_failure(key, CompileError::TooLarge { len, max });
                    }
                }
                Err(error) => {
                    Counters::bump(&shared.counters.failed);
                    // A store that failed for lack of resources may work later: not remembered.
                    if !matches!(
                        error,
                        CompileError::ShutDown | CompileError::QueueFull | CompileError::Store(_)
                    ) {
                        shared.remember_failure(key, error.clone());
                    }
                }
            }
            outcome
        }
    };
    if let Some(notifier) = notifier {
        notifier.complete(outcome);
    }
}

/// Writes an AOT library to the store and loads it back through the store's verification,
/// so that what runs is exactly what a later process will load.
fn persist(
    shared: &Shared,
    key: RuntimeCacheKey,
    library: &revmc_llvm::SharedLibrary,
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
