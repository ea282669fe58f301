//! Inputs on which the `jit_vs_interpreter` fuzz target once found a divergence, each
//! replayed at O0 and O2.

use revmc_runtime::OptLevel;
use revmc_runtime::SpecId;
use revmc_runtime::evm::JitCache;
use revmc_testkit::tx::{Case, check};

fn replay(case: &Case) {
    for level in [OptLevel::O0, OptLevel::O2] {
        let mut cache = JitCache::new(level).unwrap();
        if let Err(diff) = check(case, &mut cache) {
            panic!("at {level:?}: {diff}");
        }
        assert!(cache.compiled() > 0, "the case must run compiled: {:?}", cache.failures);
    }
}

/// A loop whose block is entered at falling stack heights, running out of gas in a LOG3
/// one iteration before the stack would underflow: the out-of-gas must win.
#[test]
fn out_of_gas_before_a_later_stack_underflow() {
    let code_a = vec![
        96, 0, 53, 96, 32, 52, 96, 64, 53, 96, 96, 52, 96, 128, 53, 96, 160, 52, 96, 0, 97, 0, 38,
        86, 96, 0, 96, 3, 96, 14, 96, 0, 240, 96, 0, 96, 9, 80, 91, 96, 83, 83, 96, 56, 96, 33,
        163, 96, 0, 80, 48, 80, 91, 96, 248, 96, 6, 97, 0, 38, 86, 72, 96, 0, 0,
    ];
    let case = Case {
        spec: SpecId::FRONTIER,
        code_a,
        code_b: vec![0],
        calldata: vec![],
        value: 2,
        gas_limit: 30_000,
    };
    replay(&case);
}

/// Fuzz input (`jit_vs_interpreter` format) whose contract keeps about a thousand stack
/// values live across a hundred blocks and a dozen calls: LLVM took over a minute on its
/// 262 bytes. It is now refused by the translator's live-stack bound and runs interpreted,
/// with the same result.
#[test]
fn a_compile_time_bomb_is_refused_and_runs_interpreted() {
    let data = include_bytes!("inputs/compile-time-bomb.bin");
    let case = Case::from_bytes(&data[1..]).unwrap();
    let err = revmc_ir::translate(&case.code_a, case.spec, &Default::default()).unwrap_err();
    assert!(
        matches!(err, revmc_ir::TranslateError::LimitExceeded { what: "live stack cost", .. }),
        "{err}"
    );
    let mut cache = JitCache::new(OptLevel::O2).unwrap();
    check(&case, &mut cache).unwrap();
    assert_eq!(cache.failures.len(), 1, "code_a is refused, code_b compiles");
}
