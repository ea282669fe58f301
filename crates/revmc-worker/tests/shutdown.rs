//! Shutdown under load returns, delivers a result for every admitted job, and leaves no
//! worker thread behind. Its own test binary, so that no other pool's threads are counted.

mod common;

use common::{job, slow_code};
use crossbeam_channel::unbounded;
use revmc_llvm::OptLevel;
use revmc_worker::{CompileError, WorkerConfig, WorkerPool};

/// Threads of this process. A thread names itself only once it runs, so count them all.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn shutdown_under_load_returns_and_joins_every_thread() {
    let before = threads();
    let (tx, rx) = unbounded();
    let config = WorkerConfig { threads: 2, per_worker_capacity: 4, ..WorkerConfig::default() };
    let mut pool = WorkerPool::new(config, tx).unwrap();
    assert_eq!(threads(), before + 2);
    let mut admitted = 0;
    for n in 0..20 {
        if pool.submit(job(n, slow_code(), OptLevel::O2)).is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 8, "admission stops at threads × capacity");
    pool.shutdown();
    assert_eq!(threads(), before, "no worker thread is left");
    let results: Vec<_> = rx.try_iter().collect();
    assert_eq!(results.len(), admitted, "every admitted job gets a result");
    let shut_down =
        results.iter().filter(|r| matches!(r.outcome, Err(CompileError::ShutDown))).count();
    assert!(shut_down > 0, "queued jobs end at once instead of compiling");
    assert!(results.iter().all(|r| r.outcome.is_ok() || shut_down > 0));
}
