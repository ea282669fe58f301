//! Each worker thread's compilers, in thread-locals.
//!
//! A compiler owns LLVM state (a target machine, a JITDylib) that must not be shared
//! between threads, so each worker keeps its own, created on the first job that needs it.
//! After `recycle_threshold` compilations a compiler is dropped and a fresh one made, which
//! bounds whatever LLVM accumulates per compiler; code already compiled stays valid, since
//! each program's backing holds its dylib. [`clear`] drops them all, at shutdown.

use crate::compile::compile_jit;
use crate::{CompileError, CompileJob, CompileKind, CompilePhases};
use revmc_cache::CompiledProgram;
use revmc_ir::Limits;
use revmc_llvm::{JitCompiler, OptLevel};
use std::cell::RefCell;

/// A compiler and how many compilations it has done.
#[derive(Debug)]
struct Slot {
    level: OptLevel,
    compiler: JitCompiler,
    uses: usize,
}

thread_local! {
    static JIT: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// Compiles `job` with this thread's compiler for its kind and level. Returns the program
/// and whether a compiler was recycled (created anew because the old one reached
/// `recycle_threshold` uses).
pub(crate) fn compile(
    job: &CompileJob,
    limits: &Limits,
    recycle_threshold: usize,
) -> (Result<(CompiledProgram, CompilePhases), CompileError>, bool) {
    if job.kind == CompileKind::Aot {
        return (Err(CompileError::Unsupported(job.kind)), false);
    }
    JIT.with(|slots| {
        let mut slots = slots.borrow_mut();
        let mut recycled = false;
        if let Some(i) = slots.iter().position(|s| s.level == job.opt_level)
            && slots[i].uses >= recycle_threshold.max(1)
        {
            slots.swap_remove(i);
            recycled = true;
        }
        let i = match slots.iter().position(|s| s.level == job.opt_level) {
            Some(i) => i,
            None => match JitCompiler::new(job.opt_level) {
                Ok(compiler) => {
                    slots.push(Slot { level: job.opt_level, compiler, uses: 0 });
                    slots.len() - 1
                }
                Err(e) => return (Err(e.into()), recycled),
            },
        };
        let slot = &mut slots[i];
        slot.uses += 1;
        let result =
            compile_jit(&mut slot.compiler, &job.symbol, &job.bytecode, job.key.spec_id, limits);
        (result, recycled)
    })
}

/// Drops this thread's compilers. Programs they compiled stay valid.
pub fn clear() {
    JIT.with(|slots| slots.borrow_mut().clear());
}

/// Number of compilers this thread holds.
pub fn count() -> usize {
    JIT.with(|slots| slots.borrow().len())
}
