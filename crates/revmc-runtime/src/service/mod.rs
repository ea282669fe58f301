//! The compile service: a [`Runtime`] handle that answers lookups without blocking,
//! promotes code that executes enough gas, compiles it on the worker pool in the
//! background, and keeps the results in a resident cache under a byte budget.
//!
//! Threads: callers (executing transactions) only read the resident cache and send
//! events on a bounded channel; the coordinator thread ([`coordinator`]) owns hotness,
//! dispatches jobs and stores results; worker threads (`revmc-worker`) compile; store
//! threads ([`store_io`]) do the artifact store's disk I/O and `dlopen`.
//!
//! Files: [`policy`] decides what is compiled, when and how; [`ledger`] keeps the
//! bookkeeping (in flight, failed, generations); [`shared`] holds what the threads share
//! and dispatches; [`results`] records what the workers return; [`runtime`] is the handle.
//! Imports go one way: `runtime` → `coordinator` → `store_io` → `results` → `shared` →
//! `policy`, `ledger`.

mod config;
mod coordinator;
mod ledger;
mod lookup;
mod metrics;
mod negative;
mod policy;
mod results;
mod runtime;
mod seen;
mod shared;
mod stats;
mod store_io;

pub use config::{CompileMode, ConfigError, RuntimeConfig, Tuning};
pub use lookup::{InterpretReason, Lookup};
pub use runtime::Runtime;
pub use stats::{MissesByReason, RuntimeStats};
