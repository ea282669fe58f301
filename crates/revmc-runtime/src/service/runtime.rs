//! The [`Runtime`] handle: lookups, hotness events, synchronous compiles, control, stats.

use super::coordinator::{self, Event};
use super::stats::Counters;
use super::{InterpretReason, Lookup, RuntimeConfig, RuntimeStats, Tuning};
use crate::RuntimeError;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use revm::primitives::Bytes;
use revmc_cache::{CompiledProgram, ResidentCache, RuntimeCacheKey};
use revmc_ir::Limits;
use revmc_worker::{
    CompileError, CompileJob, CompileKind, Notifier, Rejected, WorkerConfig, WorkerPool,
    WorkerResult,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

/// State shared by the handle and the coordinator thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub tuning: Tuning,
    pub enabled: AtomicBool,
    pub paused: AtomicBool,
    pub generation: AtomicU64,
    pub cache: ResidentCache,
    /// The negative cache: keys whose compilation failed, with the error.
    pub failed: RwLock<HashMap<RuntimeCacheKey, CompileError>>,
    /// Compilations dispatched and not yet stored, each with the notifier its waiters
    /// share. Its lock also orders result storage against `clear`.
    pub in_flight: Mutex<HashMap<RuntimeCacheKey, Arc<Notifier>>>,
    pub pool: RwLock<WorkerPool>,
    pub counters: Counters,
}

impl Shared {
    pub fn in_flight(&self) -> MutexGuard<'_, HashMap<RuntimeCacheKey, Arc<Notifier>>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn failure(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.failed.read().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    pub fn remember_failure(&self, key: RuntimeCacheKey, error: CompileError) {
        self.failed.write().unwrap_or_else(|e| e.into_inner()).insert(key, error);
    }

    /// Dispatches a compilation of `key` unless one is in flight; returns the notifier to
    /// wait on. A refused job completes its notifier with the reason.
    pub fn dispatch(&self, key: RuntimeCacheKey, code: &[u8]) -> (Arc<Notifier>, Option<Rejected>) {
        let notifier = {
            let mut in_flight = self.in_flight();
            if let Some(n) = in_flight.get(&key) {
                return (n.clone(), None);
            }
            let n = Notifier::new();
            in_flight.insert(key, n.clone());
            n
        };
        let job = CompileJob {
            kind: CompileKind::Jit,
            key,
            bytecode: code.into(),
            symbol: format!("revmc_{}_{}", &key.code_hash.to_string()[2..18], key.spec_id as u8),
            opt_level: self.tuning.jit_opt_level,
            notifier: Some(notifier.clone()),
            generation: self.generation.load(Ordering::Acquire),
        };
        let submitted = self.pool.read().unwrap_or_else(|e| e.into_inner()).submit(job);
        match submitted {
            Ok(()) => {
                Counters::bump(&self.counters.dispatched);
                (notifier, None)
            }
            Err(refused) => {
                let mut in_flight = self.in_flight();
                if in_flight.get(&key).is_some_and(|n| Arc::ptr_eq(n, &notifier)) {
                    in_flight.remove(&key);
                }
                notifier.complete(Err(match refused.reason {
                    Rejected::Full => CompileError::QueueFull,
                    Rejected::ShutDown => CompileError::ShutDown,
                }));
                (notifier, Some(refused.reason))
            }
        }
    }
}

/// Channels the coordinator takes when it starts.
type CoordinatorInputs = (Receiver<Event>, Receiver<WorkerResult>);

/// A handle to the compile service. Share it by reference or `Arc`; every method takes
/// `&self`. Dropping it shuts the service down.
#[derive(Debug)]
pub struct Runtime {
    shared: Arc<Shared>,
    events: Sender<Event>,
    started: AtomicBool,
    shut_down: AtomicBool,
    /// Until the coordinator starts: its channels. After: its thread.
    coordinator: Mutex<(Option<CoordinatorInputs>, Option<JoinHandle<()>>)>,
}

impl Runtime {
    /// Creates the service and its worker threads. The coordinator thread starts on the
    /// first event or compile request.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let tuning = config.tuning;
        let (results_tx, results_rx) = crossbeam_channel::unbounded();
        let (events_tx, events_rx) = crossbeam_channel::bounded(tuning.event_capacity.max(1));
        let worker = WorkerConfig {
            threads: tuning.jit_worker_count,
            per_worker_capacity: tuning.queue_capacity_per_worker,
            recycle_threshold: tuning.compiler_recycle_threshold,
            limits: Limits { max_code_len: tuning.max_bytecode_len, ..Limits::default() },
        };
        let pool =
            WorkerPool::new(worker, results_tx).map_err(|e| RuntimeError::Start(e.to_string()))?;
        let shared = Arc::new(Shared {
            cache: ResidentCache::new(tuning.code_cache_bytes),
            tuning,
            enabled: AtomicBool::new(config.enabled),
            paused: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            failed: RwLock::default(),
            in_flight: Mutex::default(),
            pool: RwLock::new(pool),
            counters: Counters::default(),
        });
        Ok(Self {
            shared,
            events: events_tx,
            started: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            coordinator: Mutex::new((Some((events_rx, results_rx)), None)),
        })
    }

    fn coordinator(&self) -> MutexGuard<'_, CoordinatorInputsOrThread> {
        self.coordinator.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ensure_started(&self) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let mut c = self.coordinator();
        if let Some((events, results)) = c.0.take() {
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("revmc-coordinator".into())
                .spawn(move || coordinator::run(&shared, &events, &results));
            match spawned {
                Ok(handle) => c.1 = Some(handle),
                Err(e) => tracing::error!(error = %e, "cannot start the coordinator thread"),
            }
            self.started.store(true, Ordering::Release);
        }
    }

    /// Compiled code for `key`, or why to interpret. Never blocks on compilation.
    pub fn lookup(&self, key: RuntimeCacheKey) -> Lookup {
        if !self.shared.enabled.load(Ordering::Relaxed) {
            return Lookup::Interpret(InterpretReason::Disabled);
        }
        if let Some(program) = self.shared.cache.get(&key) {
            Counters::bump(&self.shared.counters.hits);
            return Lookup::Compiled(program);
        }
        Counters::bump(&self.shared.counters.misses);
        Lookup::Interpret(match self.shared.failure(&key) {
            Some(CompileError::TooLarge { .. }) => InterpretReason::TooLarge,
            Some(_) => InterpretReason::Failed,
            None => InterpretReason::NotCompiled,
        })
    }

    /// Records that `code` (under `key`) ran interpreted and used `gas`; code that has
    /// used `hot_threshold_gas` in total is compiled in the background. Never blocks: if
    /// the event channel is full the event is dropped.
    pub fn record_interpreted(&self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        if !self.shared.enabled.load(Ordering::Relaxed) || self.shut_down.load(Ordering::Relaxed) {
            return;
        }
        self.ensure_started();
        match self.events.try_send(Event::Executed { key, code: code.clone(), gas }) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                Counters::bump(&self.shared.counters.events_dropped)
            }
        }
    }

    /// Compiles `code` under `key` now, whatever its hotness, and waits for the program.
    /// Concurrent requests for one key share one compilation. A failure is remembered.
    pub fn compile_sync(
        &self,
        key: RuntimeCacheKey,
        code: &[u8],
    ) -> Result<Arc<CompiledProgram>, CompileError> {
        if let Some(program) = self.shared.cache.get(&key) {
            return Ok(program);
        }
        if let Some(error) = self.shared.failure(&key) {
            return Err(error);
        }
        if self.shut_down.load(Ordering::Acquire) {
            return Err(CompileError::ShutDown);
        }
        if code.len() > self.shared.tuning.max_bytecode_len {
            let error = CompileError::TooLarge {
                len: code.len(),
                max: self.shared.tuning.max_bytecode_len,
            };
            self.shared.remember_failure(key, error.clone());
            return Err(error);
        }
        self.ensure_started();
        let (notifier, _) = self.shared.dispatch(key, code);
        notifier.wait()
    }

    /// Drops every compiled program, the negative cache and hotness, and bumps the
    /// generation so that compilations running now are discarded when they finish.
    pub fn clear(&self) {
        {
            let mut in_flight = self.shared.in_flight();
            self.shared.generation.fetch_add(1, Ordering::AcqRel);
            self.shared.cache.clear();
            self.shared.failed.write().unwrap_or_else(|e| e.into_inner()).clear();
            // Waiters keep their notifiers; the stale results complete them as `Cleared`.
            in_flight.clear();
        }
        // Hotness lives in the coordinator; if the channel is full the counts survive,
        // which only means a contract may be compiled a little early.
        let _ = self.events.try_send(Event::Clear);
    }

    /// Enables or disables the runtime: while disabled, lookups say interpret and no
    /// events are recorded.
    pub fn set_enabled(&self, enabled: bool) {
        self.shared.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether lookups may return compiled code.
    pub fn is_enabled(&self) -> bool {
        self.shared.enabled.load(Ordering::Relaxed)
    }

    /// Stops background promotions (lookups, stores and `compile_sync` go on). Never
    /// blocks.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::Relaxed);
    }

    /// Resumes background promotions. Never blocks.
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::Relaxed);
    }

    /// Whether background promotions are paused.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::Relaxed)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RuntimeStats {
        let s = &self.shared;
        let c = &s.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (compile_time, phases) = *c.compile.lock().unwrap_or_else(|e| e.into_inner());
        RuntimeStats {
            hits: load(&c.hits),
            misses: load(&c.misses),
            events_dropped: load(&c.events_dropped),
            queued: s.pool.read().unwrap_or_else(|e| e.into_inner()).pending() as u64,
            dispatched: load(&c.dispatched),
            deferred: load(&c.deferred),
            succeeded: load(&c.succeeded),
            failed: load(&c.failed),
            stale: load(&c.stale),
            evictions: s.cache.evictions(),
            resident_entries: s.cache.len() as u64,
            jit_code_bytes: s.cache.code_bytes() as u64,
            live_jit_code_bytes: revmc_llvm::live_code_bytes() as u64,
            compile_time,
            phases,
        }
    }

    /// Stops the service: no new jobs, running compilations finish, worker threads and
    /// the coordinator are joined. Lookups keep answering from the resident cache.
    /// Idempotent; also run on drop.
    pub fn shutdown(&self) {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.pool.write().unwrap_or_else(|e| e.into_inner()).shutdown();
        let handle = {
            let mut c = self.coordinator();
            c.0 = None;
            c.1.take()
        };
        if let Some(handle) = handle {
            // The coordinator may be waiting on a full channel's receiver side only, so a
            // blocking send always gets through.
            let _ = self.events.send(Event::Shutdown);
            let _ = handle.join();
        }
    }
}

type CoordinatorInputsOrThread = (Option<CoordinatorInputs>, Option<JoinHandle<()>>);

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}
