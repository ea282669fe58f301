//! Thin safe wrappers over LLVM's ORCv2 C API: the process-wide LLJIT, per-compiler
//! `JITDylib`s ([`dylib`]) and per-module `ResourceTracker`s ([`tracker`]).

pub(crate) mod dylib;
pub(crate) mod tracker;

use crate::LlvmError;
use llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use llvm_sys::orc2::lljit::{LLVMOrcCreateLLJIT, LLVMOrcCreateLLJITBuilder, LLVMOrcLLJITRef};
use std::ffi::CStr;
use std::sync::OnceLock;

/// Converts an `LLVMErrorRef` into a result, consuming the error.
pub(crate) fn check(err: LLVMErrorRef) -> Result<(), LlvmError> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: `err` is a live error; getting its message consumes it, and the message is
    // a C string we own until disposed.
    let msg = unsafe {
        let m = LLVMGetErrorMessage(err);
        let s = CStr::from_ptr(m).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(m);
        s
    };
    Err(LlvmError::Orc(msg))
}

/// The process-wide LLJIT. Compilers own `JITDylib`s inside it.
pub(crate) struct Lljit(pub(crate) LLVMOrcLLJITRef);

// SAFETY: LLJIT and its ExecutionSession are internally synchronized; every entry point
// we call is documented as thread-safe.
unsafe impl Send for Lljit {}
// SAFETY: as above.
unsafe impl Sync for Lljit {}

/// The process-wide LLJIT, created on first use. It lives as long as the process.
pub(crate) fn lljit() -> Result<&'static Lljit, LlvmError> {
    static JIT: OnceLock<Result<Lljit, String>> = OnceLock::new();
    JIT.get_or_init(|| {
        crate::opt::init_native_target().map_err(|e| e.to_string())?;
        let mut jit = std::ptr::null_mut();
        // SAFETY: the builder is consumed by `LLVMOrcCreateLLJIT`; `jit` receives the result.
        let err = unsafe { LLVMOrcCreateLLJIT(&mut jit, LLVMOrcCreateLLJITBuilder()) };
        check(err).map_err(|e| e.to_string())?;
        Ok(Lljit(jit))
    })
    .as_ref()
    .map_err(|e| LlvmError::Orc(e.clone()))
}
