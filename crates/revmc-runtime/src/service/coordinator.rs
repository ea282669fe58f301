//! The coordinator thread: accumulates gas per key, promotes hot keys to compile jobs,
//! stores results, and sweeps idle programs.

use super::CompileMode;
use super::runtime::Shared;
use super::stats::Counters;
use super::store_io::StoreIo;
use crossbeam_channel::{Receiver, select};
use lru::LruCache;
use revm::primitives::Bytes;
use revmc_cache::CompiledProgram;
use revmc_cache::store::Loaded;
use revmc_cache::{RuntimeCacheKey, Tier};
use revmc_worker::{CompileError, CompileKind, Compiled, Rejected, WorkerResult};
use std::num::NonZeroUsize;
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

/// Gas run per key: interpreted (towards the first compilation) and as first-tier code
/// (towards the optimizing one). Each is bounded by `Tuning::max_tracked_keys`; the least
/// recently executed key goes first, so a flood of distinct cold code cannot push out
/// code that keeps running.
#[derive(Debug)]
struct Hotness {
    interpreted: LruCache<RuntimeCacheKey, u64>,
    first_tier: LruCache<RuntimeCacheKey, u64>,
}

impl Hotness {
    fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self { interpreted: LruCache::new(capacity), first_tier: LruCache::new(capacity) }
    }

    fn clear(&mut self) {
        self.interpreted.clear();
        self.first_tier.clear();
    }

    fn len(&self) -> usize {
        self.interpreted.len() + self.first_tier.len()
    }
}

/// Adds `gas` to `key`'s count, marking it recently executed; returns the new total.
fn add_gas(counts: &mut LruCache<RuntimeCacheKey, u64>, key: RuntimeCacheKey, gas: u64) -> u64 {
    match counts.get_mut(&key) {
        Some(total) => {
            *total = total.saturating_add(gas);
            *total
        }
        None => {
            counts.put(key, gas);
            gas
        }
    }
}

pub(crate) fn run(
    shared: &Arc<Shared>,
    events: &Receiver<Event>,
    results: &Receiver<WorkerResult>,
) {
    let mut hot = Hotness::new(shared.tuning.max_tracked_keys);
    // Store I/O and `dlopen` run on threads of their own (AOT mode).
    let store_io = (shared.mode == CompileMode::Aot).then(|| StoreIo::start(shared));
    let io = store_io.as_ref();
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
                    if !handle(shared, io, &mut hot, event) {
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
                    go_on &= handle(shared, io, &mut hot, event);
                }
                if let Ok(result) = result {
                    store_or_persist(shared, io, result);
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
        store_or_persist(shared, io, result);
    }
    if let Some(store_io) = store_io {
        // Queued loads and libraries finish before the coordinator is gone.
        store_io.finish();
    }
}

/// Stores a result here, or hands a library to the store threads (disk and `dlopen`).
fn store_or_persist(shared: &Shared, io: Option<&StoreIo>, result: WorkerResult) {
    match io {
        Some(io) if matches!(result.outcome, Ok(Compiled::Library(_))) => io.persist(result),
        _ => store(shared, result),
    }
}

/// Applies one event; `false` on shutdown.
fn handle(shared: &Shared, io: Option<&StoreIo>, hot: &mut Hotness, event: Event) -> bool {
    let go_on = apply(shared, io, hot, event);
    shared.counters.tracked_keys.store(hot.len() as u64, Ordering::Relaxed);
    go_on
}

fn apply(shared: &Shared, io: Option<&StoreIo>, hot: &mut Hotness, event: Event) -> bool {
    match event {
        Event::Executed { key, code, gas, tier: None } => {
            executed(shared, io, &mut hot.interpreted, key, &code, gas)
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
    io: Option<&StoreIo>,
    hot: &mut LruCache<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    code: &Bytes,
    gas: u64,
) {
    if shared.paused.load(Ordering::Relaxed) {
        return;
    }
    if shared.cache.contains(&key)
        || shared.failed.get(&key).is_some()
        || shared.in_flight().contains_key(&key)
    {
        hot.pop(&key);
        return;
    }
    if add_gas(hot, key, gas) < shared.tuning.hot_threshold_gas {
        return;
    }
    if code.len() > shared.tuning.max_bytecode_len {
        let error = CompileError::TooLarge { len: code.len(), max: shared.tuning.max_bytecode_len };
        shared.remember_failure(key, error);
        hot.pop(&key);
        return;
    }
    if let Some(io) = io {
        // AOT: the store may have it (compiled before, evicted since); its threads look
        // and compile if not.
        io.load(key, code);
        hot.pop(&key);
        return;
    }
    match shared.dispatch(key, code, CompileKind::Jit, Tier::First).1 {
        // Keep the count: the next execution retries once the queue has room.
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) | None => {
            hot.pop(&key);
        }
    }
}

/// First-tier code of `key` ran a frame using `gas`: once it has run `tier_up_gas`,
/// dispatch the optimizing compilation, whose result replaces the first-tier program.
fn ran_first_tier(
    shared: &Shared,
    warm: &mut LruCache<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    code: &[u8],
    gas: u64,
) {
    if shared.paused.load(Ordering::Relaxed) {
        return;
    }
    let first_tier = shared.cache.get(&key).is_some_and(|p| p.tier() == Tier::First);
    // A failed optimizing compilation is not retried: the first-tier code stays.
    if !first_tier || shared.failed.get(&key).is_some() || shared.in_flight().contains_key(&key) {
        warm.pop(&key);
        return;
    }
    if add_gas(warm, key, gas) < shared.tuning.tier_up_gas {
        return;
    }
    match shared.dispatch(key, code, CompileKind::Jit, Tier::Optimized).1 {
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) => {
            warm.pop(&key);
        }
        None => {
            Counters::bump(&shared.counters.tier_ups);
            warm.pop(&key);
        }
    }
}

/// Stores a result of the current generation and wakes its waiters.
pub(super) fn store(shared: &Shared, result: WorkerResult) {
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
