//! The worker pool: admission, zero workers, recycling, shutdown, and results that carry
//! their routing (key, generation, notifier).

mod common;

use common::{job, slow_code, small_code};
use crossbeam_channel::unbounded;
use revmc_llvm::OptLevel;
use revmc_worker::{CompileError, Notifier, Rejected, WorkerConfig, WorkerPool};

fn config(threads: usize, capacity: usize) -> WorkerConfig {
    WorkerConfig { threads, per_worker_capacity: capacity, ..WorkerConfig::default() }
}

#[test]
fn a_full_queue_hands_the_job_back() {
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(config(1, 1), tx).unwrap();
    assert_eq!(pool.capacity(), 1);
    pool.submit(job(1, slow_code(), OptLevel::O2)).unwrap();
    // The first job takes far longer to compile than this submit takes to run.
    let refused = pool.submit(job(2, small_code(2), OptLevel::O0)).unwrap_err();
    assert_eq!(refused.reason, Rejected::Full);
    assert_eq!(refused.job.key, job(2, vec![], OptLevel::O0).key, "the same job comes back");
    let result = rx.recv().unwrap();
    assert!(result.outcome.is_ok(), "{:?}", result.outcome);
    assert_eq!(result.key, job(1, vec![], OptLevel::O0).key);
    // Room again once the first finished.
    pool.submit(refused.job).unwrap();
    assert!(rx.recv().unwrap().outcome.is_ok());
}

#[test]
fn zero_workers_fail_jobs_at_once() {
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(config(0, 4), tx).unwrap();
    let notifier = Notifier::new();
    let mut j = job(1, small_code(1), OptLevel::O0);
    j.notifier = Some(notifier.clone());
    j.generation = 7;
    pool.submit(j).unwrap();
    let result = rx.try_recv().expect("the failure is delivered synchronously");
    assert!(matches!(result.outcome, Err(CompileError::NoWorkers)));
    assert_eq!(result.generation, 7);
    assert!(result.notifier.is_some_and(|n| std::sync::Arc::ptr_eq(&n, &notifier)));
}

#[test]
fn compilers_are_recycled_and_keep_compiling() {
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(WorkerConfig { recycle_threshold: 2, ..config(1, 8) }, tx).unwrap();
    let mut programs = Vec::new();
    for n in 0..5 {
        pool.submit(job(n, small_code(n), OptLevel::O1)).unwrap();
        let result = rx.recv().unwrap();
        let compiled = result.outcome.expect("compiles after recycling");
        programs.push(compiled.program().expect("a JIT program").clone());
    }
    // Compilers were replaced after jobs 2 and 4: five jobs, threshold two.
    assert_eq!(pool.recycled(), 2);
    let entries: std::collections::HashSet<_> =
        programs.iter().map(|p| p.entry() as usize).collect();
    assert_eq!(entries.len(), 5, "each program has its own code");
}

#[test]
fn a_compiler_recycled_for_a_failing_compilation_is_counted() {
    // On the worker itself (no deadline), and on a compile thread (a deadline).
    for deadline in [None, Some(std::time::Duration::from_secs(60))] {
        let (tx, rx) = unbounded();
        let limits = revmc_ir::Limits { max_code_len: 10, ..Default::default() };
        let config = WorkerConfig {
            recycle_threshold: 1,
            limits,
            deadline,
            optimizing_deadline: deadline,
            ..config(1, 4)
        };
        let pool = WorkerPool::new(config, tx).unwrap();
        pool.submit(job(1, small_code(1), OptLevel::O1)).unwrap();
        assert!(rx.recv().unwrap().outcome.is_ok());
        // The compiler has had its one use: it is replaced, then the translator refuses.
        pool.submit(job(2, vec![0x5b; 11], OptLevel::O1)).unwrap();
        assert!(matches!(rx.recv().unwrap().outcome, Err(CompileError::TooLarge { .. })));
        assert_eq!(pool.recycled(), 1, "{deadline:?}");
    }
}

#[test]
fn aot_jobs_produce_shared_libraries() {
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(config(1, 4), tx).unwrap();
    let mut j = job(1, small_code(1), OptLevel::O1);
    j.kind = revmc_worker::CompileKind::Aot;
    pool.submit(j).unwrap();
    let result = rx.recv().unwrap();
    let Ok(revmc_worker::Compiled::Library(lib)) = result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(&lib.bytes[..4], b"\x7fELF", "a shared object");
    assert_eq!(lib.symbol, "test_1");
    assert!(result.phases.link > std::time::Duration::ZERO);
}

#[test]
fn results_carry_the_cpu_time_of_their_compilation() {
    // On the worker itself (no deadline), and on a compile thread (a deadline).
    for deadline in [None, Some(std::time::Duration::from_secs(60))] {
        let (tx, rx) = unbounded();
        let config = WorkerConfig { deadline, optimizing_deadline: deadline, ..config(1, 4) };
        let pool = WorkerPool::new(config, tx).unwrap();
        pool.submit(job(1, slow_code(), OptLevel::O1)).unwrap();
        let result = rx.recv().unwrap();
        assert!(result.outcome.is_ok(), "{:?}", result.outcome);
        // One thread compiled it: never more CPU than wall time (but for the clocks'
        // different rates, within a millisecond here); some, where threads have a clock.
        let most = result.duration + std::time::Duration::from_millis(1);
        assert!(result.cpu <= most, "{:?} > {:?}", result.cpu, result.duration);
        let measured = result.cpu > std::time::Duration::ZERO;
        assert!(measured || cfg!(not(target_os = "linux")), "{deadline:?}: {:?}", result.cpu);
    }
}

#[test]
fn failures_are_typed() {
    let (tx, rx) = unbounded();
    let limits = revmc_ir::Limits { max_code_len: 10, ..Default::default() };
    let pool = WorkerPool::new(WorkerConfig { limits, ..config(1, 4) }, tx).unwrap();
    pool.submit(job(1, vec![0x5b; 11], OptLevel::O0)).unwrap();
    let result = rx.recv().unwrap();
    assert!(matches!(result.outcome, Err(CompileError::TooLarge { len: 11, max: 10 })));
}

#[test]
fn a_shut_down_pool_refuses_jobs() {
    let (tx, _rx) = unbounded();
    let mut pool = WorkerPool::new(config(1, 4), tx).unwrap();
    pool.shutdown();
    pool.shutdown(); // idempotent
    let refused = pool.submit(job(1, small_code(1), OptLevel::O0)).unwrap_err();
    assert_eq!(refused.reason, Rejected::ShutDown);
}

#[test]
fn programs_too_costly_to_optimize_are_refused_for_the_optimizing_tier_only() {
    // 6 KiB of `DUP1 SIGNEXTEND` on a call-data word: seconds of LLVM O2 (the estimate's
    // test is in revmc-ir), milliseconds of O0.
    let mut code = vec![0x36];
    code.extend([0x80, 0x0b].repeat(3 * 1024 - 1));
    code.extend([0x5f, 0x55, 0x00]);
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(config(1, 4), tx).unwrap();
    pool.submit(job(1, code.clone(), OptLevel::O2)).unwrap();
    let result = rx.recv().unwrap();
    assert!(
        matches!(
            &result.outcome,
            Err(CompileError::Translate(revmc_ir::TranslateError::LimitExceeded {
                what: "estimated optimizing cost",
                ..
            }))
        ),
        "{:?}",
        result.outcome.as_ref().err()
    );
    pool.submit(job(2, code, OptLevel::O0)).unwrap();
    assert!(rx.recv().unwrap().outcome.is_ok());
}
