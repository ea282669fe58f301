//! revm integration: a wrapper EVM whose frames run compiled code when they can.

mod cache;
mod jit_evm;

pub use cache::JitCache;
pub use jit_evm::{FrameStats, JitEvm};
