//! Compile threads yield to execution (Linux): they run at the configured nice value, and
//! a compilation that waits for a core is not timed out for it. Its own test binary, so
//! that no other test's pool has threads of the same names.

#![cfg(target_os = "linux")]

mod common;

use common::{arithmetic, job};
use crossbeam_channel::unbounded;
use revmc_llvm::OptLevel;
use revmc_worker::{WorkerConfig, WorkerPool};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The nice value of each of this process's threads named `name`.
fn nice_of_threads(name: &str) -> Vec<i32> {
    let mut nice = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("procfs") {
        let dir = task.expect("a task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        // A thread that exited since the listing has no stat left to read.
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        // Fields after the command's closing parenthesis: state is field 3, nice 19.
        let fields: Vec<&str> =
            stat[stat.rfind(')').expect("a command") + 2..].split(' ').collect();
        nice.push(fields[16].parse().expect("a nice value"));
    }
    nice
}

/// The calling thread's nice value.
fn own_nice() -> i32 {
    // SAFETY: `getpriority` takes integers and touches no memory.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

/// Pins the calling thread (and the threads it starts from now on) to one CPU it may use.
fn pin_to_one_cpu() {
    // SAFETY: `set` is a valid, zeroed CPU set, read and written by the kernel only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0, "sched_getaffinity");
        let cpu = (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set));
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu.expect("a CPU this process may use"), &mut one);
        assert_eq!(libc::sched_setaffinity(0, size, &one), 0, "sched_setaffinity");
    }
}

#[test]
fn compile_threads_yield_and_their_deadline_counts_cpu_time() {
    // Everything this test starts shares one CPU: a spinning thread at this thread's
    // priority, and the pool's threads at the lowest one, which get about 1.5 % of it.
    let base = own_nice();
    if base > 0 {
        // The spinner, at this priority, would no longer out-compete the pool.
        eprintln!("skipped: this test needs to start at nice 0 or below (it runs at {base})");
        return;
    }
    pin_to_one_cpu();
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(120) {
                std::hint::spin_loop();
            }
        })
    };
    let deadline = Duration::from_millis(250);
    let config = WorkerConfig {
        threads: 1,
        deadline: Some(deadline),
        optimizing_deadline: Some(deadline),
        nice: 19,
        ..WorkerConfig::default()
    };
    let (tx, rx) = unbounded();
    let pool = WorkerPool::new(config, tx).unwrap();
    let start = Instant::now();
    // Tens of milliseconds of CPU at the first tier: a second or more of wall time at
    // that share.
    pool.submit(job(1, arithmetic(400), OptLevel::O0)).unwrap();
    let result = rx.recv().unwrap();
    let waited = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();

    let lowest = (base + 19).min(19);
    assert_eq!(nice_of_threads("revmc-worker-0"), [lowest], "the worker thread's priority");
    assert_eq!(nice_of_threads("revmc-compile"), [lowest], "the compile thread's priority");
    assert!(result.outcome.is_ok(), "{:?} after {waited:?}", result.outcome);
    // The test only shows something if the compilation took longer than its deadline in
    // wall time: with a wall-clock deadline it would have timed out.
    assert!(waited > deadline, "compiled in {waited:?}: the spinner did not compete");
}
