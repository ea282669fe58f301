//! A compiled program: an entry point and whatever keeps its code alive.

use revmc_ir::abi::RawEvmFn;
use std::any::Any;
use std::fmt;

/// How a program's code was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramKind {
    /// In-process, by the ORC JIT.
    Jit,
    /// Ahead of time, loaded from a shared library.
    Aot,
}

/// Which compilation produced a program. The runtime compiles hot code cheaply first and
/// recompiles it optimized once it stays hot; AOT libraries are always optimized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tier {
    /// The cheap first compilation (e.g. LLVM O0): ready soon, slower code.
    First,
    /// The optimizing compilation.
    #[default]
    Optimized,
}

/// A compiled EVM function. Dropping it drops `backing`, which frees the code; share it
/// as `Arc<CompiledProgram>` so the code outlives every frame running it.
pub struct CompiledProgram {
    entry: RawEvmFn,
    kind: ProgramKind,
    tier: Tier,
    code_bytes: usize,
    backing: Box<dyn Any + Send + Sync>,
}

impl CompiledProgram {
    /// A program entering at `entry`, whose code (`code_bytes` bytes of it) stays valid
    /// while `backing` lives.
    ///
    /// # Safety
    ///
    /// `entry` must be a function with the `RawEvmFn` ABI, compiled from the bytecode and
    /// spec this program is stored under, and must stay callable until `backing` drops.
    pub unsafe fn new(
        entry: RawEvmFn,
        kind: ProgramKind,
        code_bytes: usize,
        backing: Box<dyn Any + Send + Sync>,
    ) -> Self {
        Self { entry, kind, tier: Tier::Optimized, code_bytes, backing }
    }

    /// The same program, marked as produced by `tier` (the default is
    /// [`Tier::Optimized`]).
    pub fn with_tier(self, tier: Tier) -> Self {
        Self { tier, ..self }
    }

    /// The compilation tier that produced it.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The entry point; valid for as long as `self` is alive.
    pub fn entry(&self) -> RawEvmFn {
        self.entry
    }

    /// JIT or AOT.
    pub fn kind(&self) -> ProgramKind {
        self.kind
    }

    /// Size of the native code and data, counted against the cache's byte budget.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }

    /// The backing, for callers that know its type.
    pub fn backing(&self) -> &(dyn Any + Send + Sync) {
        &*self.backing
    }
}

impl fmt::Debug for CompiledProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledProgram")
            .field("entry", &(self.entry as *const ()))
            .field("kind", &self.kind)
            .field("tier", &self.tier)
            .field("code_bytes", &self.code_bytes)
            .finish_non_exhaustive()
    }
}
