//! Many optimizing compilations in child processes leave nothing behind: no child, no
//! open descriptor, no thread. Alone in its test binary, so that no other test's pipes or
//! threads are counted.

use revm::primitives::keccak256;
use revmc_runtime::{CompileProcess, Runtime, RuntimeCacheKey, RuntimeConfig, SpecId, Tuning};
use std::time::Duration;

/// Entries of a `/proc/self` directory: open descriptors (`fd`) or threads (`task`).
fn count(dir: &str) -> usize {
    std::fs::read_dir(format!("/proc/self/{dir}")).unwrap().count()
}

/// This process's children, running or unreaped.
fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
            ppid == Some(me.as_str())
        })
        .count()
}

#[test]
fn compilations_in_child_processes_leave_no_process_descriptor_or_thread() {
    let process = CompileProcess {
        program: env!("CARGO_BIN_EXE_revmc").into(),
        args: vec!["compile-job".into()],
    };
    let tuning = Tuning {
        jit_worker_count: 1,
        min_loop_free_instructions: 0,
        optimizing_compile_deadline: Duration::from_secs(60),
        optimizing_compile_process: Some(process),
        ..Tuning::default()
    };
    let rt = Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() }).unwrap();
    // PUSH4 n; CALLDATASIZE; ADD; MSTORE(0, ·); RETURN(0, 32): distinct code per n.
    let program = |n: u32| {
        let mut code = vec![0x63];
        code.extend(n.to_be_bytes());
        code.extend([0x36, 0x01, 0x5f, 0x52, 0x60, 32, 0x5f, 0xf3]);
        code
    };
    let compile = |n: u32| {
        let code = program(n);
        let key = RuntimeCacheKey::new(keccak256(&code), SpecId::CANCUN);
        rt.compile_sync(key, &code).expect("compiled in a child");
    };
    // The first compilation starts the worker and its compilers.
    compile(0);
    let (fds, threads) = (count("fd"), count("task"));
    for n in 1..=40 {
        compile(n);
    }
    assert_eq!(children(), 0, "every child is reaped");
    assert_eq!(count("fd"), fds, "no descriptor is left open");
    assert_eq!(count("task"), threads, "no thread is left running");
    assert_eq!(rt.stats().succeeded, 41);
}
