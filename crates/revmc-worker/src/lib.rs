//! `revmc-worker`: compiles [`CompileJob`]s on a pool of worker threads and reports each
//! as a [`WorkerResult`].
//!
//! The pool ([`WorkerPool`]) is a rayon pool of named threads with bounded admission: a
//! full queue or a shut-down pool hands the job back instead of blocking the caller. Each
//! worker thread keeps its compilers in thread-locals ([`compilers`]), creates them on
//! first use, recycles them after a number of compilations, and clears them at shutdown.
//!
//! Architecture invariant: this crate decides nothing about what to compile or where the
//! result goes; it compiles what it is given and sends the outcome, with the job's key,
//! generation and notifier, to the channel it was built with.

mod compile;
pub mod compilers;
mod deadline;
mod error;
mod job;
mod notifier;
mod panic;
mod pool;
mod priority;
mod process;
mod sync;
mod work_clock;

pub use compile::{compile_aot, compile_jit};
pub use error::CompileError;
pub use job::{CompileJob, CompileKind, CompilePhases, Compiled, Library, Profiling, WorkerResult};
pub use notifier::Notifier;
pub use panic::{FAILPOINT_COMPILE_PANIC, catch_compile_panic, failpoint};
pub use pool::{Rejected, SubmitError, WorkerConfig, WorkerPool};
pub use process::{CompileProcess, serve as serve_compile_process};
pub use revmc_ir::{OptLevel, RanBlocks};
/// The backend's facts the runtime needs, without its types: the code bytes of every live
/// JIT program, the build id and the host target that AOT artifacts are keyed by.
pub use revmc_llvm::{build_id, host_target_id, live_code_bytes};
pub use sync::SyncCompiler;
