//! `RuntimeConfig::disabled()` starts no thread until it is enabled. Alone in its binary,
//! so that no other test's threads come and go while it counts.

#[path = "service/common.rs"]
mod common;

use common::*;
use revmc_runtime::{InterpretReason, Lookup, Runtime, RuntimeConfig};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

fn thread_names() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_owned())
        .collect()
}

#[test]
fn a_disabled_runtime_starts_no_thread_until_enabled() {
    let ours = || thread_names().iter().filter(|n| n.starts_with("revmc-")).count();
    let (before, all_before) = (ours(), threads());
    let rt = Runtime::new(RuntimeConfig { tuning: tuning(), ..RuntimeConfig::disabled() }).unwrap();
    let code = program(7);
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::Disabled)));
    rt.record_interpreted(key(&code), &code.clone().into(), 1_000_000);
    assert_eq!(ours(), before, "no worker, coordinator or store thread: {:?}", thread_names());
    assert_eq!(threads(), all_before, "no thread at all: {:?}", thread_names());
    // Enabled later, it compiles as any runtime does.
    rt.set_enabled(true);
    let program = rt.compile_sync(key(&code), &code).expect("compiles once enabled");
    run_checked(&program, &code, &[]);
    assert!(ours() > before, "its workers started: {:?}", thread_names());
}
