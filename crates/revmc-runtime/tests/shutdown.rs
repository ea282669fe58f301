//! Shutdown under load: callers compiling and recording from several threads while the
//! runtime shuts down all return, and no service thread is left. Its own test binary, so
//! the thread count is this test's alone.

#[path = "service/common.rs"]
mod common;

use common::*;
use revm::primitives::Bytes;
use revmc_runtime::{CompileError, OptLevel, Tuning};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn shutdown_under_load_returns_and_leaves_no_thread() {
    let before = threads();
    let rt = runtime(Tuning {
        jit_worker_count: 2,
        hot_threshold_gas: 1,
        jit_opt_level: OptLevel::O2,
        ..tuning()
    });
    std::thread::scope(|s| {
        let mut callers = Vec::new();
        for t in 0..4u32 {
            let rt = &rt;
            callers.push(s.spawn(move || {
                for n in 0..50 {
                    let code = if n % 10 == 0 { slow_program() } else { program(t * 1000 + n) };
                    rt.record_interpreted(key(&code), &Bytes::from(code.clone()), 100);
                    match rt.compile_sync(key(&code), &code) {
                        Ok(p) => {
                            run_checked(&p, &code, &[]);
                        }
                        // Under this load the slow program can miss the 2 s first-tier
                        // deadline (it joins the promotion's first-tier job).
                        Err(
                            CompileError::ShutDown
                            | CompileError::QueueFull
                            | CompileError::Timeout { .. },
                        ) => {}
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
            }));
        }
        wait_until("some compilations landed", std::time::Duration::from_secs(120), || {
            rt.stats().succeeded >= 4
        });
        rt.shutdown();
        // Joined explicitly: the scope alone waits for the closures, not the OS threads.
        for caller in callers {
            caller.join().unwrap();
        }
    });
    drop(rt);
    let names: Vec<_> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).unwrap())
        .collect();
    assert_eq!(threads(), before, "workers and coordinator joined: {names:?}");
}
