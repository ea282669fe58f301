//! Each worker thread's compilers, in thread-locals.
//!
//! A compiler owns LLVM state (a target machine, a JITDylib) that must not be shared
//! between threads, so each worker keeps its own, created on the first job that needs it.
//! After `recycle_threshold` compilations a compiler is dropped and a fresh one made, which
//! bounds whatever LLVM accumulates per compiler; code already compiled stays valid, since
//! each program's backing holds its dylib. [`clear`] drops them all, at shutdown.

use crate::compile::{compile_aot, compile_jit_in};
use crate::process::InChild;
use crate::{CompileError, CompileJob, CompileKind, CompilePhases, Compiled};
use revmc_ir::Limits;
use revmc_llvm::{AotCompiler, JitCompiler, LlvmError, OptLevel};
use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// A compiler and how many compilations it has done.
#[derive(Debug)]
struct Slot<C> {
    level: OptLevel,
    compiler: C,
    uses: usize,
}

type Slots<C> = RefCell<Vec<Slot<C>>>;

thread_local! {
    static JIT: Slots<JitCompiler> = const { RefCell::new(Vec::new()) };
    static AOT: Slots<AotCompiler> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's compiler of `level` from `slots`, creating it with `new`
/// and replacing it once it has done `recycle_threshold` compilations. Also returns
/// whether a compiler was recycled.
fn with_compiler<C: 'static, T>(
    slots: &'static LocalKey<Slots<C>>,
    level: OptLevel,
    recycle_threshold: usize,
    new: impl FnOnce(OptLevel) -> Result<C, LlvmError>,
    f: impl FnOnce(&mut C) -> Result<T, CompileError>,
) -> (Result<T, CompileError>, bool) {
    slots.with(|slots| {
        let mut slots = slots.borrow_mut();
        let mut recycled = false;
        if let Some(i) = slots.iter().position(|s| s.level == level)
            && slots[i].uses >= recycle_threshold.max(1)
        {
            slots.swap_remove(i);
            recycled = true;
        }
        let i = match slots.iter().position(|s| s.level == level) {
            Some(i) => i,
            None => match new(level) {
                Ok(compiler) => {
                    slots.push(Slot { level, compiler, uses: 0 });
                    slots.len() - 1
                }
                Err(e) => return (Err(e.into()), recycled),
            },
        };
        let slot = &mut slots[i];
        slot.uses += 1;
        (f(&mut slot.compiler), recycled)
    })
}

/// Compiles `job` with this thread's compiler for its kind and level, a JIT job's LLVM
/// work in a child process when `child` says so. Returns the result and whether a
/// compiler was recycled (created anew because the old one reached `recycle_threshold`
/// uses).
pub(crate) fn compile(
    job: &CompileJob,
    limits: &Limits,
    recycle_threshold: usize,
    dump_dir: Option<&std::path::Path>,
    child: Option<InChild<'_>>,
) -> (Result<(Compiled, CompilePhases), CompileError>, bool) {
    let (code, spec) = (&job.bytecode[..], job.key.spec_id);
    if let Some(dir) = dump_dir {
        let path = dir.join(format!("{}.hex", job.symbol));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, alloy_primitives::hex::encode(code)));
        if let Err(e) = written {
            tracing::warn!("dumping {}: {e}", path.display());
        }
    }
    revmc_llvm::with_dump_dir(dump_dir, || match job.kind {
        CompileKind::Jit => {
            with_compiler(&JIT, job.opt_level, recycle_threshold, JitCompiler::new, |c| {
                let (symbol, profiling) = (&job.symbol, &job.profiling);
                let (program, phases) =
                    compile_jit_in(c, symbol, code, spec, limits, profiling, child)?;
                Ok((Compiled::Program(Arc::new(program.with_tier(job.tier))), phases))
            })
        }
        CompileKind::Aot => {
            with_compiler(&AOT, job.opt_level, recycle_threshold, AotCompiler::new, |c| {
                let (library, phases) = compile_aot(c, &job.symbol, code, spec, limits)?;
                Ok((Compiled::Library(library), phases))
            })
        }
    })
}

/// Drops this thread's compilers. Programs they compiled stay valid.
pub fn clear() {
    JIT.with(|slots| slots.borrow_mut().clear());
    AOT.with(|slots| slots.borrow_mut().clear());
}
