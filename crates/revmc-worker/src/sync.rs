//! [`SyncCompiler`]: a JIT compiler owned by the caller, compiling on the calling thread,
//! for tools, tests and the compile-on-first-sight cache. The pool uses its own per-thread
//! compilers.

use crate::compile::compile_jit_in;
use crate::{CompileError, CompilePhases, Profiling, catch_compile_panic};
use revmc_cache::CompiledProgram;
use revmc_ir::{Limits, OptLevel, SpecId};
use revmc_llvm::JitCompiler;

/// See the module documentation.
#[derive(Debug)]
pub struct SyncCompiler {
    compiler: JitCompiler,
    limits: Limits,
}

impl SyncCompiler {
    /// A compiler at `opt_level`, translating under the default limits.
    pub fn new(opt_level: OptLevel) -> Result<Self, CompileError> {
        Ok(Self { compiler: JitCompiler::new(opt_level)?, limits: Limits::default() })
    }

    /// The same, translating under `limits`.
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// The optimization level.
    pub fn opt_level(&self) -> OptLevel {
        self.compiler.opt_level()
    }

    /// Translates and compiles `code` for `spec` as `symbol`. A compiler that panics is
    /// replaced (it may be half-updated; its programs stay valid) and the panic returned as
    /// [`CompileError::Panicked`].
    pub fn compile(
        &mut self,
        symbol: &str,
        code: &[u8],
        spec: SpecId,
    ) -> Result<(CompiledProgram, CompilePhases), CompileError> {
        self.compile_with(symbol, code, spec, &Profiling::Off)
    }

    /// As [`Self::compile`], with `profiling`: code that records the blocks it runs in
    /// the program's profile, or code of only the blocks that ran.
    pub fn compile_with(
        &mut self,
        symbol: &str,
        code: &[u8],
        spec: SpecId,
        profiling: &Profiling,
    ) -> Result<(CompiledProgram, CompilePhases), CompileError> {
        let compiled = catch_compile_panic(|| {
            let (compiler, limits) = (&mut self.compiler, &self.limits);
            compile_jit_in(compiler, symbol, code, spec, limits, profiling, None)
        });
        if matches!(compiled, Err(CompileError::Panicked(_)))
            && let Ok(fresh) = JitCompiler::new(self.compiler.opt_level())
        {
            self.compiler = fresh;
        }
        compiled
    }
}
