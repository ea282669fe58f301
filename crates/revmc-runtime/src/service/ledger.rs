//! The bookkeeping of compilations: which keys are in flight (and who waits on them),
//! which failed (the negative cache), which failed only to tier up (their first-tier
//! code stays usable, and is compiled again if evicted), and the generation that `clear`
//! bumps so that a compilation started before it is discarded when it finishes.
//!
//! One lock, the in-flight map's, orders everything that must not interleave with a
//! `clear`: starting a compilation (its generation is read under it), storing a result or
//! a loaded artifact in the resident cache, and the clear itself.

use super::negative::NegativeCache;
use revmc_cache::RuntimeCacheKey;
use revmc_worker::{CompileError, Notifier};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// What [`Ledger::begin`] found.
pub(crate) enum Begun {
    /// A compilation of the key is in flight already: wait on its notifier.
    Joined(Arc<Notifier>),
    /// A new compilation is registered under `generation`; its result completes `notifier`.
    Started { notifier: Arc<Notifier>, generation: u64 },
}

/// What [`Ledger::finish`] decided about a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Of the current generation: store it.
    Current,
    /// A `clear` ran while it compiled: drop it.
    Stale,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Ledger {
    generation: AtomicU64,
    /// Compilations dispatched and not yet stored, each with the notifier its waiters share.
    in_flight: Mutex<HashMap<RuntimeCacheKey, Arc<Notifier>>>,
    failed: NegativeCache,
    /// Keys whose optimizing compilation failed while their first-tier code was resident:
    /// not compiled at the optimizing tier again, but not refused a first tier either.
    tier_up_failed: NegativeCache,
}

impl Ledger {
    /// An empty ledger whose negative cache holds at most `max_negative_entries` keys (0:
    /// unbounded).
    pub fn new(max_negative_entries: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            in_flight: Mutex::default(),
            failed: NegativeCache::new(max_negative_entries),
            tier_up_failed: NegativeCache::new(max_negative_entries),
        }
    }

    fn in_flight(&self) -> MutexGuard<'_, HashMap<RuntimeCacheKey, Arc<Notifier>>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a compilation of `key`, unless one is in flight.
    pub fn begin(&self, key: RuntimeCacheKey) -> Begun {
        let mut in_flight = self.in_flight();
        if let Some(n) = in_flight.get(&key) {
            return Begun::Joined(n.clone());
        }
        let notifier = Notifier::new();
        in_flight.insert(key, notifier.clone());
        // Read under the lock `clear` bumps it under, so that a job is never tagged with a
        // generation newer than its in-flight entry.
        Begun::Started { notifier, generation: self.generation.load(Ordering::Acquire) }
    }

    /// Unregisters a compilation that was never dispatched (the pool refused it).
    pub fn abandon(&self, key: &RuntimeCacheKey, notifier: &Arc<Notifier>) {
        let mut in_flight = self.in_flight();
        if in_flight.get(key).is_some_and(|n| Arc::ptr_eq(n, notifier)) {
            in_flight.remove(key);
        }
    }

    /// Ends the compilation of `key` started under `generation` and runs `record` with the
    /// verdict, under the lock that orders it against `clear`. A newer compilation of the
    /// key (after a `clear`) stays registered.
    pub fn finish<R>(
        &self,
        key: &RuntimeCacheKey,
        notifier: Option<&Arc<Notifier>>,
        generation: u64,
        record: impl FnOnce(Finish) -> R,
    ) -> R {
        let mut in_flight = self.in_flight();
        if let (Some(n), Some(m)) = (notifier, in_flight.get(key))
            && Arc::ptr_eq(n, m)
        {
            in_flight.remove(key);
        }
        record(self.verdict(generation))
    }

    /// Runs `store` with the verdict on work begun under `generation` that has no in-flight
    /// entry (an artifact loaded from the store), under the same lock as `finish`.
    pub fn if_current<R>(&self, generation: u64, store: impl FnOnce(Finish) -> R) -> R {
        let _in_flight = self.in_flight();
        store(self.verdict(generation))
    }

    fn verdict(&self, generation: u64) -> Finish {
        if self.generation.load(Ordering::Acquire) == generation {
            Finish::Current
        } else {
            Finish::Stale
        }
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether a compilation of `key` is in flight.
    pub fn is_in_flight(&self, key: &RuntimeCacheKey) -> bool {
        self.in_flight().contains_key(key)
    }

    /// The live failure of `key`, without touching its recency (the execution path).
    pub fn failure(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.failed.peek(key)
    }

    /// The live failure of `key`, marking it recently seen (the coordinator, whenever the
    /// key runs interpreted).
    pub fn check_failure(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.failed.get(key)
    }

    /// Remembers that `key` failed with `error`, unless the error says nothing about the
    /// code: a full queue, a shutdown or a store short of resources may all go away.
    pub fn remember_failure(&self, key: RuntimeCacheKey, error: CompileError) {
        remember(&self.failed, key, error);
    }

    /// The live tier-up failure of `key` (the coordinator, when first-tier code runs).
    pub fn check_tier_up_failure(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.tier_up_failed.get(key)
    }

    /// Remembers that the optimizing compilation of `key` failed with `error` while its
    /// first-tier code was resident (the same errors as [`Ledger::remember_failure`]).
    pub fn remember_tier_up_failure(&self, key: RuntimeCacheKey, error: CompileError) {
        remember(&self.tier_up_failed, key, error);
    }

    /// Keys in the negative cache, tier-up failures included.
    pub fn failures(&self) -> usize {
        self.failed.len() + self.tier_up_failed.len()
    }

    /// Bumps the generation, forgets every failure and in-flight compilation, and runs
    /// `also` (clearing the resident cache) under the same lock. Waiters keep their
    /// notifiers; the stale results complete them as `Cleared`.
    pub fn clear(&self, also: impl FnOnce()) {
        let mut in_flight = self.in_flight();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.failed.clear();
        self.tier_up_failed.clear();
        in_flight.clear();
        also();
    }
}

/// Puts `key`'s `error` in `cache` if it says something about the code.
fn remember(cache: &NegativeCache, key: RuntimeCacheKey, error: CompileError) {
    if !matches!(error, CompileError::ShutDown | CompileError::QueueFull | CompileError::Store(_)) {
        cache.insert(key, error);
    }
}
