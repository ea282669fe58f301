//! A synchronous compile-on-first-sight cache on the calling thread: the simplest
//! policy, for tools and tests. Nodes use the compile service ([`crate::Runtime`]).

use revm::primitives::map::HashMap;
use revmc_cache::{CompiledProgram, RuntimeCacheKey};
use revmc_ir::Limits;
use revmc_worker::{CompileError, OptLevel, Profiling, RanBlocks, SyncCompiler};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A program [`JitCache::optimize_what_ran`] compiled: its key and code, and the blocks
/// it compiled.
#[derive(Debug, Clone)]
pub struct CompiledFromProfile {
    /// The program's key.
    pub key: RuntimeCacheKey,
    /// Its bytecode.
    pub code: Vec<u8>,
    /// The blocks the first tier ran, which were compiled.
    pub ran: Arc<RanBlocks>,
}

/// The code of a program compiled at the first tier, to optimize later.
type FirstTierCode = (RuntimeCacheKey, Vec<u8>);

/// Compiled programs by key; `None` remembers a refusal (negative cache).
#[derive(Debug)]
pub struct JitCache {
    compiler: SyncCompiler,
    /// With two tiers ([`JitCache::tiered`]): the optimizing compiler, and the code of
    /// every program still at the first tier.
    optimizing: Option<(SyncCompiler, Vec<FirstTierCode>)>,
    /// Whether first sights compile code that records the blocks it runs (always with
    /// two tiers).
    recording: bool,
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
            optimizing: None,
            recording: false,
            programs: HashMap::default(),
            failures: Vec::new(),
            compile_time: Duration::ZERO,
        })
    }

    /// An empty cache compiling at `first` with code that records the blocks it runs;
    /// [`Self::optimize_what_ran`] compiles them again at `optimizing`, only the blocks
    /// that ran: what the compile service does with `Tuning::compile_what_ran`, here on
    /// the caller's thread and when the caller says.
    pub fn tiered(first: OptLevel, optimizing: OptLevel) -> Result<Self, CompileError> {
        let optimizing = Some((SyncCompiler::new(optimizing)?, Vec::new()));
        Ok(Self { optimizing, recording: true, ..Self::new(first)? })
    }

    /// Whether it has two tiers ([`Self::tiered`]).
    pub fn is_tiered(&self) -> bool {
        self.optimizing.is_some()
    }

    /// The same, compiling code that records the blocks it runs, as the runtime's first
    /// tier does (`Tuning::compile_what_ran`): to measure that code.
    pub fn recording(self) -> Self {
        Self { recording: true, ..self }
    }

    /// The same, translating under `limits` (e.g. another variant bound, for tuning).
    pub fn with_limits(self, limits: Limits) -> Self {
        let optimizing = self.optimizing.map(|(c, codes)| (c.with_limits(limits), codes));
        Self { compiler: self.compiler.with_limits(limits), optimizing, ..self }
    }

    /// With two tiers, compiles every first-tier program again at the optimizing level,
    /// only the blocks it has run so far, and replaces it (frames running it keep it).
    /// A program whose optimizing compilation fails keeps its first-tier code; one that
    /// has not run yet waits for a later call. Returns what was compiled from which
    /// profile.
    pub fn optimize_what_ran(&mut self) -> Vec<CompiledFromProfile> {
        let Some((compiler, codes)) = &mut self.optimizing else { return Vec::new() };
        let mut compiled = Vec::new();
        for (key, code) in std::mem::take(codes) {
            let Some(Some(first)) = self.programs.get(&key) else { continue };
            // A program that has not run yet stays at the first tier, for a later call.
            let Some(ran) = first.profile().and_then(|p| p.ran()) else {
                codes.push((key, code));
                continue;
            };
            let ran = Arc::new(ran);
            let profiling = Profiling::Compile { ran: ran.clone(), widenings: 0 };
            let start = Instant::now();
            let program = compiler.compile_with("revmc_evm", &code, key.spec_id, &profiling);
            self.compile_time += start.elapsed();
            match program {
                Ok((p, _)) => {
                    self.programs.insert(key, Some(Arc::new(p)));
                    compiled.push(CompiledFromProfile { key, code, ran });
                }
                Err(e) => self.failures.push((key, e.to_string())),
            }
        }
        compiled
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
        let profiling = match self.recording {
            true => Profiling::Record,
            false => Profiling::Off,
        };
        let compiled = self.compiler.compile_with("revmc_evm", code, key.spec_id, &profiling);
        self.compile_time += start.elapsed();
        let program = match compiled {
            Ok((p, _)) => match &mut self.optimizing {
                Some((_, codes)) => {
                    codes.push((key, code.to_vec()));
                    Some(Arc::new(p.with_tier(revmc_cache::Tier::First)))
                }
                None => Some(Arc::new(p)),
            },
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
        if let Some((_, codes)) = &mut self.optimizing {
            codes.clear();
        }
    }

    /// Number of programs compiled successfully.
    pub fn compiled(&self) -> usize {
        self.programs.values().filter(|p| p.is_some()).count()
    }
}
