//! A compiled program: an entry point and whatever keeps its code alive.

use crate::BlockProfile;
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
    /// Whether its code was compiled from a profile, leaving what did not run to the
    /// interpreter (`revmc_ir::translate_profiled`).
    profiled: bool,
    backing: Box<dyn Any + Send + Sync>,
    /// Where its code records the blocks it runs, if it does. Declared after `backing`,
    /// so dropped after the code is.
    profile: Option<BlockProfile>,
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
        Self {
            entry,
            kind,
            tier: Tier::Optimized,
            code_bytes,
            profile: None,
            profiled: false,
            backing,
        }
    }

    /// The same program, whose code records the blocks it runs in `profile`.
    ///
    /// # Safety
    ///
    /// The code must store into `profile` and nowhere else: it is kept alive as long as
    /// the program (its bytes do not move with it).
    pub unsafe fn with_profile(self, profile: BlockProfile) -> Self {
        Self { profile: Some(profile), ..self }
    }

    /// The same program, marked as compiled from a profile.
    pub fn compiled_from_profile(self) -> Self {
        Self { profiled: true, ..self }
    }

    /// Where its code records the blocks it runs, if it does.
    pub fn profile(&self) -> Option<&BlockProfile> {
        self.profile.as_ref()
    }

    /// Whether its code was compiled from a profile.
    pub fn is_profiled(&self) -> bool {
        self.profiled
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
            .field("profile", &self.profile)
            .field("profiled", &self.profiled)
            .finish_non_exhaustive()
    }
}
