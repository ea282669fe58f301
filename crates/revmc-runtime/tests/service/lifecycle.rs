//! One thread at a time: hotness, negative cache, control flags, generations.

use super::common::*;
use revm::primitives::Bytes;
use revmc_runtime::{
    CompileError, InterpretReason, Lookup, Runtime, RuntimeConfig, TranslateError, Tuning,
};
use std::time::Duration;

#[test]
fn code_is_compiled_once_it_has_used_the_threshold_of_gas() {
    let rt = runtime(Tuning { hot_threshold_gas: 1_000, ..tuning() });
    let code = program(1);
    let (k, bytes) = (key(&code), Bytes::from(code.clone()));
    assert!(matches!(rt.lookup(k), Lookup::Interpret(InterpretReason::NotCompiled)));
    rt.record_interpreted(k, &bytes, 600);
    // Below the threshold nothing is dispatched; a synchronous compile of other code
    // flushes the coordinator's queue of events before it.
    rt.compile_sync(key(&program(2)), &program(2)).unwrap();
    assert_eq!(rt.stats().dispatched, 1, "600 gas is not hot");
    rt.record_interpreted(k, &bytes, 600);
    wait_until("the hot code is compiled", Duration::from_secs(60), || {
        matches!(rt.lookup(k), Lookup::Compiled(_))
    });
    let Lookup::Compiled(p) = rt.lookup(k) else { unreachable!() };
    run_checked(&p, &code, &[1, 2, 3]);
    let s = rt.stats();
    assert_eq!((s.dispatched, s.succeeded, s.resident_entries), (2, 2, 2));
    assert!(s.hits >= 2 && s.misses >= 1 && s.compile_time > Duration::ZERO, "{s:?}");
    assert!(s.phases.codegen > Duration::ZERO && s.phases.translate > Duration::ZERO);
}

#[test]
fn refused_and_failed_compilations_are_remembered_and_not_retried() {
    let rt = runtime(Tuning { max_bytecode_len: 16, ..tuning() });
    let code = vec![0x5b; 17];
    let err = rt.compile_sync(key(&code), &code).unwrap_err();
    assert!(matches!(err, CompileError::TooLarge { len: 17, max: 16 }), "{err}");
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::TooLarge)));
    // A translation failure (over the live-stack bound) is cached the same way.
    let rt = runtime(tuning());
    // 1000 PUSH0s, then 5 JUMPDEST blocks entered 1000 entries high: 5 * 1000^2 > 4 Mi.
    let bad = [vec![0x5f; 1000], vec![0x5b; 5]].concat();
    let first = rt.compile_sync(key(&bad), &bad).unwrap_err();
    let refused = |e: &CompileError| {
        matches!(e, CompileError::Translate(TranslateError::LimitExceeded { .. }))
    };
    assert!(refused(&first), "{first}");
    assert!(refused(&rt.compile_sync(key(&bad), &bad).unwrap_err()));
    assert_eq!(rt.stats().dispatched, 1, "the failure is not retried");
    // Reported as refused for its cost, not as a failure of the compiler.
    assert!(matches!(rt.lookup(key(&bad)), Lookup::Interpret(InterpretReason::TooCostly)));
    assert_eq!(rt.stats().misses_by_reason.too_costly, 1);
    rt.clear();
    assert!(matches!(rt.lookup(key(&bad)), Lookup::Interpret(InterpretReason::NotCompiled)));
}

#[test]
fn loop_free_code_too_short_to_pay_runs_interpreted() {
    let rt = runtime(Tuning { min_loop_free_instructions: 64, ..tuning() });
    // 63 straight-line instructions: never compiled, and remembered as such.
    let short = [[0x5f, 0x50].repeat(31), vec![0x00]].concat();
    let err = rt.compile_sync(key(&short), &short).unwrap_err();
    assert!(matches!(err, CompileError::Unprofitable { instructions: 63, min: 64 }), "{err}");
    assert!(matches!(rt.lookup(key(&short)), Lookup::Interpret(InterpretReason::Unprofitable)));
    // One more instruction, or a loop however short, compiles.
    let long = [0x5f, 0x50].repeat(32);
    assert!(rt.compile_sync(key(&long), &long).is_ok());
    // JUMPDEST; PUSH0; JUMPI (never taken); STOP
    let looping = vec![0x5b, 0x5f, 0x5f, 0x57, 0x00];
    assert!(rt.compile_sync(key(&looping), &looping).is_ok());
    // The refusal is remembered: asking again does not reach a worker.
    assert!(matches!(rt.compile_sync(key(&short), &short), Err(CompileError::Unprofitable { .. })));
    assert_eq!(rt.stats().dispatched, 3);
}

#[test]
fn zero_workers_is_a_configuration_error() {
    let config =
        RuntimeConfig { tuning: Tuning { jit_worker_count: 0, ..tuning() }, ..Default::default() };
    let err = Runtime::new(config).unwrap_err();
    assert!(err.to_string().contains("jit_worker_count"), "{err}");
}

#[test]
fn control_never_blocks_even_before_the_coordinator_starts() {
    let rt = Runtime::new(RuntimeConfig {
        enabled: false,
        tuning: tuning(),
        ..RuntimeConfig::default()
    })
    .unwrap();
    rt.pause();
    assert!(rt.is_paused());
    rt.resume();
    assert!(!rt.is_paused());
    let code = program(4);
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::Disabled)));
    rt.set_enabled(true);
    let p = rt.compile_sync(key(&code), &code).unwrap();
    assert!(matches!(rt.lookup(key(&code)), Lookup::Compiled(_)));
    rt.set_enabled(false);
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::Disabled)));
    run_checked(&p, &code, &[]);
    rt.shutdown();
    rt.shutdown();
    assert!(matches!(rt.compile_sync(key(&program(5)), &program(5)), Err(CompileError::ShutDown)));
}

#[test]
fn paused_runtimes_do_not_promote() {
    let rt = runtime(Tuning { hot_threshold_gas: 10, ..tuning() });
    rt.pause();
    let code = program(6);
    rt.record_interpreted(key(&code), &Bytes::from(code.clone()), 1_000);
    rt.compile_sync(key(&program(7)), &program(7)).unwrap(); // flushes earlier events
    assert_eq!(rt.stats().dispatched, 1);
    rt.resume();
    rt.record_interpreted(key(&code), &Bytes::from(code.clone()), 1_000);
    wait_until("compiled after resume", Duration::from_secs(60), || {
        matches!(rt.lookup(key(&code)), Lookup::Compiled(_))
    });
}

#[test]
fn a_clear_during_compilation_drops_the_stale_result() {
    let rt = runtime(Tuning { jit_opt_level: revmc_runtime::OptLevel::O2, ..tuning() });
    let code = slow_program();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| rt.compile_sync(key(&code), &code));
        wait_until("the job is dispatched", Duration::from_secs(60), || rt.stats().dispatched == 1);
        rt.clear();
        let outcome = waiter.join().unwrap();
        assert!(matches!(outcome, Err(CompileError::Cleared)), "{outcome:?}");
    });
    let s = rt.stats();
    assert_eq!((s.stale, s.resident_entries, s.succeeded), (1, 0, 0), "{s:?}");
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::NotCompiled)));
    // The key compiles normally in the new generation.
    let p = rt.compile_sync(key(&code), &code).unwrap();
    run_checked(&p, &code, &[]);
}

#[test]
fn recycled_compilers_keep_producing_correct_programs() {
    let rt = runtime(Tuning { compiler_recycle_threshold: 1, ..tuning() });
    let programs: Vec<_> = (10..16)
        .map(|n| {
            let code = program(n);
            (rt.compile_sync(key(&code), &code).unwrap(), code)
        })
        .collect();
    // Programs from compilers since dropped still run.
    for (p, code) in &programs {
        let out = run_checked(p, code, &[9; 5]);
        assert_eq!(out.output.len(), 32);
    }
}

#[test]
fn code_that_does_not_match_its_key_is_refused() {
    let rt = runtime(tuning());
    let (a, b) = (program(30), program(31));
    assert!(matches!(rt.compile_sync(key(&a), &b), Err(CompileError::CodeMismatch)));
    assert!(matches!(rt.lookup(key(&a)), Lookup::Interpret(_)));
    assert_eq!(rt.stats().dispatched, 0);
}

#[test]
fn a_compilation_past_its_deadline_is_abandoned_and_the_worker_moves_on() {
    let rt = runtime(Tuning {
        jit_opt_level: revmc_runtime::OptLevel::O2,
        optimizing_compile_deadline: Duration::from_millis(300),
        ..tuning()
    });
    // Seconds at O2: past the deadline, so the compilation is abandoned.
    let slow = slow_program();
    let err = rt.compile_sync(key(&slow), &slow).unwrap_err();
    assert!(matches!(err, CompileError::Timeout { .. }), "{err}");
    assert!(matches!(rt.lookup(key(&slow)), Lookup::Interpret(InterpretReason::TimedOut)));
    // The one worker is free again while the abandoned compilation finishes elsewhere.
    let p = rt.compile_sync(key(&program(3)), &program(3)).expect("small code compiles");
    run_checked(&p, &program(3), &[]);
    // Shutdown waits for the abandoned compilation's thread too (bounded by its work).
    rt.shutdown();
}

#[test]
fn a_program_refused_at_the_optimizing_tier_keeps_a_first_tier_even_after_eviction() {
    use revmc_runtime::{OptLevel, Tier};
    // 6 KiB of `DUP1 SIGNEXTEND` on a call-data word: cheap at O0, past the optimizing
    // tier's estimate at O2.
    let mut hostile = vec![0x36];
    hostile.extend([0x80, 0x0b].repeat(3 * 1024 - 1));
    hostile.extend([0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3]);
    let (hostile, small) = (Bytes::from(hostile), Bytes::from(program(1)));
    let tiered = Tuning {
        first_tier_opt_level: Some(OptLevel::O0),
        jit_opt_level: OptLevel::O2,
        tier_up_gas: 1_000,
        ..tuning()
    };
    let first_tier = |rt: &Runtime, code: &Bytes| {
        rt.record_interpreted(key(code), code, 10_000);
        wait_until(
            "the first tier compiles",
            Duration::from_secs(60),
            || matches!(rt.lookup(key(code)), Lookup::Compiled(p) if p.tier() == Tier::First),
        );
        match rt.lookup(key(code)) {
            Lookup::Compiled(p) => p.code_bytes(),
            Lookup::Interpret(r) => panic!("{r:?}"),
        }
    };
    // A budget that holds the hostile program's first-tier code but not the small one's too.
    let budget = {
        let rt = runtime(tiered.clone());
        first_tier(&rt, &hostile) + first_tier(&rt, &small) / 2
    };
    let rt = runtime(Tuning { code_cache_bytes: budget, ..tiered });
    first_tier(&rt, &hostile);
    // Hot first-tier code tiers up; the optimizing compilation is refused, the first tier
    // stays.
    rt.record_first_tier(key(&hostile), &hostile, 10_000);
    wait_until("the tier-up is refused", Duration::from_secs(60), || {
        let s = rt.stats();
        s.tier_ups == 1 && s.failed == 1 && s.queued == 0
    });
    assert!(matches!(rt.lookup(key(&hostile)), Lookup::Compiled(p) if p.tier() == Tier::First));
    // The small program evicts it; once hot again it gets a first tier again, and is not
    // sent to the optimizing tier a second time.
    first_tier(&rt, &small);
    wait_until("the hostile program is evicted", Duration::from_secs(60), || {
        matches!(rt.lookup(key(&hostile)), Lookup::Interpret(_))
    });
    first_tier(&rt, &hostile);
    rt.record_first_tier(key(&hostile), &hostile, 10_000);
    // Events are applied in order: once a program hot after it is compiled, the tier-up
    // event has been seen.
    first_tier(&rt, &Bytes::from(program(2)));
    assert_eq!(rt.stats().tier_ups, 1, "{:?}", rt.stats());
}
