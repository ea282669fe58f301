//! revm integration: a wrapper EVM whose frames run compiled code when they can, and the
//! sources of that code.

mod cache;
mod jit_evm;
mod source;
mod widen;

pub use cache::{CompiledFromProfile, JitCache};
pub use jit_evm::{FrameStats, JitEvm, RuntimeJitEvm};
pub use source::{OnMiss, ProgramSource, RuntimeSource};
