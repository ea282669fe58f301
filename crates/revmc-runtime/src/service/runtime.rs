//! The [`Runtime`] handle: lookups, hotness events, synchronous compiles, control, stats.

use super::config::{duration_unless_zero, unless_zero};
use super::coordinator::{self, Event};
use super::ledger::Ledger;
use super::policy::Policy;
use super::seen::SeenFilter;
use super::shared::Shared;
use super::stats::Counters;
use super::{
    CompileMode, ConfigError, InterpretReason, Lookup, RuntimeConfig, RuntimeStats, Tuning,
};
use crate::RuntimeError;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use revm::primitives::Bytes;
use revmc_cache::store::{ArtifactBuild, options_hash};
use revmc_cache::{CompiledProgram, ProgramKind, ResidentCache, RuntimeCacheKey, Tier};
use revmc_ir::{Limits, TranslateError};
use revmc_worker::{
    CompileError, CompileKind, Notifier, Rejected, WorkerConfig, WorkerPool, WorkerResult,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

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
    /// A disabled runtime's worker configuration, until its workers start.
    idle_workers: Mutex<Option<(WorkerConfig, Sender<WorkerResult>)>>,
}

impl Runtime {
    /// Creates the service and its worker threads. The coordinator thread starts on the
    /// first event or compile request.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let tuning = config.tuning;
        tuning.validate()?;
        if config.mode == CompileMode::Aot && config.store.is_none() {
            return Err(ConfigError::AotWithoutStore.into());
        }
        let (results_tx, results_rx) = crossbeam_channel::unbounded();
        let (events_tx, events_rx) = match tuning.event_capacity {
            0 => crossbeam_channel::unbounded(),
            capacity => crossbeam_channel::bounded(capacity),
        };
        let worker = WorkerConfig {
            threads: tuning.jit_worker_count,
            per_worker_capacity: unless_zero(tuning.queue_capacity_per_worker),
            max_pending: unless_zero(tuning.max_pending_jobs),
            recycle_threshold: unless_zero(tuning.compiler_recycle_threshold),
            limits: Limits {
                max_code_len: unless_zero(tuning.max_bytecode_len),
                min_loop_free_instructions: tuning.min_loop_free_instructions,
                first_tier_chunk_cost: tuning.first_tier_chunk_cost.max(1),
                interpret_failing_paths: tuning.interpret_failing_paths,
                ..Limits::default()
            },
            deadline: duration_unless_zero(tuning.compile_deadline),
            optimizing_deadline: duration_unless_zero(tuning.optimizing_compile_deadline),
            dump_dir: tuning.dump_dir.clone(),
            nice: tuning.compile_nice,
            optimizing_process: tuning.optimizing_compile_process.clone(),
        };
        let build = artifact_build(&tuning, &worker.limits);
        let negative_entries = tuning.max_negative_entries;
        // A disabled runtime starts no thread: its workers start when it is enabled or
        // asked to compile.
        let (pool, idle_workers) = if config.enabled {
            (start_pool(worker, results_tx)?, None)
        } else {
            let none = WorkerConfig { threads: 0, ..WorkerConfig::default() };
            (start_pool(none, results_tx.clone())?, Some((worker, results_tx)))
        };
        let shared = Arc::new(Shared {
            cache: ResidentCache::new(unless_zero(tuning.code_cache_bytes)),
            policy: Policy { tuning, mode: config.mode },
            ledger: Ledger::new(negative_entries),
            store: config.store,
            build,
            enabled: AtomicBool::new(config.enabled),
            paused: AtomicBool::new(false),
            pool: RwLock::new(pool),
            counters: Counters::default(),
            seen: SeenFilter::new(),
        });
        if config.preload {
            preload(&shared);
        }
        Ok(Self {
            shared,
            events: events_tx,
            started: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            coordinator: Mutex::new((Some((events_rx, results_rx)), None)),
            idle_workers: Mutex::new(idle_workers),
        })
    }

    /// Starts the workers of a runtime created disabled, once.
    fn ensure_workers(&self) {
        let idle = self.idle_workers.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some((config, results)) = idle else { return };
        if self.shut_down.load(Ordering::Acquire) {
            return;
        }
        match start_pool(config, results) {
            Ok(pool) => *self.shared.pool.write().unwrap_or_else(|e| e.into_inner()) = pool,
            Err(e) => tracing::error!(error = %e, "cannot start the compile workers"),
        }
    }

    /// Whether frames compile on first sight, on the executing thread (`Tuning::blocking`).
    pub fn is_blocking(&self) -> bool {
        self.shared.policy.tuning.blocking
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
            self.shared.counters.miss_reasons[InterpretReason::Disabled as usize].bump();
            return Lookup::Interpret(InterpretReason::Disabled);
        }
        if let Some(program) = self.shared.cache.get(&key) {
            self.shared.counters.hits.bump();
            return Lookup::Compiled(program);
        }
        let reason = match self.shared.ledger.failure(&key) {
            Some(CompileError::TooLarge { .. }) => InterpretReason::TooLarge,
            Some(CompileError::Unprofitable { .. }) => InterpretReason::Unprofitable,
            Some(CompileError::Timeout { .. }) => InterpretReason::TimedOut,
            Some(CompileError::Translate(TranslateError::LimitExceeded { .. })) => {
                InterpretReason::TooCostly
            }
            Some(_) => InterpretReason::Failed,
            None => InterpretReason::NotCompiled,
        };
        self.shared.counters.miss_reasons[reason as usize].bump();
        Lookup::Interpret(reason)
    }

    /// Records that `code` (under `key`) ran interpreted and used `gas`; code that has
    /// used `hot_threshold_gas` in total is compiled in the background. Never blocks: if
    /// the event channel is full the event is dropped.
    pub fn record_interpreted(&self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        self.send_event(Event::Executed { key, code: code.clone(), gas, tier: None });
    }

    /// Sends an execution event unless the service is off; drops it if the channel is full.
    fn send_event(&self, event: Event) {
        if !self.shared.enabled.load(Ordering::Relaxed) || self.shut_down.load(Ordering::Relaxed) {
            return;
        }
        self.ensure_started();
        match self.events.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                Counters::bump(&self.shared.counters.events_dropped)
            }
        }
    }

    /// Whether `code`, whose hash is not known yet (a creation frame's init code), ran
    /// before; marks it seen. Code seen for the first time is best interpreted without
    /// hashing it: most init code runs once, and its keccak costs more than the
    /// interpreter saves. Lock-free and bounded.
    pub fn seen_before(&self, code: &[u8]) -> bool {
        self.shared.seen.seen_before(code)
    }

    /// Records that first-tier code of `key` ran a frame that used `gas`; once such
    /// frames have used `tier_up_gas`, the code is recompiled optimized in the background
    /// and swapped in (frames already running keep their code). Never blocks.
    pub fn record_first_tier(&self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        self.send_event(Event::Executed { key, code: code.clone(), gas, tier: Some(Tier::First) });
    }

    /// Records that a frame of `key`'s optimized code, compiled from the first tier's
    /// profile (`Tuning::compile_what_ran`), used `gas` after it left to the interpreter
    /// at code that had not run; once such frames have used `tier_up_gas`, the code is
    /// compiled again in the background, from its profile widened with what those frames
    /// ran, or whole (`Tuning::profile_widenings`). Never blocks.
    pub fn record_left_cold(&self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        self.send_event(Event::LeftCold { key, code: code.clone(), gas });
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
        if let Some(error) = self.shared.ledger.failure(&key) {
            return Err(error);
        }
        if self.shut_down.load(Ordering::Acquire) {
            return Err(CompileError::ShutDown);
        }
        let kind = self.shared.policy.admit(code.len(), false).inspect_err(|refused| {
            self.shared.ledger.remember_failure(key, refused.clone());
        })?;
        if kind == CompileKind::Aot
            && let Some(program) = self.shared.load_artifact(key)
        {
            return Ok(program);
        }
        self.ensure_workers();
        self.ensure_started();
        // Someone waits: compile the code as it will stay, optimized.
        let (notifier, _) = self.shared.dispatch(key, code, kind, Tier::Optimized);
        notifier.wait()
    }

    /// Makes sure each of `contracts` has an AOT artifact in the store and is resident:
    /// loads what the store has, compiles the rest (in parallel on the workers) and
    /// persists them. Needs a store; bypasses hotness. Results are in input order.
    pub fn prepare_aot(
        &self,
        contracts: &[(RuntimeCacheKey, Bytes)],
    ) -> Vec<Result<Arc<CompiledProgram>, CompileError>> {
        if self.shared.store.is_none() {
            let e = CompileError::Store("prepare_aot needs an artifact store".into());
            return contracts.iter().map(|_| Err(e.clone())).collect();
        }
        self.ensure_workers();
        self.ensure_started();
        let mut results: Vec<Option<Result<Arc<CompiledProgram>, CompileError>>> =
            (0..contracts.len()).map(|_| None).collect();
        let mut waiting: Vec<(usize, Arc<Notifier>)> = Vec::new();
        let wait_all = |waiting: &mut Vec<(usize, Arc<Notifier>)>, results: &mut Vec<_>| {
            for (i, notifier) in waiting.drain(..) {
                results[i] = Some(notifier.wait());
            }
        };
        for (i, (key, code)) in contracts.iter().enumerate() {
            if let Some(p) = self.shared.cache.get(key).filter(|p| p.kind() == ProgramKind::Aot) {
                results[i] = Some(Ok(p));
            } else if let Some(p) = self.shared.load_artifact(*key) {
                results[i] = Some(Ok(p));
            } else if let Err(refused) = self.shared.policy.admit(code.len(), true) {
                results[i] = Some(Err(refused));
            } else {
                let (mut notifier, mut refused) =
                    self.shared.dispatch(*key, code, CompileKind::Aot, Tier::Optimized);
                if refused == Some(Rejected::Full) {
                    // The batch is larger than the queue: let the queued part finish.
                    wait_all(&mut waiting, &mut results);
                    (notifier, refused) =
                        self.shared.dispatch(*key, code, CompileKind::Aot, Tier::Optimized);
                }
                let _ = refused; // a refusal completed the notifier with its reason
                waiting.push((i, notifier));
            }
        }
        wait_all(&mut waiting, &mut results);
        results.into_iter().map(|r| r.expect("every contract has a result")).collect()
    }

    /// Drops every compiled program, the negative cache and hotness, and bumps the
    /// generation so that compilations running now are discarded when they finish.
    pub fn clear(&self) {
        self.shared.ledger.clear(|| self.shared.cache.clear());
        // Hotness lives in the coordinator; if the channel is full the counts survive,
        // which only means a contract may be compiled a little early.
        let _ = self.events.try_send(Event::Clear);
    }

    /// Enables or disables the runtime: while disabled, lookups say interpret and no
    /// events are recorded.
    pub fn set_enabled(&self, enabled: bool) {
        if enabled {
            self.ensure_workers();
        }
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
        self.shared.stats()
    }

    /// Publishes [`Self::stats`] through the `metrics` facade now (the coordinator also
    /// does, every second while it runs). Names and labels: `docs/tuning.md#metrics`.
    pub fn publish_metrics(&self) {
        super::metrics::publish(&self.stats());
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

fn start_pool(
    config: WorkerConfig,
    results: Sender<WorkerResult>,
) -> Result<WorkerPool, RuntimeError> {
    WorkerPool::new(config, results).map_err(|e| RuntimeError::Start(e.to_string()))
}

/// The parts of this runtime's artifact keys that do not depend on the code. Of the
/// translator's limits only those that shape the code count: which code is compiled at
/// all is policy.
fn artifact_build(tuning: &Tuning, limits: &Limits) -> ArtifactBuild {
    // AOT code is optimized, never split: the chunk cost does not shape it either.
    let shaping = Limits {
        max_code_len: 0,
        min_loop_free_instructions: 0,
        first_tier_chunk_cost: 0,
        max_compile_cost: 0,
        max_optimizing_cost: 0,
        ..*limits
    };
    ArtifactBuild {
        target: revmc_worker::host_target_id(),
        build_id: revmc_worker::build_id(),
        opt_level: tuning.aot_opt_level as u8,
        options_hash: options_hash(&format!("{shaping:?}")),
    }
}

/// Loads every artifact of the store made for this build, target and AOT level.
fn preload(shared: &Shared) {
    let Some(store) = &shared.store else { return };
    let keys = match store.keys() {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "listing the artifact store");
            return;
        }
    };
    for artifact in keys {
        let Some(key) = artifact.runtime_key() else { continue };
        if artifact == shared.artifact_key(key) && !shared.cache.contains(&key) {
            shared.load_artifact(key);
        }
    }
}

type CoordinatorInputsOrThread = (Option<CoordinatorInputs>, Option<JoinHandle<()>>);

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}
