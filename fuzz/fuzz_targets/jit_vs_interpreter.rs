//! Fuzz target: bytecode that translates runs identically in JIT code (at opt levels 0
//! and 2) and in revm's interpreter: status always; gas, stack, memory and output when
//! the frame completes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use revmc_llvm::{JitCompiler, OptLevel};
use revmc_runtime::oracle::Oracle;
use revmc_runtime::{InstructionResult, JitProgram, SpecId};
use std::cell::RefCell;

thread_local! {
    static JITS: RefCell<Vec<JitCompiler>> = RefCell::new(
        [OptLevel::O0, OptLevel::O2].into_iter().map(|l| JitCompiler::new(l).unwrap()).collect()
    );
}

fuzz_target!(|data: &[u8]| {
    // Layout: [gas byte][calldata len][calldata...][code...].
    let [gas, cd_len, rest @ ..] = data else { return };
    let cd_len = (*cd_len as usize).min(rest.len());
    let (calldata, code) = rest.split_at(cd_len);
    let gas = (*gas as u64) * 1000;
    let spec = SpecId::OSAKA;
    JITS.with(|jits| {
        let mut want = None;
        for jit in jits.borrow_mut().iter_mut() {
            // Code the compiler refuses (host operations, inconsistent heights) is the
            // interpreter's alone; the oracle runs host-free code only.
            let Ok(program) = JitProgram::compile(jit, code, spec) else { return };
            let want = want.get_or_insert_with(|| Oracle::new(code, spec).run(calldata, gas));
            let got = program.run(calldata, gas);
            assert_eq!(got.result, want.result, "status");
            if matches!(want.result, InstructionResult::Stop | InstructionResult::Return | InstructionResult::Revert) {
                assert_eq!(&got, want);
            }
        }
    });
});
