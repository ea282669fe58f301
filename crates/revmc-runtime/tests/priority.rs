//! The runtime's compile threads run at `Tuning::compile_nice` above the thread that
//! started it; nothing else does. Alone in its binary, so that no other test's runtime
//! has threads of the same names.

#![cfg(target_os = "linux")]

#[path = "service/common.rs"]
mod common;

use common::*;
use revmc_runtime::{Runtime, RuntimeConfig, Tuning};

/// A thread's name and nice value, from its `stat` file in procfs (`None` once it has
/// exited).
fn name_and_nice(stat: &std::path::Path) -> Option<(String, i32)> {
    let stat = std::fs::read_to_string(stat).ok()?;
    let (name, rest) = stat.split_once(" (").expect("a command").1.rsplit_once(") ").unwrap();
    // After the command: state is field 3, nice field 19.
    let nice = rest.split(' ').nth(16).expect("a nice value").parse().expect("a number");
    Some((name.to_owned(), nice))
}

/// Nice value of each of this process's threads, by name.
fn nice_by_thread() -> Vec<(String, i32)> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("procfs");
    tasks.filter_map(|t| name_and_nice(&t.expect("a task").path().join("stat"))).collect()
}

#[test]
fn compile_threads_run_at_the_configured_nice_value() {
    let base = name_and_nice("/proc/thread-self/stat".as_ref()).expect("this thread").1;
    let rt = Runtime::new(RuntimeConfig {
        tuning: Tuning { compile_nice: 7, ..tuning() },
        ..RuntimeConfig::default()
    })
    .unwrap();
    let code = program(3);
    let compiled = rt.compile_sync(key(&code), &code).expect("compiles");
    run_checked(&compiled, &code, &[]);
    let threads = nice_by_thread();
    let compiling = |n: &str| n.starts_with("revmc-worker") || n == "revmc-compile";
    assert!(threads.iter().any(|(n, _)| n == "revmc-compile"), "{threads:?}");
    for (name, nice) in &threads {
        let want = if compiling(name) { (base + 7).min(19) } else { base };
        assert_eq!(*nice, want, "{name}: {threads:?}");
    }
}
