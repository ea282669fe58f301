//! [`Codegen`]: LLVM's code generation pipeline built once per compiler and run on every
//! module it compiles (`codegen.cpp`). Building the pipeline is most of the cost of a
//! small program; measured in `docs/compile-cost.md`.

use crate::LlvmError;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use std::ffi::{c_char, c_void};
use std::ptr::NonNull;

unsafe extern "C" {
    fn revmc_codegen_new(tm: llvm_sys::target_machine::LLVMTargetMachineRef) -> *mut c_void;
    fn revmc_codegen_run(
        codegen: *mut c_void,
        module: llvm_sys::prelude::LLVMModuleRef,
        data: *mut *const c_char,
        len: *mut usize,
    );
    fn revmc_codegen_dispose(codegen: *mut c_void);
}

/// An object-emitting pipeline for one target machine, which must outlive it.
#[derive(Debug)]
pub(crate) struct Codegen(NonNull<c_void>);

// SAFETY: the pipeline is used by one thread at a time (`&mut self`), and LLVM's passes
// keep no thread-local state between runs.
unsafe impl Send for Codegen {}

impl Codegen {
    /// A pipeline for `machine`.
    pub(crate) fn new(machine: &TargetMachine) -> Result<Self, LlvmError> {
        // SAFETY: `machine` is a live target machine; the caller keeps it alive longer.
        let raw = unsafe { revmc_codegen_new(machine.as_mut_ptr()) };
        NonNull::new(raw)
            .map(Codegen)
            .ok_or_else(|| LlvmError::Target("the target cannot emit object files".into()))
    }

    /// The object file of `module`, which has the machine's triple and data layout.
    pub(crate) fn emit(&mut self, module: &Module<'_>) -> Vec<u8> {
        let mut data = std::ptr::null();
        let mut len = 0;
        // SAFETY: the pipeline and module are live; the output is valid until the next run.
        unsafe {
            revmc_codegen_run(self.0.as_ptr(), module.as_mut_ptr(), &mut data, &mut len);
            std::slice::from_raw_parts(data.cast::<u8>(), len).to_vec()
        }
    }
}

impl Drop for Codegen {
    fn drop(&mut self) {
        // SAFETY: created by `revmc_codegen_new`, disposed once.
        unsafe { revmc_codegen_dispose(self.0.as_ptr()) }
    }
}
