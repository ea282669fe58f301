//! A JIT-compiled program: its native code and the bytecode it came from.

use crate::RuntimeError;
use crate::harness::{ExecutionOutcome, Leave, execute, execute_reporting};
use revmc_cache::CompiledProgram;
use revmc_ir::SpecId;
use revmc_worker::{CompilePhases, Profiling, SyncCompiler};
use std::time::Duration;

/// Bytecode compiled for one spec. Dropping it frees its native code.
#[derive(Debug)]
pub struct JitProgram {
    program: CompiledProgram,
    phases: CompilePhases,
    code: Vec<u8>,
    spec: SpecId,
}

impl JitProgram {
    /// Translates and JIT-compiles `code` for `spec` with `compiler`. A compiler panic is
    /// an error (`CompileError::Panicked`), and the compiler is replaced.
    pub fn compile(
        compiler: &mut SyncCompiler,
        code: &[u8],
        spec: SpecId,
    ) -> Result<Self, RuntimeError> {
        Self::compile_with(compiler, code, spec, &Profiling::Off)
    }

    /// As [`Self::compile`], with `profiling` (see [`SyncCompiler::compile_with`]).
    pub fn compile_with(
        compiler: &mut SyncCompiler,
        code: &[u8],
        spec: SpecId,
        profiling: &Profiling,
    ) -> Result<Self, RuntimeError> {
        let (program, phases) = compiler.compile_with("revmc_evm", code, spec, profiling)?;
        Ok(Self { program, phases, code: code.to_vec(), spec })
    }

    /// Runs the program as one frame.
    pub fn run(&self, calldata: &[u8], gas_limit: u64) -> ExecutionOutcome {
        // SAFETY: the entry was compiled from `self.code` for `self.spec`, and `self` keeps
        // its code alive for the call.
        unsafe { execute(self.program.entry(), &self.code, self.spec, calldata, gas_limit) }
    }

    /// As [`Self::run`], with why the compiled code left the frame to the interpreter, if
    /// it did.
    pub fn run_reporting(
        &self,
        calldata: &[u8],
        gas_limit: u64,
    ) -> (ExecutionOutcome, Option<Leave>) {
        // SAFETY: as in `run`.
        unsafe {
            execute_reporting(self.program.entry(), &self.code, self.spec, calldata, gas_limit)
        }
    }

    /// Time spent in the backend (lowering, passes, codegen).
    pub fn compile_time(&self) -> Duration {
        self.phases.lower + self.phases.optimize + self.phases.codegen
    }

    /// Time of each compile phase, translation included.
    pub fn phases(&self) -> CompilePhases {
        self.phases
    }

    /// The compiled program, for callers that manage execution themselves.
    pub fn program(&self) -> &CompiledProgram {
        &self.program
    }
}
