//! A compiler's `JITDylib` and symbol lookup in it.

use super::{Lljit, check, lljit};
use crate::LlvmError;
use llvm_sys::orc2::lljit::{
    LLVMOrcLLJITGetExecutionSession, LLVMOrcLLJITGetGlobalPrefix, LLVMOrcLLJITMangleAndIntern,
};
use llvm_sys::orc2::{
    LLVMOrcCJITDylibSearchOrderElement, LLVMOrcCLookupSetElement, LLVMOrcCSymbolMapPairs,
    LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess,
    LLVMOrcExecutionSessionCreateBareJITDylib, LLVMOrcExecutionSessionLookup,
    LLVMOrcJITDylibAddGenerator, LLVMOrcJITDylibClear, LLVMOrcJITDylibLookupFlags,
    LLVMOrcJITDylibRef, LLVMOrcLookupKind, LLVMOrcReleaseSymbolStringPoolEntry,
    LLVMOrcSymbolLookupFlags,
};
use std::ffi::{CString, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Owns one `JITDylib`. Shared (`Arc`) by its compiler and every code backing made in
/// it, so the dylib outlives all code in it; dropping the last reference clears it.
#[derive(Debug)]
pub(crate) struct DylibGuard {
    pub(crate) jit: &'static Lljit,
    pub(crate) dylib: LLVMOrcJITDylibRef,
}

impl std::fmt::Debug for Lljit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lljit")
    }
}

// SAFETY: a JITDylib is owned by the thread-safe ExecutionSession; the guard only calls
// session-synchronized entry points.
unsafe impl Send for DylibGuard {}
// SAFETY: as above.
unsafe impl Sync for DylibGuard {}

impl DylibGuard {
    /// Creates a fresh, uniquely named dylib that resolves C runtime symbols from the process.
    pub(crate) fn new() -> Result<Self, LlvmError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let jit = lljit()?;
        let name = CString::new(format!("revmc.{}", NEXT.fetch_add(1, Ordering::Relaxed)))
            .expect("no NUL");
        // SAFETY: `jit` is live for the process; the name is copied by the session.
        let dylib = unsafe {
            let es = LLVMOrcLLJITGetExecutionSession(jit.0);
            LLVMOrcExecutionSessionCreateBareJITDylib(es, name.as_ptr())
        };
        let mut generator = std::ptr::null_mut();
        // SAFETY: out-pointer is valid; no filter. The dylib takes ownership of the generator.
        unsafe {
            check(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                &mut generator,
                LLVMOrcLLJITGetGlobalPrefix(jit.0),
                None,
                std::ptr::null_mut(),
            ))?;
            LLVMOrcJITDylibAddGenerator(dylib, generator);
        }
        Ok(Self { jit, dylib })
    }

    /// Address of `name` in this dylib, materializing it if needed.
    pub(crate) fn lookup(&self, name: &str) -> Result<u64, LlvmError> {
        let cname = CString::new(name).map_err(|e| LlvmError::Orc(e.to_string()))?;
        let (tx, rx) = mpsc::sync_channel::<Result<u64, LlvmError>>(1);
        extern "C" fn on_result(
            err: llvm_sys::error::LLVMErrorRef,
            pairs: LLVMOrcCSymbolMapPairs,
            n: usize,
            ctx: *mut c_void,
        ) {
            // SAFETY: `ctx` is the boxed sender leaked below; it is reclaimed exactly once, here.
            let tx = unsafe { Box::from_raw(ctx as *mut mpsc::SyncSender<Result<u64, LlvmError>>) };
            let result = check(err).and_then(|()| {
                if n == 1 {
                    // SAFETY: on success ORC passes `n` valid pairs.
                    Ok(unsafe { (*pairs).Sym.Address })
                } else {
                    Err(LlvmError::Orc(format!("lookup returned {n} symbols")))
                }
            });
            let _ = tx.send(result);
        }
        // SAFETY: the lookup set and search order are valid for the call; the interned
        // name is released after the lookup completes; `ctx` ownership moves to the callback.
        unsafe {
            let sym = LLVMOrcLLJITMangleAndIntern(self.jit.0, cname.as_ptr());
            let mut order = [LLVMOrcCJITDylibSearchOrderElement {
                JD: self.dylib,
                JDLookupFlags:
                    LLVMOrcJITDylibLookupFlags::LLVMOrcJITDylibLookupFlagsMatchAllSymbols,
            }];
            let mut set = [LLVMOrcCLookupSetElement {
                Name: sym,
                LookupFlags: LLVMOrcSymbolLookupFlags::LLVMOrcSymbolLookupFlagsRequiredSymbol,
            }];
            let ctx = Box::into_raw(Box::new(tx)) as *mut c_void;
            LLVMOrcExecutionSessionLookup(
                LLVMOrcLLJITGetExecutionSession(self.jit.0),
                LLVMOrcLookupKind::LLVMOrcLookupKindStatic,
                order.as_mut_ptr(),
                order.len(),
                set.as_mut_ptr(),
                set.len(),
                on_result,
                ctx,
            );
            let r =
                rx.recv().unwrap_or_else(|_| Err(LlvmError::Orc("lookup callback dropped".into())));
            LLVMOrcReleaseSymbolStringPoolEntry(sym);
            r
        }
    }
}

impl Drop for DylibGuard {
    fn drop(&mut self) {
        // The C API cannot remove a JITDylib from the session; clearing it frees all code
        // and memory it still holds, leaving an empty shell of a few hundred bytes.
        // SAFETY: no code backing refers to this dylib any more (they hold the Arc).
        if let Err(e) = check(unsafe { LLVMOrcJITDylibClear(self.dylib) }) {
            tracing::warn!("clearing JITDylib failed: {e}");
        }
    }
}
