//! What crosses the worker boundary: jobs in, results out.

use crate::{CompileError, Notifier};
use revmc_cache::{CompiledProgram, RuntimeCacheKey, Tier};
use revmc_ir::{OptLevel, RanBlocks};
use std::sync::Arc;
use std::time::Duration;

/// A compiled AOT shared library: its bytes and the symbol of its function.
#[derive(Debug, Clone)]
pub struct Library {
    /// The ELF shared object.
    pub bytes: Vec<u8>,
    /// The exported function's symbol.
    pub symbol: String,
}

/// What a job produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompileKind {
    /// Code loaded into this process's JIT.
    Jit,
    /// A shared library for the artifact store.
    Aot,
}

/// What a JIT job does with block profiles (`revmc_ir::profile`).
#[derive(Debug, Clone, Default)]
pub enum Profiling {
    /// Nothing: the whole program is compiled, and its code records nothing.
    #[default]
    Off,
    /// The code records the blocks it runs, in the program's
    /// [`BlockProfile`](revmc_cache::BlockProfile) (a first tier).
    Record,
    /// Only the blocks that `ran` are compiled; the others are left to the interpreter
    /// (an optimizing tier, from the first tier's profile or one widened since by frames
    /// that left code compiled from it). The program keeps them in a
    /// [`BlockProfile`](revmc_cache::BlockProfile) its frames widen when they leave to the
    /// interpreter.
    Compile {
        /// The blocks to compile.
        ran: Arc<RanBlocks>,
        /// How many programs of the code compiled from a profile came before
        /// ([`CompiledProgram::widenings`]).
        widenings: u8,
    },
}

impl Profiling {
    /// The blocks to compile, if not all.
    pub fn ran(&self) -> Option<&RanBlocks> {
        match self {
            Self::Compile { ran, .. } => Some(ran),
            _ => None,
        }
    }
}

/// One compilation request.
#[derive(Debug)]
pub struct CompileJob {
    /// JIT or AOT.
    pub kind: CompileKind,
    /// The program's identity; the spec to compile for is `key.spec_id`.
    pub key: RuntimeCacheKey,
    /// The bytecode (shared, not copied).
    pub bytecode: Arc<[u8]>,
    /// Base of the compiled function's symbol name.
    pub symbol: String,
    /// LLVM optimization level.
    pub opt_level: OptLevel,
    /// The tier the program is marked with (JIT programs; AOT libraries are optimized).
    pub tier: Tier,
    /// Block profiles (JIT jobs; AOT ignores it).
    pub profiling: Profiling,
    /// Completed by whoever consumes the result, for callers that wait.
    pub notifier: Option<Arc<Notifier>>,
    /// The runtime's generation at dispatch; results of older generations are dropped.
    pub generation: u64,
}

impl CompileJob {
    /// A copy for the compiler: everything but the notifier, which stays with the worker.
    pub(crate) fn clone_for_compile(&self) -> Self {
        Self {
            kind: self.kind,
            key: self.key,
            bytecode: self.bytecode.clone(),
            symbol: self.symbol.clone(),
            opt_level: self.opt_level,
            tier: self.tier,
            profiling: self.profiling.clone(),
            notifier: None,
            generation: self.generation,
        }
    }
}

/// Time spent per compilation phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompilePhases {
    /// Bytecode → IR.
    pub translate: Duration,
    /// IR → LLVM IR.
    pub lower: Duration,
    /// LLVM passes.
    pub optimize: Duration,
    /// Machine code generation.
    pub codegen: Duration,
    /// Linking into the JIT (or a shared library).
    pub link: Duration,
}

impl std::ops::AddAssign for CompilePhases {
    fn add_assign(&mut self, o: Self) {
        self.translate += o.translate;
        self.lower += o.lower;
        self.optimize += o.optimize;
        self.codegen += o.codegen;
        self.link += o.link;
    }
}

/// What a successful job produced.
#[derive(Debug)]
pub enum Compiled {
    /// A JIT program, ready to run.
    Program(Arc<CompiledProgram>),
    /// A shared library (AOT), to be stored and loaded by the caller.
    Library(Library),
}

impl Compiled {
    /// The JIT program, if this is one.
    pub fn program(&self) -> Option<&Arc<CompiledProgram>> {
        match self {
            Self::Program(p) => Some(p),
            Self::Library(_) => None,
        }
    }
}

/// The outcome of one job, with everything needed to route it.
#[derive(Debug)]
pub struct WorkerResult {
    /// The job's key.
    pub key: RuntimeCacheKey,
    /// The program or library, or why there is none.
    pub outcome: Result<Compiled, CompileError>,
    /// The job's kind.
    pub kind: CompileKind,
    /// The job's tier.
    pub tier: Tier,
    /// The job's notifier, to complete once the result is stored.
    pub notifier: Option<Arc<Notifier>>,
    /// The job's generation.
    pub generation: u64,
    /// Wall time from the job's start to its end.
    pub duration: Duration,
    /// The same, by phase.
    pub phases: CompilePhases,
    /// CPU time the compilation used: its compile thread's (or the worker's), and a compile
    /// child process's. Zero where threads have no CPU clock (off Linux), and for a
    /// compilation abandoned at its deadline, whose thread runs on.
    pub cpu: Duration,
}
