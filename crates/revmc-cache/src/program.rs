//! A compiled program: an entry point and whatever keeps its code alive.

use crate::BlockProfile;
use revmc_ir::RanBlocks;
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
    /// How many earlier programs of its code were compiled from a profile, which frames
    /// leaving them at code that had not run then widened (0 for the first).
    widenings: u8,
    backing: Box<dyn Any + Send + Sync>,
    /// The blocks its frames have run, if they are recorded: by its code (a first tier),
    /// or by the interpreter where its frames leave it at code that had not run (a
    /// program compiled from a profile). Declared after `backing`, so dropped after the
    /// code is.
    profile: Option<BlockProfile>,
}

impl CompiledProgram {
    /// A program entering at `entry`, whose code (`code_bytes` bytes of native code and
    /// data) stays valid while `backing` lives.
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
            widenings: 0,
            backing,
        }
    }

    /// The same program, whose code records the blocks it runs in `profile` (counted in
    /// its `code_bytes`).
    ///
    /// # Safety
    ///
    /// The code must store into `profile` and nowhere else: it is kept alive as long as
    /// the program (its bytes do not move with it).
    pub unsafe fn with_profile(self, profile: BlockProfile) -> Self {
        self.keeping(profile)
    }

    /// The same program, marked as compiled from a profile, of which `profile` holds the
    /// blocks (its code stores nothing there: the interpreter adds the blocks that frames
    /// leaving the code run, see [`BlockProfile::from_ran`]), and which `widenings`
    /// earlier programs compiled from a profile of this code had widened.
    ///
    /// # Panics
    ///
    /// If the program already has a profile: its code may store into it.
    pub fn compiled_from_profile(self, profile: BlockProfile, widenings: u8) -> Self {
        Self { profiled: true, widenings, ..self.keeping(profile) }
    }

    /// The same program holding `profile`, counted against the cache's budget. Never
    /// replaces one: code may store into it (`with_profile`).
    fn keeping(self, profile: BlockProfile) -> Self {
        assert!(self.profile.is_none(), "a program holds one profile, for life");
        let code_bytes = self.code_bytes + profile.size_bytes();
        Self { profile: Some(profile), code_bytes, ..self }
    }

    /// The blocks its frames have run, if they are recorded: by its code (a first tier) or
    /// by the interpreter after its frames left it (compiled from a profile).
    pub fn profile(&self) -> Option<&BlockProfile> {
        self.profile.as_ref()
    }

    /// Whether its code was compiled from a profile.
    pub fn is_profiled(&self) -> bool {
        self.profiled
    }

    /// Of a program compiled from a profile: how many programs of its code compiled from
    /// a profile came before it, each replaced because its frames left it at code that
    /// had not run (0 for the one compiled from the first tier's profile).
    pub fn widenings(&self) -> u8 {
        self.widenings
    }

    /// What compiling its code again from its profile would take, if its frames ran
    /// something to compile: the blocks they ran, and the `widenings` of the program
    /// compiled from them. That is what a first-tier program ran (0), or what a program
    /// compiled from a profile ran since, once frames that left it added to its profile
    /// (one more than its own; `None` past 255).
    pub fn profile_to_compile(&self) -> Option<(RanBlocks, u8)> {
        let profile = self.profile.as_ref()?;
        let widenings = match self.tier {
            Tier::First => 0,
            Tier::Optimized if self.profiled && profile.has_grown() => {
                self.widenings.checked_add(1)?
            }
            Tier::Optimized => return None,
        };
        Some((profile.ran()?, widenings))
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

    /// Size of the native code and data, and of its profile if it holds one: what counts
    /// against the cache's byte budget.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }

    /// Of [`code_bytes`](Self::code_bytes), the native code and data: without the
    /// profile.
    pub fn native_code_bytes(&self) -> usize {
        self.code_bytes - self.profile.as_ref().map_or(0, BlockProfile::size_bytes)
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
            .field("widenings", &self.widenings)
            .finish_non_exhaustive()
    }
}
