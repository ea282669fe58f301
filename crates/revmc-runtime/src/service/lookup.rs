//! The answer to a lookup.

use revmc_cache::CompiledProgram;
use std::sync::Arc;

/// Run this program, or interpret (and why).
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Compiled code for the key.
    Compiled(Arc<CompiledProgram>),
    /// No compiled code; run the interpreter.
    Interpret(InterpretReason),
}

/// Why a lookup found no compiled code. A new reason goes last, and moves
/// `InterpretReason::COUNT` with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum InterpretReason {
    /// The runtime is disabled.
    Disabled,
    /// Not compiled (yet): not hot enough, queued, or compiling.
    NotCompiled,
    /// A compilation of this key failed; it is not retried until `clear`.
    Failed,
    /// The bytecode is longer than `max_bytecode_len`.
    TooLarge,
    /// A compilation of this key ran past its deadline; it is retried after a while.
    TimedOut,
    /// Loop-free code too short for compiled code to repay its entry
    /// (`Tuning::min_loop_free_instructions`).
    Unprofitable,
    /// The translator refused the code as too costly to compile: a bound on analysis,
    /// code size or estimated compile time (`Limits`) was hit. Not retried until `clear`.
    TooCostly,
}

impl InterpretReason {
    /// How many reasons there are: one past the last.
    pub(crate) const COUNT: usize = Self::TooCostly as usize + 1;
}
