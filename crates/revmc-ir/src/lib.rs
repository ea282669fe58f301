//! `revmc-ir`: EVM bytecode → revmc's backend-neutral IR.
//!
//! The entry point is [`translate()`]: it decodes the bytecode with revm's opcode table,
//! builds the control-flow graph, resolves jump targets and per-block stack heights
//! ([`analysis`]), and emits an [`ir::Function`] whose blocks carry SSA values, explicit
//! gas sections and statically known stack checks. The [`abi`] module is the contract
//! between compiled code and the runtime that calls it.
//!
//! Architecture invariant: this crate knows nothing about LLVM, threads, or revm's host.

pub mod abi;
pub mod analysis;
pub mod bytecode;
mod cost;
mod error;
pub mod ir;
mod limits;
mod opt_level;
pub mod passes;
pub mod profile;
pub mod translate;
pub mod verifier;
mod wide;

pub use cost::{block_cost, compile_cost, optimizing_cost};
pub use error::TranslateError;
pub use limits::{DEFAULT_FIRST_TIER_CHUNK_COST, DEFAULT_MAX_VARIANTS, Limits};
pub use opt_level::OptLevel;
pub use profile::RanBlocks;
pub use translate::{translate, translate_profiled};
pub use wide::{INLINE_WIDE_OPS, is_wide};

/// The EVM word type used by the IR's constants.
pub use revm_interpreter::primitives::U256;
/// Re-export of the revm crates whose types appear in this crate's API.
pub use revm_interpreter::{InstructionResult, primitives::hardfork::SpecId};
