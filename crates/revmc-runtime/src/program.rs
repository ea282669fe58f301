//! A JIT-compiled program: its native code and the bytecode it came from.

use crate::RuntimeError;
use crate::harness::{ExecutionOutcome, execute};
use revmc_ir::{Limits, SpecId, translate};
use revmc_llvm::{JitCompiler, JitFunction};
use std::time::Duration;

/// Bytecode compiled for one spec. Dropping it frees its native code.
#[derive(Debug)]
pub struct JitProgram {
    function: JitFunction,
    code: Vec<u8>,
    spec: SpecId,
}

impl JitProgram {
    /// Translates and JIT-compiles `code` for `spec` with `compiler`.
    pub fn compile(
        compiler: &mut JitCompiler,
        code: &[u8],
        spec: SpecId,
    ) -> Result<Self, RuntimeError> {
        let ir = translate(code, spec, &Limits::default())?;
        // A compiler bug must not unwind into the caller; `compiler` may be half-updated
        // afterwards, which the error says.
        let compiled = revmc_worker::catch_compile_panic(|| {
            revmc_worker::failpoint();
            Ok(compiler.compile(&ir))
        });
        let function = compiled.map_err(|_| RuntimeError::Panicked)??;
        Ok(Self { function, code: code.to_vec(), spec })
    }

    /// Runs the program as one frame.
    pub fn run(&self, calldata: &[u8], gas_limit: u64) -> ExecutionOutcome {
        // SAFETY: `entry` was compiled from `self.code` for `self.spec`, and `self` keeps
        // its code alive for the call.
        unsafe { execute(self.function.entry, &self.code, self.spec, calldata, gas_limit) }
    }

    /// Time spent in translation's backend (lowering, passes, codegen).
    pub fn compile_time(&self) -> Duration {
        self.function.compile_time
    }

    /// The compiled function, for callers that manage execution themselves.
    pub fn function(&self) -> &JitFunction {
        &self.function
    }
}
