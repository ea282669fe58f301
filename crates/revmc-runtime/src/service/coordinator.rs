//! The coordinator thread: accumulates gas per key, promotes hot keys to compile jobs,
//! stores results, and sweeps idle programs.

use super::config::duration_unless_zero;
use super::metrics;
use super::policy::{Hotness, add_gas};
use super::results;
use super::shared::Shared;
use super::stats::Counters;
use super::store_io::StoreIo;
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use lru::LruCache;
use revm::primitives::Bytes;
use revmc_cache::{BlockProfile, RuntimeCacheKey, Tier};
use revmc_worker::{CompileKind, Compiled, Profiling, Rejected, WorkerResult};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The shortest and longest wait between two polls of the event channel.
const MIN_POLL: Duration = Duration::from_millis(1);
const MAX_POLL: Duration = Duration::from_millis(16);

/// How often the coordinator publishes the counters through the `metrics` facade.
const METRICS_PERIOD: Duration = Duration::from_secs(1);

/// What callers tell the coordinator.
#[derive(Debug)]
pub(crate) enum Event {
    /// `code` ran under `key` and used `gas`: interpreted (`tier: None`), or as compiled
    /// code of that tier.
    Executed { key: RuntimeCacheKey, code: Bytes, gas: u64, tier: Option<Tier> },
    /// A frame of `code`'s optimized program, compiled from a profile, used `gas` after
    /// leaving to the interpreter at code that had not run when profiled.
    LeftCold { key: RuntimeCacheKey, code: Bytes, gas: u64 },
    /// Forget hotness.
    Clear,
    /// Exit.
    Shutdown,
}

pub(crate) fn run(
    shared: &Arc<Shared>,
    events: &Receiver<Event>,
    results: &Receiver<WorkerResult>,
) {
    let tuning = &shared.policy.tuning;
    let mut hot = Hotness::new(tuning.max_tracked_keys);
    // Store I/O and `dlopen` run on threads of their own, never here.
    let store_io = shared.store.is_some().then(|| StoreIo::start(shared));
    let io = store_io.as_ref();
    let idle_eviction = duration_unless_zero(tuning.idle_eviction);
    let sweep = idle_eviction.map_or(Duration::from_secs(1), |d| {
        (d / 4).clamp(Duration::from_millis(10), Duration::from_secs(10))
    });
    let mut next_sweep = Instant::now() + sweep;
    let mut next_publish = Instant::now() + METRICS_PERIOD;
    let mut poll = MIN_POLL;
    loop {
        if Instant::now() >= next_publish {
            metrics::publish(&shared.stats());
            next_publish = Instant::now() + METRICS_PERIOD;
        }
        // Sweep on schedule even when events never stop (a busy node is never idle).
        if Instant::now() >= next_sweep {
            if let Some(idle) = idle_eviction {
                shared.cache.evict_idle(idle);
            }
            next_sweep = Instant::now() + sweep;
        }
        // Events are polled, not waited on: a sender that finds the coordinator parked on
        // the channel pays a futex wake-up (a few µs, more than interpreting a small
        // frame) on the executing thread. Polling every 1–16 ms, faster while events
        // come, keeps that off the execution path.
        match drain(shared, io, &mut hot, events) {
            Drained::Shutdown => break,
            Drained::Applied => poll = MIN_POLL,
            Drained::Empty => poll = (poll * 2).min(MAX_POLL),
        }
        let wake = next_sweep.min(next_publish).min(Instant::now() + poll);
        match results.recv_deadline(wake) {
            Ok(result) => {
                // Events sent before the job's result was stored are handled first, so a
                // caller that records events and then compiles synchronously sees them
                // applied when `compile_sync` returns.
                let go_on = !matches!(drain(shared, io, &mut hot, events), Drained::Shutdown);
                store_or_persist(shared, io, result);
                if !go_on {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // No worker pool left to send results: keep the schedule without spinning.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(wake.saturating_duration_since(Instant::now()))
            }
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

/// What a drain of the event channel found.
enum Drained {
    /// No event was queued.
    Empty,
    /// Events were applied.
    Applied,
    /// A shutdown event, or the senders are gone.
    Shutdown,
}

/// Applies the events queued now (only those: producers must not starve results).
fn drain(
    shared: &Shared,
    io: Option<&StoreIo>,
    hot: &mut Hotness,
    events: &Receiver<Event>,
) -> Drained {
    let mut found = Drained::Empty;
    for _ in 0..events.len().max(1) {
        match events.try_recv() {
            Ok(event) => {
                if !handle(shared, io, hot, event) {
                    return Drained::Shutdown;
                }
                found = Drained::Applied;
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => return Drained::Shutdown,
        }
    }
    found
}

/// Stores a result here, or hands a library to the store threads (disk and `dlopen`).
fn store_or_persist(shared: &Shared, io: Option<&StoreIo>, result: WorkerResult) {
    match io {
        Some(io) if matches!(result.outcome, Ok(Compiled::Library(_))) => io.persist(result),
        _ => results::record(shared, result),
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
            recompile_when_warm(shared, &mut hot.first_tier, key, &code, gas, Recompile::TierUp)
        }
        Event::Executed { tier: Some(Tier::Optimized), .. } => {}
        Event::LeftCold { key, code, gas } => {
            recompile_when_warm(shared, &mut hot.cold, key, &code, gas, Recompile::Widen)
        }
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
        || shared.ledger.check_failure(&key).is_some()
        || shared.ledger.is_in_flight(&key)
    {
        hot.pop(&key);
        return;
    }
    if add_gas(hot, key, gas) < shared.policy.tuning.hot_threshold_gas {
        return;
    }
    let kind = match shared.policy.admit(code.len(), false) {
        Ok(kind) => kind,
        Err(refused) => {
            hot.pop(&key);
            return shared.ledger.remember_failure(key, refused);
        }
    };
    if let (CompileKind::Aot, Some(io)) = (kind, io) {
        // The store may have it (compiled before, evicted since); its threads look and
        // compile if not.
        hot.pop(&key);
        return io.load(key, code);
    }
    match shared.dispatch(key, code, kind, Tier::First).1 {
        // Keep the count: the next execution retries once the queue has room.
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) | None => {
            hot.pop(&key);
        }
    }
}

/// Why a resident program is recompiled optimized once its frames have used
/// `tier_up_gas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recompile {
    /// First-tier code ran: compile it optimized, from what it ran if it recorded that
    /// (`Tuning::compile_what_ran`).
    TierUp,
    /// Optimized code compiled from a profile left frames to the interpreter at code that
    /// had not run: the profile no longer fits the workload. Compile it again from the
    /// profile those frames widened with what they ran in the interpreter, or whole once
    /// `Tuning::profile_widenings` programs have been compiled from a widened one.
    Widen,
}

/// Frames of `key`'s resident program used `gas`, counted in `counts` towards `why`:
/// once they have used `tier_up_gas`, dispatch the optimizing compilation, whose result
/// replaces the program.
fn recompile_when_warm(
    shared: &Shared,
    counts: &mut LruCache<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    code: &[u8],
    gas: u64,
    why: Recompile,
) {
    if shared.paused.load(Ordering::Relaxed) {
        return;
    }
    let resident = shared.cache.get(&key);
    let applies = resident.as_deref().is_some_and(|p| match why {
        Recompile::TierUp => p.tier() == Tier::First,
        // Frames that left this program marked what they ran in its profile, unless the
        // gas is of frames of the program it replaced, whose marks went there: compiling
        // again from nothing new would only use up a widening.
        Recompile::Widen => p.is_profiled() && p.profile().is_some_and(BlockProfile::has_grown),
    });
    // A failed optimizing compilation is not retried: the code it would replace stays.
    if !applies
        || shared.ledger.check_failure(&key).is_some()
        || shared.ledger.check_tier_up_failure(&key).is_some()
        || shared.ledger.is_in_flight(&key)
    {
        counts.pop(&key);
        return;
    }
    if add_gas(counts, key, gas) < shared.policy.tuning.tier_up_gas {
        return;
    }
    let Some(resident) = resident else { return };
    // What the program's frames ran, if recorded, unless it was widened enough times
    // already; else the code is compiled whole.
    let profiling = match resident.profile_to_compile() {
        Some((ran, widenings)) if widenings <= shared.policy.tuning.profile_widenings => {
            Profiling::Compile { ran: Arc::new(ran), widenings }
        }
        _ => Profiling::Off,
    };
    let widened = matches!(profiling, Profiling::Compile { .. });
    match shared.dispatch_profiled(key, code, profiling).1 {
        Some(Rejected::Full) => Counters::bump(&shared.counters.deferred),
        Some(Rejected::ShutDown) => {
            counts.pop(&key);
        }
        None => {
            Counters::bump(match (why, widened) {
                (Recompile::TierUp, _) => &shared.counters.tier_ups,
                (Recompile::Widen, true) => &shared.counters.recompiled_widened,
                (Recompile::Widen, false) => &shared.counters.recompiled_whole,
            });
            counts.pop(&key);
        }
    }
}
