//! A synchronous compile-on-first-sight cache: the simplest policy, used until the
//! background compile service takes over.

use crate::JitProgram;
use revm::primitives::B256;
use revmc_ir::SpecId;
use revmc_llvm::{JitCompiler, OptLevel};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Compiled programs by (code hash, spec); `None` remembers a refusal (negative cache).
#[derive(Debug)]
pub struct JitCache {
    compiler: JitCompiler,
    programs: HashMap<(B256, SpecId), Option<Arc<JitProgram>>>,
    /// Compilations that failed, with their errors, for diagnostics.
    pub failures: Vec<(B256, SpecId, String)>,
    /// Total time spent compiling (translation and backend).
    pub compile_time: Duration,
}

impl JitCache {
    /// An empty cache compiling at `opt_level`.
    pub fn new(opt_level: OptLevel) -> Result<Self, revmc_llvm::LlvmError> {
        Ok(Self {
            compiler: JitCompiler::new(opt_level)?,
            programs: HashMap::new(),
            failures: Vec::new(),
            compile_time: Duration::ZERO,
        })
    }

    /// The program for `code` (whose hash is `hash`) under `spec`, compiling it on first sight.
    pub fn get_or_compile(
        &mut self,
        hash: B256,
        spec: SpecId,
        code: &[u8],
    ) -> Option<Arc<JitProgram>> {
        if let Some(p) = self.programs.get(&(hash, spec)) {
            return p.clone();
        }
        let start = Instant::now();
        let compiled = JitProgram::compile(&mut self.compiler, code, spec);
        self.compile_time += start.elapsed();
        let program = match compiled {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                self.failures.push((hash, spec, e.to_string()));
                None
            }
        };
        self.programs.insert((hash, spec), program.clone());
        program
    }

    /// Drops every program (their code is freed once no frame uses it) and the negative
    /// cache. Without eviction, a long run must call this to bound JIT memory.
    pub fn clear(&mut self) {
        self.programs.clear();
    }

    /// Number of programs compiled successfully.
    pub fn compiled(&self) -> usize {
        self.programs.values().filter(|p| p.is_some()).count()
    }
}
