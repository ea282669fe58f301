//! Analyses over decoded bytecode: basic blocks ([`cfg`](mod@cfg)) and the abstract interpretation
//! that resolves jump targets and per-block stack shapes ([`jumps`], over the abstract
//! stack of [`state`]).

pub mod cfg;
pub mod jumps;
pub mod opcodes;
pub mod state;
pub mod work;
