//! `revmc-runtime`: runs compiled EVM code.
//!
//! [`JitProgram`] compiles bytecode (translate → LLVM → ORC) and [`execute`] runs a compiled
//! function as one EVM frame over call data and a gas limit, providing the builtins the
//! compiled code calls ([`builtins`]). [`oracle`] runs the same frame in revm's
//! interpreter; the two must agree exactly, which the differential tests check.
//!
//! Architecture invariant: nothing here depends on LLVM details beyond
//! [`revmc_llvm::JitCompiler`]'s API; host operations are not supported yet, so frames
//! run without a host (the translator rejects bytecode that needs one).

pub mod builtins;
mod error;
mod execute;
pub mod frame;
pub mod oracle;
mod program;

pub use error::RuntimeError;
pub use execute::{ExecutionOutcome, execute};
pub use program::JitProgram;
pub use revmc_ir::{InstructionResult, SpecId, U256};
pub use revmc_llvm::OptLevel;
