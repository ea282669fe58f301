//! Eviction under a small code budget really frees JIT code: the process-wide count of
//! loaded JIT bytes falls back, except for a program a caller still holds, which is freed
//! when it drops. Its own test binary, so no other test's code is counted.

#[path = "service/common.rs"]
mod common;

use common::*;
use revmc_runtime::OptLevel;
use revmc_runtime::{Lookup, Tuning};

#[test]
fn eviction_frees_jit_code_and_a_held_program_outlives_it() {
    let size = {
        // Measure one program's size with a throwaway runtime.
        let rt = runtime(tuning());
        let code = program(0);
        rt.compile_sync(key(&code), &code).unwrap().code_bytes()
    };
    assert_eq!(revmc_runtime::live_code_bytes(), 0, "the throwaway runtime freed its code");
    let budget = size * 3 + size / 2;
    let rt = runtime(Tuning { code_cache_bytes: budget, jit_opt_level: OptLevel::O1, ..tuning() });
    let first = program(1);
    let held = rt.compile_sync(key(&first), &first).unwrap();
    for n in 2..=20 {
        let code = program(n);
        rt.compile_sync(key(&code), &code).unwrap();
        let s = rt.stats();
        assert!(s.jit_code_bytes as usize <= budget, "{s:?}");
    }
    let s = rt.stats();
    assert_eq!(s.resident_entries, 3);
    assert_eq!(s.evictions, 17);
    assert!(matches!(rt.lookup(key(&first)), Lookup::Interpret(_)), "the first was evicted");
    // Loaded code: the three resident programs plus the one still held.
    let resident = s.jit_code_bytes as usize;
    assert_eq!(revmc_runtime::live_code_bytes(), resident + held.code_bytes());
    run_checked(&held, &first, &[1]);
    drop(held);
    assert_eq!(revmc_runtime::live_code_bytes(), resident, "freed with its last user");
    rt.clear();
    // The coordinator may hold the last result's notifier (and so its program) for a few
    // instructions after waking the waiter.
    wait_until("every program is freed", std::time::Duration::from_secs(10), || {
        revmc_runtime::live_code_bytes() == 0
    });
}
