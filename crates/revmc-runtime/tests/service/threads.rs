//! Many threads at once: de-duplicated synchronous compiles, and lookups that stay
//! correct while compilations land.

use super::common::*;
use revm::primitives::Bytes;
use revmc_runtime::harness::Oracle;
use revmc_runtime::{Lookup, Tuning};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[test]
fn concurrent_sync_compiles_of_one_key_compile_once() {
    let rt = runtime(Tuning { jit_opt_level: revmc_runtime::OptLevel::O2, ..tuning() });
    let code = slow_program();
    let programs: Vec<_> = std::thread::scope(|s| {
        let threads: Vec<_> =
            (0..8).map(|_| s.spawn(|| rt.compile_sync(key(&code), &code).unwrap())).collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let s = rt.stats();
    assert_eq!((s.dispatched, s.succeeded), (1, 1), "one compilation: {s:?}");
    assert!(programs.iter().all(|p| Arc::ptr_eq(p, &programs[0])), "every waiter got it");
    run_checked(&programs[0], &code, &[]);
}

#[test]
fn lookups_from_eight_threads_stay_correct_while_compiling() {
    let rt = runtime(Tuning { jit_worker_count: 2, hot_threshold_gas: 200, ..tuning() });
    let codes: Vec<Vec<u8>> = (100..140).map(program).collect();
    let expected: Vec<_> = codes.iter().map(|c| Oracle::new(c, SPEC).run(&[7; 3], GAS)).collect();
    let compiled_runs = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (rt, codes, expected, compiled_runs) = (&rt, &codes, &expected, &compiled_runs);
            s.spawn(move || {
                for round in 0..40 {
                    let i = (t * 7 + round * 3) % codes.len();
                    let (code, k) = (&codes[i], key(&codes[i]));
                    let got = match rt.lookup(k) {
                        Lookup::Compiled(p) => {
                            compiled_runs.fetch_add(1, Ordering::Relaxed);
                            run_checked(&p, code, &[7; 3])
                        }
                        Lookup::Interpret(_) => {
                            let out = Oracle::new(code, SPEC).run(&[7; 3], GAS);
                            rt.record_interpreted(
                                k,
                                &Bytes::from(code.clone()),
                                GAS - out.gas_remaining,
                            );
                            out
                        }
                    };
                    assert_eq!(got, expected[i]);
                }
            });
        }
    });
    // Everything hot ends up compiled; a last pass runs compiled code only.
    for (code, want) in codes.iter().zip(&expected) {
        let p = rt.compile_sync(key(code), code).unwrap();
        assert_eq!(&run_checked(&p, code, &[7; 3]), want);
    }
    let s = rt.stats();
    assert!(s.hits + s.misses >= 8 * 40, "{s:?}");
    assert!(s.dispatched >= 1 && s.failed == 0, "{s:?}");
}
