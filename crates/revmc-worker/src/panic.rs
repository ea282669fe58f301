//! Compiler panics as errors: every compile path (the pool, `JitCache`, `JitProgram`)
//! runs the compiler under [`catch_compile_panic`], so a compiler bug fails one
//! compilation and never unwinds into the caller.

use crate::CompileError;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

/// Test hook: while set, every compilation panics inside the compiler (after
/// translation), so that tests reach each path's panic handling. Never set outside tests.
#[doc(hidden)]
pub static FAILPOINT_COMPILE_PANIC: AtomicBool = AtomicBool::new(false);

/// Panics if the test hook is set; compile paths call it where the compiler runs.
#[doc(hidden)]
pub fn failpoint() {
    if FAILPOINT_COMPILE_PANIC.load(Ordering::Relaxed) {
        panic!("failpoint: a compiler bug");
    }
}

/// Runs `f`, turning a panic into [`CompileError::Panicked`]. After one, the compiler
/// `f` used may be half-updated: the caller must not use it again.
pub fn catch_compile_panic<T>(
    f: impl FnOnce() -> Result<T, CompileError>,
) -> Result<T, CompileError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(CompileError::Panicked(msg))
    })
}
