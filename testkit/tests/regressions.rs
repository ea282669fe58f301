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
/// 262 bytes when every block kept its whole stack in SSA slots. The translator's
/// live-stack bound refused it then; now its blocks reached at many heights collapse into
/// the dynamic mode, whose few slots keep the live stack small, and it compiles (0.1 s at
/// O0 and O2 here) with the interpreter's result.
#[test]
fn a_former_compile_time_bomb_compiles_in_the_dynamic_mode() {
    let data = include_bytes!("inputs/compile-time-bomb.bin");
    let case = Case::from_bytes(&data[1..]).unwrap();
    let ir = revmc_ir::translate(&case.code_a, case.spec, &Default::default()).unwrap();
    assert!(ir.to_string().contains("dyn_charge"), "code_a runs in the dynamic mode");
    let start = std::time::Instant::now();
    replay(&case);
    eprintln!("compiled and replayed in {:?}", start.elapsed());
}
