//! The compile service: a [`Runtime`] handle that answers lookups without blocking,
//! promotes code that executes enough gas, compiles it on the worker pool in the
//! background, and keeps the results in a resident cache under a byte budget.
//!
//! Threads: callers (executing transactions) only read the resident cache and send
//! events on a bounded channel; the coordinator thread ([`coordinator`]) owns hotness,
//! dispatches jobs and stores results; worker threads (`revmc-worker`) compile.

mod config;
mod coordinator;
mod lookup;
mod negative;
mod runtime;
mod stats;
mod store_io;

pub use config::{CompileMode, RuntimeConfig, Tuning};
pub use lookup::{InterpretReason, Lookup};
pub use runtime::Runtime;
pub use stats::RuntimeStats;
