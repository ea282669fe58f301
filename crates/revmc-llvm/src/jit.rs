//! The JIT compiler: IR → LLVM module → optimized object → code in an ORC `JITDylib`.

use crate::orc::dylib::DylibGuard;
use crate::orc::tracker::Tracker;
use crate::orc::{check, lljit};
use crate::{LlvmError, OptLevel, opt};
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::targets::TargetMachine;
use llvm_sys::orc2::lljit::LLVMOrcLLJITAddObjectFileWithRT;
use revmc_ir::abi::RawEvmFn;
use revmc_ir::ir::Function;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Stack given to LLVM for one compilation (reserved virtually, committed as used).
pub const COMPILE_STACK: usize = 256 << 20;

/// Compiles IR functions into one `JITDylib`. Not `Sync`: use one per thread.
#[derive(Debug)]
pub struct JitCompiler {
    dylib: Arc<DylibGuard>,
    /// The code generation pipeline of `machine`, declared first so it is dropped first.
    codegen: crate::codegen::Codegen,
    machine: TargetMachine,
    opt_level: OptLevel,
    chunk_cost: usize,
    /// Whether the first tier copies a word in one 32-byte move (`lower::memory`).
    wide_copies: bool,
    next_symbol: u64,
}

/// Owns the native code of one compiled function. Dropping it removes the code from
/// the JIT (its `ResourceTracker`), then releases its share of the `JITDylib`.
#[derive(Debug)]
pub struct JitCodeBacking {
    // Field order is drop order: the tracker's code must go before the dylib may.
    #[allow(dead_code, reason = "held for its Drop, which frees the code")]
    tracker: Tracker,
    #[allow(dead_code, reason = "held so the dylib outlives the code; released after the tracker")]
    dylib: Arc<DylibGuard>,
    symbol: String,
    /// Object bytes counted in [`live_code_bytes`].
    size: usize,
}

/// Object bytes of all JIT code currently loaded in this process (every live
/// [`JitCodeBacking`]): what eviction must bring down.
static LIVE_CODE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Object bytes of the JIT code loaded in this process right now.
pub fn live_code_bytes() -> usize {
    LIVE_CODE_BYTES.load(Ordering::Relaxed)
}

impl Drop for JitCodeBacking {
    fn drop(&mut self) {
        // The tracker field, dropped right after this, removes the code.
        LIVE_CODE_BYTES.fetch_sub(self.size, Ordering::Relaxed);
    }
}

impl JitCodeBacking {
    /// The symbol name of the compiled function.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
}

/// A compiled EVM function and the code backing it.
#[derive(Debug)]
pub struct JitFunction {
    /// Entry point; valid while `backing` lives.
    pub entry: RawEvmFn,
    /// Keeps the code alive.
    pub backing: JitCodeBacking,
    /// Size of the object file handed to the JIT, in bytes.
    pub object_size: usize,
    /// The bytes of it linking maps into memory ([`crate::loaded_size`]).
    pub loaded_size: usize,
    /// Time spent lowering, optimizing and generating code.
    pub compile_time: Duration,
    /// The same, by phase.
    pub phases: PhaseTimes,
}

/// Backend time by phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    /// IR → LLVM IR, including module verification.
    pub lower: Duration,
    /// The LLVM pass pipeline.
    pub optimize: Duration,
    /// Machine code generation into an object.
    pub codegen: Duration,
    /// Adding the object to the JIT, linking, and symbol lookup.
    pub link: Duration,
}

impl JitCompiler {
    /// A compiler with its own `JITDylib` in the process-wide LLJIT.
    pub fn new(opt_level: OptLevel) -> Result<Self, LlvmError> {
        lljit()?;
        let machine = opt::host_target_machine(opt_level)?;
        let wide_copies = opt::has_32_byte_vectors(&machine);
        Ok(Self {
            dylib: Arc::new(DylibGuard::new()?),
            codegen: crate::codegen::Codegen::new(&machine)?,
            machine,
            opt_level,
            chunk_cost: revmc_ir::DEFAULT_FIRST_TIER_CHUNK_COST,
            wide_copies,
            next_symbol: 0,
        })
    }

    /// Splits first-tier programs whose estimated compile cost exceeds `cost` from now
    /// on ([`revmc_ir::Limits::first_tier_chunk_cost`], its default at first).
    pub fn set_chunk_cost(&mut self, cost: usize) {
        self.chunk_cost = cost;
    }

    /// Whether the first tier copies a word in one 32-byte vector move (the default where
    /// the host has AVX) or in two 16-byte ones, which every 64-bit target has. Both
    /// forms are tested on any host through this.
    pub fn set_wide_copies(&mut self, wide: bool) {
        self.wide_copies = wide;
    }

    /// The optimization level.
    pub fn opt_level(&self) -> OptLevel {
        self.opt_level
    }

    /// Compiles `func` and links it into this compiler's dylib.
    ///
    /// LLVM recurses deeply on some shapes of huge functions (thousands of jump targets);
    /// the work runs on a fresh stack of `COMPILE_STACK` bytes so that no input can
    /// overflow the caller's stack.
    pub fn compile(&mut self, func: &Function) -> Result<JitFunction, LlvmError> {
        self.compile_named(func, "revmc_evm")
    }

    /// As [`Self::compile`], naming the function `{name}_{n}`, where `n` makes the symbol
    /// unique in this compiler's dylib.
    pub fn compile_named(&mut self, func: &Function, name: &str) -> Result<JitFunction, LlvmError> {
        stacker::grow(COMPILE_STACK, || self.compile_on_this_stack(func, name, None))
    }

    /// As [`Self::compile_named`], with code that records the blocks it runs in
    /// `block_profile` ([`crate::lower::LowerOptions::block_profile`]), whose `len`
    /// bytes are indexed by profile key (`revmc_ir::profile::key`): a buffer of
    /// `key(code_len, false)` bytes covers every block of the code, a shorter one only
    /// the blocks whose keys it holds.
    ///
    /// # Safety
    ///
    /// `block_profile` must point to `len` writable bytes that stay valid while the
    /// returned function's code can run: the code stores to them unchecked.
    pub unsafe fn compile_profiled(
        &mut self,
        func: &Function,
        name: &str,
        block_profile: *mut u8,
        len: usize,
    ) -> Result<JitFunction, LlvmError> {
        let profile = Some(crate::lower::ProfileBuffer { address: block_profile as usize, len });
        stacker::grow(COMPILE_STACK, || self.compile_on_this_stack(func, name, profile))
    }

    fn compile_on_this_stack(
        &mut self,
        func: &Function,
        name: &str,
        block_profile: Option<crate::lower::ProfileBuffer>,
    ) -> Result<JitFunction, LlvmError> {
        let start = Instant::now();
        let symbol = self.reserve_symbol(name);
        let (object, phases) = self.emit_on_this_stack(func, &symbol, block_profile)?;
        self.link(object, symbol, phases, start)
    }

    /// A symbol `{name}_{n}` that no function of this compiler's dylib has, for a function
    /// compiled elsewhere ([`Self::emit_object`], in another process) and linked here
    /// ([`Self::link_object`]).
    pub fn reserve_symbol(&mut self, name: &str) -> String {
        self.next_symbol += 1;
        format!("{name}_{}", self.next_symbol - 1)
    }

    /// Compiles `func` into a relocatable object defining `symbol`, without linking it:
    /// the bytes [`Self::link_object`] takes, here or in another process of this host.
    pub fn emit_object(
        &mut self,
        func: &Function,
        symbol: &str,
    ) -> Result<(Vec<u8>, PhaseTimes), LlvmError> {
        let (object, phases) =
            stacker::grow(COMPILE_STACK, || self.emit_on_this_stack(func, symbol, None))?;
        Ok((object.as_slice().to_vec(), phases))
    }

    /// Links `object` into this compiler's dylib and returns its function `symbol`;
    /// `phases` are the times of the compilation that made it.
    ///
    /// # Safety
    ///
    /// `object` must come from [`Self::emit_object`] of this build, at this compiler's
    /// level, on this host, with `symbol` from [`Self::reserve_symbol`] of this compiler:
    /// its code is mapped and returned as an [`RawEvmFn`] entry, unchecked.
    pub unsafe fn link_object(
        &mut self,
        object: &[u8],
        symbol: &str,
        phases: PhaseTimes,
    ) -> Result<JitFunction, LlvmError> {
        let buffer = MemoryBuffer::create_from_memory_range_copy(object, symbol);
        let elsewhere = phases.lower + phases.optimize + phases.codegen;
        let mut function = self.link(buffer, symbol.to_owned(), phases, Instant::now())?;
        // The compilation's time, not only the link's.
        function.compile_time += elsewhere;
        Ok(function)
    }

    fn emit_on_this_stack(
        &mut self,
        func: &Function,
        symbol: &str,
        block_profile: Option<crate::lower::ProfileBuffer>,
    ) -> Result<(MemoryBuffer<'static>, PhaseTimes), LlvmError> {
        let mut phases = PhaseTimes::default();
        let options = crate::lower::LowerOptions {
            chunk_cost: self.chunk_cost,
            wide_copies: self.wide_copies,
            block_profile,
        };
        let object = crate::object::emit_object(
            func,
            symbol,
            &self.machine,
            Some(&mut self.codegen),
            self.opt_level,
            &options,
            &mut phases,
            |_| Ok(()),
        )?;
        Ok((object, phases))
    }

    /// Adds `object` to the dylib under a tracker of its own and looks up `symbol`.
    fn link(
        &mut self,
        object: MemoryBuffer<'static>,
        symbol: String,
        mut phases: PhaseTimes,
        start: Instant,
    ) -> Result<JitFunction, LlvmError> {
        let t = Instant::now();
        let object_size = object.get_size();
        let loaded_size = crate::object::loaded_size(object.as_slice());
        let tracker = Tracker::new(&self.dylib);
        // SAFETY: ORC takes ownership of the buffer, so it must not be disposed by inkwell.
        let err = unsafe {
            let raw = object.as_mut_ptr();
            std::mem::forget(object);
            LLVMOrcLLJITAddObjectFileWithRT(self.dylib.jit.0, tracker.0, raw)
        };
        check(err)?;
        let address = self.dylib.lookup(&symbol)?;
        if address == 0 {
            return Err(LlvmError::Orc(format!("{symbol} resolved to null")));
        }
        // SAFETY: the symbol is a function lowered with the `RawEvmFn` signature, and its
        // code stays mapped while the backing (tracker) lives.
        let entry = unsafe { std::mem::transmute::<usize, RawEvmFn>(address as usize) };
        LIVE_CODE_BYTES.fetch_add(object_size, Ordering::Relaxed);
        let backing =
            JitCodeBacking { tracker, dylib: self.dylib.clone(), symbol, size: object_size };
        phases.link = t.elapsed();
        Ok(JitFunction {
            entry,
            backing,
            object_size,
            loaded_size,
            compile_time: start.elapsed(),
            phases,
        })
    }

    /// Whether `symbol` currently resolves in this compiler's dylib.
    pub fn is_live(&self, symbol: &str) -> bool {
        self.dylib.lookup(symbol).is_ok()
    }
}
