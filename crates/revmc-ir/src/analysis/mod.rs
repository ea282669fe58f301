//! Analyses over decoded bytecode: basic blocks ([`cfg`]) and the abstract interpretation
//! that resolves jump targets and per-block stack heights ([`jumps`]).

pub mod cfg;
pub mod jumps;
pub mod opcodes;
