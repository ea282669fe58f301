//! `revmc-llvm`: the LLVM backend.
//!
//! [`lower`] turns an [`revmc_ir::ir::Function`] into an LLVM module, [`opt`] runs the
//! pass pipeline, and [`JitCompiler`] adds the module to an ORCv2 LLJIT: one `JITDylib`
//! per compiler, behind an `Arc` guard, and one `ResourceTracker` per compiled module,
//! owned by the [`JitCodeBacking`] of the returned [`JitFunction`]. Dropping the backing
//! frees exactly that module's code; the `JITDylib` is cleared when the last backing
//! and the compiler are gone.
//!
//! Architecture invariant: this crate knows nothing about threads, caches or revm.

mod aot;
mod codegen;
mod dump;
mod error;
mod jit;
mod local_addresses;
pub mod lower;
mod object;
pub use object::loaded_size;
mod opaque_trunc;
pub mod opt;
mod orc;

pub use aot::{ABI_VERSION_SYMBOL, AotCompiler, SharedLibrary, build_id, host_target_id};
pub use dump::with_dump_dir;
pub use error::LlvmError;
pub use jit::{JitCodeBacking, JitCompiler, JitFunction, PhaseTimes, live_code_bytes};
pub use opt::OptLevel;
