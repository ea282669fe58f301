//! The worker pool: bounded admission in front of a rayon pool of named threads.
//!
//! Admission counts jobs accepted but not finished; at `threads × per_worker_capacity` a
//! submit hands the job back at once ([`Rejected::Full`]) so that no caller ever blocks on
//! the compiler. Jobs start in FIFO order (`spawn_fifo`). Shutdown stops admission, lets
//! queued jobs finish at once as [`CompileError::ShutDown`], waits for the running ones,
//! clears every thread's compilers, and returns only after every worker thread has exited.

use crate::deadline::{CompileThreads, Outcome};
use crate::{CompileError, CompileJob, CompileKind, Compiled, WorkerResult, compilers};
use crossbeam_channel::Sender;
use revmc_cache::Tier;
use revmc_ir::Limits;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Pool sizing and compiler policy.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker threads; zero makes a pool that fails every job at once.
    pub threads: usize,
    /// Jobs admitted per thread (queued or running) before submits are refused.
    pub per_worker_capacity: usize,
    /// Compilations after which a thread's compiler is replaced by a fresh one.
    pub recycle_threshold: usize,
    /// Translation bounds, including the maximum bytecode length.
    pub limits: Limits,
    /// Deadline of first-tier JIT compilations (`None`: none), past which a compilation
    /// is abandoned with [`CompileError::Timeout`] (see the `deadline` module).
    pub deadline: Option<Duration>,
    /// Deadline of optimizing JIT and AOT compilations.
    pub optimizing_deadline: Option<Duration>,
    /// Jobs admitted at most over all threads, below `threads × per_worker_capacity`
    /// (`usize::MAX`: no further bound).
    pub max_pending: usize,
    /// Where each compilation writes its bytecode, IR, LLVM IR and assembly (debugging).
    pub dump_dir: Option<std::path::PathBuf>,
    /// Optimizing JIT compilations run LLVM in a child process of this executable, killed
    /// at `optimizing_deadline` (`None`: on the worker's compile thread, abandoned at the
    /// deadline but run to its end). See the `process` module.
    pub optimizing_process: Option<crate::CompileProcess>,
    /// Added to the nice value of the worker and compile threads (and so of the child
    /// processes they start), so that they yield to execution when cores are short; their
    /// deadlines leave out the time they wait for a core (the `priority` and `work_clock`
    /// modules). 0: the starting thread's priority.
    pub nice: u8,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            threads: 1,
            per_worker_capacity: 64,
            recycle_threshold: 256,
            limits: Limits::default(),
            deadline: None,
            optimizing_deadline: None,
            max_pending: usize::MAX,
            optimizing_process: None,
            dump_dir: None,
            nice: 0,
        }
    }
}

/// Why a job was handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Admission is at capacity.
    Full,
    /// The pool is shutting down or shut down.
    ShutDown,
}

/// A refused job, returned to the caller intact.
#[derive(Debug)]
pub struct SubmitError {
    /// The job, unchanged.
    pub job: CompileJob,
    /// Why.
    pub reason: Rejected,
}

/// A count with a condition variable, for waiting until it reaches a value.
#[derive(Debug, Default)]
struct Counter {
    value: Mutex<usize>,
    changed: Condvar,
}

impl Counter {
    fn add(&self, delta: isize) {
        let mut v = self.value.lock().unwrap_or_else(|e| e.into_inner());
        *v = v.wrapping_add_signed(delta);
        self.changed.notify_all();
    }

    fn wait_for(&self, done: impl Fn(usize) -> bool) {
        let mut v = self.value.lock().unwrap_or_else(|e| e.into_inner());
        while !done(*v) {
            v = self.changed.wait(v).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[derive(Debug)]
struct Shared {
    /// Admitted and not yet finished (the admission counter).
    admitted: AtomicUsize,
    capacity: usize,
    shut_down: AtomicBool,
    recycle_threshold: usize,
    limits: Limits,
    recycled: AtomicU64,
    /// Mirrors `admitted` for shutdown to wait on.
    unfinished: Counter,
    results: Sender<WorkerResult>,
    deadline: Option<Duration>,
    optimizing_deadline: Option<Duration>,
    /// Where deadline-bound compilations run.
    compile_threads: Arc<CompileThreads>,
    dump_dir: Option<std::path::PathBuf>,
    optimizing_process: Option<crate::CompileProcess>,
}

/// Compiles jobs on worker threads and sends each result to the channel given at creation.
#[derive(Debug)]
pub struct WorkerPool {
    pool: Option<rayon::ThreadPool>,
    shared: Arc<Shared>,
    threads: usize,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `config.threads` worker threads (`revmc-worker-N`).
    pub fn new(
        config: WorkerConfig,
        results: Sender<WorkerResult>,
    ) -> Result<Self, rayon::ThreadPoolBuildError> {
        let mut handles = Vec::with_capacity(config.threads);
        // Relative to this thread: a thread started by a worker is set to it, not lowered
        // again from the worker's.
        let nice = crate::priority::lowered_from_current(config.nice);
        let pool = if config.threads == 0 {
            None
        } else {
            // Spawn the threads ourselves to keep their join handles: shutdown joins them.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(config.threads)
                .spawn_handler(|thread| {
                    let name = format!("revmc-worker-{}", thread.index());
                    let run = move || {
                        crate::priority::set_current_thread_nice(nice);
                        thread.run()
                    };
                    handles.push(std::thread::Builder::new().name(name).spawn(run)?);
                    Ok(())
                })
                .build()?;
            Some(pool)
        };
        let shared = Arc::new(Shared {
            admitted: AtomicUsize::new(0),
            capacity: config
                .threads
                .saturating_mul(config.per_worker_capacity.max(1))
                .min(config.max_pending.max(1)),
            shut_down: AtomicBool::new(false),
            recycle_threshold: config.recycle_threshold,
            limits: config.limits,
            recycled: AtomicU64::new(0),
            unfinished: Counter::default(),
            results,
            deadline: config.deadline,
            optimizing_deadline: config.optimizing_deadline,
            compile_threads: Arc::new(CompileThreads::new(
                config.limits,
                config.recycle_threshold,
                config.threads,
                config.dump_dir.clone(),
                nice,
            )),
            dump_dir: config.dump_dir,
            optimizing_process: config.optimizing_process,
        });
        Ok(Self { pool, shared, threads: config.threads, handles })
    }

    /// Queues `job`, or hands it back if the pool is full or shut down. Never blocks. With
    /// zero threads the job fails at once with [`CompileError::NoWorkers`].
    pub fn submit(&self, job: CompileJob) -> Result<(), SubmitError> {
        if self.shared.shut_down.load(Ordering::Acquire) {
            return Err(SubmitError { job, reason: Rejected::ShutDown });
        }
        let Some(pool) = &self.pool else {
            deliver(&self.shared, failed(job, CompileError::NoWorkers));
            return Ok(());
        };
        let admitted =
            self.shared.admitted.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.shared.capacity).then_some(n + 1)
            });
        if admitted.is_err() {
            return Err(SubmitError { job, reason: Rejected::Full });
        }
        self.shared.unfinished.add(1);
        let shared = self.shared.clone();
        pool.spawn_fifo(move || run(&shared, job));
        Ok(())
    }

    /// Jobs admitted and not finished.
    pub fn pending(&self) -> usize {
        self.shared.admitted.load(Ordering::Acquire)
    }

    /// The admission bound: threads × per-worker capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Compilers replaced after reaching the recycle threshold, over all threads.
    pub fn recycled(&self) -> u64 {
        self.shared.recycled.load(Ordering::Relaxed)
    }

    /// Stops admission, waits for admitted jobs (queued ones end at once as
    /// [`CompileError::ShutDown`]), clears every thread's compilers and joins the threads.
    /// Idempotent.
    pub fn shutdown(&mut self) {
        self.shared.shut_down.store(true, Ordering::Release);
        let Some(pool) = self.pool.take() else { return };
        self.shared.unfinished.wait_for(|n| n == 0);
        pool.broadcast(|_| {
            compilers::clear();
            CompileThreads::release_current();
        });
        drop(pool);
        for handle in self.handles.drain(..) {
            // A worker thread cannot panic: jobs run under `catch_unwind`.
            let _ = handle.join();
        }
        // Abandoned compilations finish (the translator bounds them) and their threads
        // exit, as do the workers' own.
        self.shared.compile_threads.join_all();
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn failed(job: CompileJob, error: CompileError) -> WorkerResult {
    WorkerResult {
        key: job.key,
        outcome: Err(error),
        kind: job.kind,
        tier: job.tier,
        notifier: job.notifier,
        generation: job.generation,
        duration: Default::default(),
        cpu: Default::default(),
        phases: Default::default(),
    }
}

/// Sends `result`; if nobody receives any more, completes its notifier directly so that a
/// waiter never hangs.
fn deliver(shared: &Shared, result: WorkerResult) {
    if let Err(err) = shared.results.send(result) {
        let result = err.into_inner();
        if let Some(notifier) = result.notifier {
            notifier.complete(match result.outcome {
                Ok(Compiled::Program(p)) => Ok(p),
                // A library needs storing and loading, which only the receiver can do.
                Ok(Compiled::Library(_)) => Err(CompileError::ShutDown),
                Err(e) => Err(e),
            });
        }
    }
}

fn run(shared: &Shared, job: CompileJob) {
    let result = if shared.shut_down.load(Ordering::Acquire) {
        failed(job, CompileError::ShutDown)
    } else {
        compile(shared, job)
    };
    // Free the admission slot before delivering, so that whoever receives the result can
    // submit again; shutdown still waits for the delivery through `unfinished`.
    shared.admitted.fetch_sub(1, Ordering::AcqRel);
    deliver(shared, result);
    shared.unfinished.add(-1);
}

fn compile(shared: &Shared, job: CompileJob) -> WorkerResult {
    let span = tracing::info_span!(
        "compile",
        code_hash = %job.key.code_hash,
        spec = ?job.key.spec_id,
        kind = ?job.kind,
        generation = job.generation,
    );
    let _entered = span.enter();
    let start = Instant::now();
    let deadline = match (job.kind, job.tier) {
        (CompileKind::Jit, Tier::First) => shared.deadline,
        _ => shared.optimizing_deadline,
    };
    // Code that records its profile stores into this process: it compiles here.
    let records = matches!(job.profiling, crate::Profiling::Record);
    let in_child = match (job.kind, job.tier, &shared.optimizing_process) {
        (CompileKind::Jit, Tier::Optimized, Some(process)) if !records => {
            let dump_dir = shared.dump_dir.as_deref();
            Some(crate::process::InChild { process, deadline, dump_dir })
        }
        _ => None,
    };
    let compiled = match deadline {
        // A child process is killed at the deadline itself: no compile thread to abandon.
        Some(deadline) if in_child.is_none() => shared.compile_threads.compile(&job, deadline),
        _ => Outcome::compile_here(
            &job,
            &shared.limits,
            shared.recycle_threshold,
            shared.dump_dir.as_deref(),
            in_child,
        ),
    };
    if compiled.recycled {
        shared.recycled.fetch_add(1, Ordering::Relaxed);
    }
    let cpu = compiled.cpu;
    let (outcome, phases) = match compiled.result {
        Ok((compiled, phases)) => (Ok(compiled), phases),
        Err(e) => (Err(e), Default::default()),
    };
    let duration = start.elapsed();
    match &outcome {
        Ok(Compiled::Program(p)) => tracing::debug!(?duration, bytes = p.code_bytes(), "compiled"),
        Ok(Compiled::Library(l)) => tracing::debug!(?duration, bytes = l.bytes.len(), "linked"),
        Err(e) => tracing::debug!(?duration, error = %e, "compilation failed"),
    }
    WorkerResult {
        key: job.key,
        outcome,
        kind: job.kind,
        tier: job.tier,
        notifier: job.notifier,
        generation: job.generation,
        duration,
        cpu,
        phases,
    }
}
