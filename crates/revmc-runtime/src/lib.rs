//! `revmc-runtime`: runs compiled EVM code.
//!
//! [`JitProgram`] compiles bytecode (translate → LLVM → ORC) and [`harness::execute`] runs a
//! compiled function as one EVM frame over call data and a gas limit, providing the
//! builtins the compiled code calls (`builtins`). [`harness::Oracle`] runs the same frame
//! in revm's interpreter; the two must agree exactly, which the differential tests check.
//!
//! [`evm::JitEvm`] runs whole transactions with revm, executing every frame whose code
//! compiles natively (nested calls and creates included) and the rest in the interpreter.
//!
//! Architecture invariant: nothing here depends on LLVM: compilation goes through
//! `revmc-worker`'s jobs, results and [`SyncCompiler`]. Compiled frames work on revm's own `Interpreter`
//! state, and host operations run revm's own instructions, so there is one owner of gas,
//! memory, stack and journal.

mod builtins;
mod env;
mod error;
pub mod evm;
mod execute;
mod frame;
mod oracle;
mod program;
mod service;

/// Running one frame outside revm's frame loop, compiled or in revm's interpreter: what
/// the differential tests, the benchmarks and `revmc run` use to compare the two. A node
/// does not need it: [`evm::JitEvm`] runs whole transactions.
pub mod harness {
    pub use crate::execute::{ExecutionOutcome, execute, execute_reporting};
    pub use crate::oracle::Oracle;
    pub use revmc_ir::ir::Leave;
}

pub use env::EnvWords;
pub use error::RuntimeError;
pub use program::JitProgram;
pub use revmc_cache::store;
pub use revmc_cache::{BlockProfile, CompiledProgram, ProgramKind, RuntimeCacheKey, Tier};
pub use revmc_ir::{InstructionResult, SpecId, TranslateError, U256};
pub use revmc_worker::{CompileError, CompileProcess, serve_compile_process};
pub use revmc_worker::{OptLevel, Profiling, RanBlocks, SyncCompiler};

/// Code bytes of every JIT program alive in this process, resident or still held by a
/// running frame (also `RuntimeStats::live_jit_code_bytes`).
pub fn live_code_bytes() -> usize {
    revmc_worker::live_code_bytes()
}
pub use service::{
    CompileMode, ConfigError, InterpretReason, Lookup, MissesByReason, Runtime, RuntimeConfig,
    RuntimeStats, Tuning,
};
