//! A synchronous compile-on-first-sight cache on the calling thread: the simplest
//! policy, for tools and tests. Nodes use the compile service ([`crate::Runtime`]).

use revm::primitives::map::HashMap;
use revmc_cache::{CompiledProgram, RuntimeCacheKey};
use revmc_ir::Limits;
use revmc_worker::{CompileError, OptLevel, SyncCompiler};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Compiled programs by key; `None` remembers a refusal (negative cache).
#[derive(Debug)]
pub struct JitCache {
    compiler: SyncCompiler,
    programs: HashMap<RuntimeCacheKey, Option<Arc<CompiledProgram>>>,
    /// Compilations that failed, with their errors, for diagnostics.
    pub failures: Vec<(RuntimeCacheKey, String)>,
    /// Total time spent compiling (translation and backend).
    pub compile_time: Duration,
}

impl JitCache {
    /// An empty cache compiling at `opt_level`.
    pub fn new(opt_level: OptLevel) -> Result<Self, CompileError> {
        Ok(Self {
            compiler: SyncCompiler::new(opt_level)?,
            programs: HashMap::default(),
            failures: Vec::new(),
            compile_time: Duration::ZERO,
        })
    }

    /// The same, translating under `limits` (e.g. another variant bound, for tuning).
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { compiler: self.compiler.with_limits(limits), ..self }
    }

    /// The program for `code` under `key`, compiling it on first sight.
    pub fn get_or_compile(
        &mut self,
        key: RuntimeCacheKey,
        code: &[u8],
    ) -> Option<Arc<CompiledProgram>> {
        if let Some(p) = self.programs.get(&key) {
            return p.clone();
        }
        let start = Instant::now();
        let compiled = self.compiler.compile("revmc_evm", code, key.spec_id);
        self.compile_time += start.elapsed();
        let program = match compiled {
            Ok((p, _)) => Some(Arc::new(p)),
            Err(e) => {
                self.failures.push((key, e.to_string()));
                None
            }
        };
        self.programs.insert(key, program.clone());
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
