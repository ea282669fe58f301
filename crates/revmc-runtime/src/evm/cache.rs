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
    /// The blocks it was compiled from: what the first tier ran, or a profile that
    /// frames leaving code compiled from a profile widened since.
    pub ran: Arc<RanBlocks>,
}

/// The code of a program that may be compiled again from its profile: at the first tier,
/// or compiled from a profile.
type ProfiledCode = (RuntimeCacheKey, Vec<u8>);

/// Compiled programs by key; `None` remembers a refusal (negative cache).
#[derive(Debug)]
pub struct JitCache {
    compiler: SyncCompiler,
    /// With two tiers ([`JitCache::tiered`]): the optimizing compiler, and the code of
    /// every program at the first tier or compiled from a profile.
    optimizing: Option<(SyncCompiler, Vec<ProfiledCode>)>,
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

    /// With two tiers, compiles programs again at the optimizing level, only the blocks
    /// their frames have run so far, and replaces them (frames running them keep theirs):
    /// every first-tier program that has run, and every program compiled from a profile
    /// whose frames have since left it at blocks it was not compiled from (from the
    /// profile they widened, as the runtime does up to `Tuning::profile_widenings`; here
    /// never whole). A program whose compilation fails keeps its code; one with nothing
    /// new waits for a later call. Returns what was compiled from which profile.
    pub fn optimize_what_ran(&mut self) -> Vec<CompiledFromProfile> {
        let Some((compiler, codes)) = &mut self.optimizing else { return Vec::new() };
        let mut compiled = Vec::new();
        for (key, code) in std::mem::take(codes) {
            let Some(Some(program)) = self.programs.get(&key) else { continue };
            // A program that has not run yet, or run nothing new, waits for a later call.
            let Some((ran, widenings)) = program.profile_to_compile() else {
                codes.push((key, code));
                continue;
            };
            let ran = Arc::new(ran);
            let profiling = Profiling::Compile { ran: ran.clone(), widenings };
            let start = Instant::now();
            let program = compiler.compile_with("revmc_evm", &code, key.spec_id, &profiling);
            self.compile_time += start.elapsed();
            match program {
                Ok((p, _)) => {
                    self.programs.insert(key, Some(Arc::new(p)));
                    codes.push((key, code.clone()));
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
