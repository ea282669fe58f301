//! Where [`JitEvm`](super::JitEvm) gets compiled programs: the synchronous [`JitCache`]
//! or the compile service ([`RuntimeSource`]).

use super::JitCache;
use crate::{Lookup, Runtime};
use revm::primitives::Bytes;
use revmc_cache::{CompiledProgram, RuntimeCacheKey};
use std::borrow::Borrow;
use std::sync::Arc;

/// Supplies compiled programs for frames, and hears how much gas interpreted frames used.
pub trait ProgramSource {
    /// The program to run a frame of `code` (`key`: its hash and spec) with, or `None` to
    /// interpret it. Asked once per frame, when it first runs.
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>>;

    /// Whether to look up a frame of `code` whose hash is not known yet (a creation
    /// frame's init code): the lookup needs its keccak. `false` runs the frame
    /// interpreted, unhashed and unreported.
    fn look_up_unhashed(&mut self, code: &[u8]) -> bool {
        let _ = code;
        true
    }

    /// Whether [`Self::interpreted`] wants to hear of interpreted frames (false: the
    /// frame loop skips taking their code).
    fn records_interpreted(&self) -> bool {
        false
    }

    /// An interpreted frame of `code` ended having used `gas`; called only when
    /// [`Self::records_interpreted`].
    fn interpreted(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        let _ = (key, code, gas);
    }

    /// A frame of first-tier code of `code` ended having used `gas` (see
    /// [`Tier`](revmc_cache::Tier)); called only when [`Self::records_interpreted`].
    fn first_tier_ran(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        let _ = (key, code, gas);
    }

    /// A frame of optimized code of `code` compiled from a profile ended having used
    /// `gas`, after its code left it to the interpreter at a block that had not run when
    /// profiled; called only when [`Self::records_interpreted`].
    fn left_cold(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        let _ = (key, code, gas);
    }
}

/// A borrowed source: `JitEvm::new(evm, &mut source)` keeps `source` for later.
impl<S: ProgramSource + ?Sized> ProgramSource for &mut S {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        (**self).program(key, code)
    }

    fn look_up_unhashed(&mut self, code: &[u8]) -> bool {
        (**self).look_up_unhashed(code)
    }

    fn records_interpreted(&self) -> bool {
        (**self).records_interpreted()
    }

    fn interpreted(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        (**self).interpreted(key, code, gas)
    }

    fn first_tier_ran(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        (**self).first_tier_ran(key, code, gas)
    }

    fn left_cold(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        (**self).left_cold(key, code, gas)
    }
}

impl ProgramSource for JitCache {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        self.get_or_compile(key, code)
    }
}

/// How a [`RuntimeSource`] treats code that is not compiled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMiss {
    /// Interpret it and report its gas; it is compiled in the background once hot.
    Background,
    /// Compile it now and wait (`compile_sync`); interpret only if compilation fails.
    Compile,
}

/// The compile service as a program source. `R` is how the service is held: `&Runtime`,
/// or `Arc<Runtime>` for a source (and a [`JitEvm`](super::JitEvm)) with no borrowed
/// lifetime.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeSource<R> {
    /// The service.
    pub runtime: R,
    /// What to do on a miss.
    pub on_miss: OnMiss,
}

impl<R: Borrow<Runtime>> RuntimeSource<R> {
    /// A source asking `runtime`, treating misses as `on_miss` says.
    pub fn new(runtime: R, on_miss: OnMiss) -> Self {
        Self { runtime, on_miss }
    }
}

impl<R: Borrow<Runtime>> ProgramSource for RuntimeSource<R> {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        let runtime = self.runtime.borrow();
        match runtime.lookup(key) {
            Lookup::Compiled(program) => Some(program),
            Lookup::Interpret(_) if self.on_miss == OnMiss::Compile && runtime.is_enabled() => {
                runtime.compile_sync(key, code).ok()
            }
            Lookup::Interpret(_) => None,
        }
    }

    /// In the background mode, init code is hashed and looked up from its second run on
    /// ([`Runtime::seen_before`]); compiling on a miss looks everything up.
    fn look_up_unhashed(&mut self, code: &[u8]) -> bool {
        self.on_miss == OnMiss::Compile || self.runtime.borrow().seen_before(code)
    }

    fn records_interpreted(&self) -> bool {
        self.on_miss == OnMiss::Background
    }

    fn interpreted(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        if self.on_miss == OnMiss::Background {
            self.runtime.borrow().record_interpreted(key, code, gas);
        }
    }

    fn first_tier_ran(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        if self.on_miss == OnMiss::Background {
            self.runtime.borrow().record_first_tier(key, code, gas);
        }
    }

    fn left_cold(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        if self.on_miss == OnMiss::Background {
            self.runtime.borrow().record_left_cold(key, code, gas);
        }
    }
}
