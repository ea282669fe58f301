//! Differential tests: every compiled execution must equal revm's interpreter.
//!
//! Each case runs in the interpreter ([`revmc_runtime::harness::Oracle`]) and in JIT code at opt
//! level 0 and at the default level, and compares status always, and gas left, stack,
//! memory and output whenever the frame completed (STOP, RETURN, REVERT). After an
//! exceptional halt a frame's gas is all consumed and its stack and memory are dropped,
//! so nothing else is observable.

mod harness;

mod arith;
mod control;
mod dynamic;
mod gas;
mod memory;
mod random;
mod stack;
