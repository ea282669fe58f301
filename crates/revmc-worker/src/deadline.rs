//! Compile deadlines: each worker compiles on a compile thread of its own and waits for it
//! until the thread has worked the job's deadline (time it waits for a core left out:
//! `work_clock.rs`). A compilation past it is abandoned: its thread is left to
//! finish (LLVM cannot be interrupted; the translator's limits bound the work) and exit,
//! the job fails with [`CompileError::Timeout`], and the worker takes the next job on a
//! fresh compile thread. At most as many abandoned threads as workers run at once, so a
//! flood of hostile code can take at most twice the pool's threads; past that bound a
//! worker waits for one to finish before it starts another compilation.

use crate::priority::set_current_thread_nice;
use crate::work_clock::{WorkClock, cpu_of, recv_within};
use crate::{CompileError, CompileJob, CompilePhases, Compiled, catch_compile_panic, compilers};
use crossbeam_channel::{RecvTimeoutError, Sender, bounded, unbounded};
use revmc_ir::Limits;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A compilation's outcome, whether the compiler was recycled for it, and the CPU time it
/// used (`work_clock::cpu_of`; zero for a compilation abandoned or never run).
pub(crate) struct Outcome {
    pub result: Result<(Compiled, CompilePhases), CompileError>,
    pub recycled: bool,
    pub cpu: Duration,
}

impl Outcome {
    /// Compiles `job` on this thread (`compilers::compile`), measuring its CPU time; a
    /// panic fails it and clears this thread's compilers, which may be half-updated.
    pub(crate) fn compile_here(
        job: &CompileJob,
        limits: &Limits,
        recycle_threshold: usize,
        dump_dir: Option<&std::path::Path>,
        child: Option<crate::process::InChild<'_>>,
    ) -> Self {
        // The compiler may be recycled before a compilation that then fails: counted too.
        let mut recycled = false;
        let (result, cpu) = cpu_of(|| {
            catch_compile_panic(|| {
                let (result, fresh) =
                    compilers::compile(job, limits, recycle_threshold, dump_dir, child);
                recycled = fresh;
                result
            })
        });
        if matches!(result, Err(CompileError::Panicked(_))) {
            compilers::clear();
        }
        Self { result, recycled, cpu }
    }

    /// A job that failed without compiling.
    fn failed(error: CompileError) -> Self {
        Self { result: Err(error), recycled: false, cpu: Duration::ZERO }
    }
}

type Request = (CompileJob, Sender<Outcome>);

/// What the compile threads of a pool share.
#[derive(Debug)]
pub(crate) struct CompileThreads {
    limits: Limits,
    recycle_threshold: usize,
    dump_dir: Option<std::path::PathBuf>,
    /// Each compile thread's nice value (`priority.rs`; `None`: its starter's).
    nice: Option<i32>,
    /// Abandoned threads still running, and the bound on them.
    abandoned: Mutex<usize>,
    finished: Condvar,
    max_abandoned: usize,
    /// Every compile thread ever started, joined at shutdown.
    handles: Mutex<Vec<JoinHandle<()>>>,
}

/// A worker's compile thread: where its jobs go, the flag set when it is abandoned, and
/// what it has worked.
struct CompileThread {
    jobs: Sender<Request>,
    abandoned: Arc<AtomicBool>,
    clock: Option<WorkClock>,
}

thread_local! {
    static COMPILE_THREAD: RefCell<Option<CompileThread>> = const { RefCell::new(None) };
}

impl CompileThreads {
    pub(crate) fn new(
        limits: Limits,
        recycle_threshold: usize,
        max_abandoned: usize,
        dump_dir: Option<std::path::PathBuf>,
        nice: Option<i32>,
    ) -> Self {
        Self {
            limits,
            recycle_threshold,
            dump_dir,
            nice,
            abandoned: Mutex::new(0),
            finished: Condvar::new(),
            max_abandoned: max_abandoned.max(1),
            handles: Mutex::default(),
        }
    }

    fn spawn(self: &Arc<Self>) -> Option<CompileThread> {
        let (jobs, requests) = unbounded::<Request>();
        let abandoned = Arc::new(AtomicBool::new(false));
        let (threads, flag) = (self.clone(), abandoned.clone());
        let (clock_tx, clock_rx) = bounded(1);
        let handle = std::thread::Builder::new()
            .name("revmc-compile".into())
            .spawn(move || {
                set_current_thread_nice(threads.nice);
                let _ = clock_tx.send(WorkClock::current_thread());
                for (job, reply) in requests {
                    let outcome = Outcome::compile_here(
                        &job,
                        &threads.limits,
                        threads.recycle_threshold,
                        threads.dump_dir.as_deref(),
                        None,
                    );
                    // Nobody listens if the job was abandoned.
                    let _ = reply.send(outcome);
                }
                compilers::clear();
                if flag.load(Ordering::Acquire) {
                    let mut n = threads.abandoned.lock().unwrap_or_else(|e| e.into_inner());
                    *n -= 1;
                    threads.finished.notify_all();
                }
            })
            .ok()?;
        self.handles.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
        let clock = clock_rx.recv().ok().flatten();
        Some(CompileThread { jobs, abandoned, clock })
    }

    /// Compiles `job` on this worker's compile thread, until the thread has worked
    /// `deadline` on it.
    pub(crate) fn compile(self: &Arc<Self>, job: &CompileJob, deadline: Duration) -> Outcome {
        {
            let n = self.abandoned.lock().unwrap_or_else(|e| e.into_inner());
            let _n = self
                .finished
                .wait_while(n, |n| *n >= self.max_abandoned)
                .unwrap_or_else(|e| e.into_inner());
        }
        COMPILE_THREAD.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = self.spawn();
            }
            let Some(thread) = slot.as_ref() else {
                return Outcome::failed(CompileError::Panicked(
                    "cannot start a compile thread".into(),
                ));
            };
            let (reply, outcome) = bounded(1);
            // The compile thread needs the job, not its notifier (which stays here).
            let request = job.clone_for_compile();
            if thread.jobs.send((request, reply)).is_err() {
                *slot = None;
                return Outcome::failed(CompileError::Panicked("the compile thread exited".into()));
            }
            match recv_within(&outcome, deadline, thread.clock.as_ref()) {
                Ok(outcome) => outcome,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(thread) = slot.take() {
                        *self.abandoned.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                        thread.abandoned.store(true, Ordering::Release);
                        // Dropping `thread.jobs` lets it exit once its compilation ends.
                    }
                    Outcome::failed(CompileError::Timeout { after: deadline })
                }
                Err(RecvTimeoutError::Disconnected) => {
                    *slot = None;
                    Outcome::failed(CompileError::Panicked("the compile thread died".into()))
                }
            }
        })
    }

    /// Ends this thread's compile thread (at worker shutdown).
    pub(crate) fn release_current() {
        COMPILE_THREAD.with(|slot| slot.borrow_mut().take());
    }

    /// Joins every compile thread; call once the workers have released theirs.
    pub(crate) fn join_all(&self) {
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|e| e.into_inner()));
        for h in handles {
            let _ = h.join();
        }
    }
}
