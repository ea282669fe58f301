//! One compilation, start to finish: bytecode → IR → native code → [`CompiledProgram`].

use crate::Library;
use crate::Profiling;
use crate::process::InChild;
use crate::{CompileError, CompilePhases};
use revmc_cache::{BlockProfile, CompiledProgram, ProgramKind};
use revmc_ir::{Limits, OptLevel, RanBlocks, SpecId, translate_profiled};
use revmc_llvm::{AotCompiler, JitCompiler};
use std::time::Instant;

/// Translates `code` (only the blocks in `ran`, if given), and refuses it for an
/// optimizing `level` whose estimated cost is past the limits' (`Limits::admit_optimizing`).
fn translate_timed(
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
    level: OptLevel,
    ran: Option<&RanBlocks>,
) -> Result<(revmc_ir::ir::Function, std::time::Duration), CompileError> {
    if code.len() > limits.max_code_len {
        return Err(CompileError::TooLarge { len: code.len(), max: limits.max_code_len });
    }
    let min = limits.min_loop_free_instructions;
    if let Some(instructions) = revmc_ir::analysis::work::loop_free_instructions(code)
        && instructions < min
    {
        return Err(CompileError::Unprofitable { instructions, min });
    }
    let start = Instant::now();
    let _span = tracing::debug_span!("translate", len = code.len()).entered();
    let ir = translate_profiled(code, spec, limits, ran)?;
    limits.admit_optimizing(&ir, level)?;
    crate::panic::failpoint();
    Ok((ir, start.elapsed()))
}

/// The translation time joined with the backend's phase times.
fn phases(translate: std::time::Duration, p: revmc_llvm::PhaseTimes) -> CompilePhases {
    CompilePhases {
        translate,
        lower: p.lower,
        optimize: p.optimize,
        codegen: p.codegen,
        link: p.link,
    }
}

/// AOT-compiles `code` for `spec` into a shared library exporting `symbol`.
pub fn compile_aot(
    compiler: &AotCompiler,
    symbol: &str,
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
) -> Result<(Library, CompilePhases), CompileError> {
    let (ir, translated) = translate_timed(code, spec, limits, compiler.opt_level(), None)?;
    let library = {
        let _span = tracing::debug_span!("aot", level = ?compiler.opt_level()).entered();
        compiler.compile(&ir, symbol)?
    };
    let phases = phases(translated, library.phases);
    Ok((Library { bytes: library.bytes, symbol: library.symbol }, phases))
}

/// JIT-compiles `code` for `spec` with `compiler`, naming the function after `symbol`.
pub fn compile_jit(
    compiler: &mut JitCompiler,
    symbol: &str,
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
) -> Result<(CompiledProgram, CompilePhases), CompileError> {
    compile_jit_in(compiler, symbol, code, spec, limits, &Profiling::Off, None)
}

/// As [`compile_jit`], with `profiling`, and with LLVM's work in a child process when
/// `child` says so (`process.rs`): the object is linked into `compiler`. Code that
/// records its profile is compiled here: its profile is in this process (the pool never
/// gives such a job a child).
pub(crate) fn compile_jit_in(
    compiler: &mut JitCompiler,
    symbol: &str,
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
    profiling: &Profiling,
    child: Option<InChild<'_>>,
) -> Result<(CompiledProgram, CompilePhases), CompileError> {
    let level = compiler.opt_level();
    let (ir, translated) = translate_timed(code, spec, limits, level, profiling.ran())?;
    let record = matches!(profiling, Profiling::Record).then(|| BlockProfile::new(code.len()));
    let function = match child.filter(|_| record.is_none()) {
        None => {
            let _span = tracing::debug_span!("backend", ?level).entered();
            compiler.set_chunk_cost(limits.first_tier_chunk_cost);
            match &record {
                // SAFETY: the profile's bytes (which do not move with it) go into the
                // program below, which outlives its code.
                Some(profile) => unsafe {
                    let (bytes, len) = profile.buffer().expect("a new profile records");
                    compiler.compile_profiled(&ir, symbol, bytes, len)?
                },
                None => compiler.compile_named(&ir, symbol)?,
            }
        }
        // Refused above if at all, before the child starts, which translates again: the
        // deadline counts from its start to its reply.
        Some(child) => {
            let _span = tracing::debug_span!("child", ?level).entered();
            let ran = profiling.ran();
            crate::process::compile_in_child(child, compiler, symbol, code, spec, limits, ran)?
        }
    };
    let phases = phases(translated, function.phases);
    let (entry, size) = (function.entry, function.object_size);
    // SAFETY: `entry` was compiled from `code` for `spec` with the `RawEvmFn` ABI (here or
    // by a child of this build, from the same translation), and the backing that keeps it
    // mapped moves into the program, which adds its profile, if any, to its size.
    let mut program =
        unsafe { CompiledProgram::new(entry, ProgramKind::Jit, size, Box::new(function.backing)) };
    if let Some(profile) = record {
        // SAFETY: the code was compiled to store into this profile only.
        program = unsafe { program.with_profile(profile) };
    }
    if let Profiling::Compile { ran, widenings } = profiling {
        // Frames that leave the code at blocks outside `ran` add what they run there.
        let profile = BlockProfile::from_ran(code.len(), ran);
        program = program.compiled_from_profile(profile, *widenings);
    }
    Ok((program, phases))
}
