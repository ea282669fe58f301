//! The builtins compiled code calls through [`EvmContext::builtins`].
//!
//! Each one reproduces the corresponding part of revm's instruction exactly (operand
//! conversion, order of gas charges, error kinds), using revm's own gas functions. They
//! never panic: a panic cannot cross the `extern "C"` boundary.

mod arith;
mod memory;

use revm_interpreter::context_interface::cfg::GasParams;
use revm_interpreter::gas::MemoryGas;
use revmc_ir::InstructionResult;
use revmc_ir::abi::{Builtin, BuiltinFn, CONTINUE, EvmContext, Word};

/// The builtin table, indexed by [`Builtin`].
pub static TABLE: [BuiltinFn; Builtin::COUNT] = {
    let mut t: [BuiltinFn; Builtin::COUNT] = [arith::div; Builtin::COUNT];
    t[Builtin::Div as usize] = arith::div;
    t[Builtin::SDiv as usize] = arith::sdiv;
    t[Builtin::Mod as usize] = arith::rem;
    t[Builtin::SMod as usize] = arith::smod;
    t[Builtin::AddMod as usize] = arith::addmod;
    t[Builtin::MulMod as usize] = arith::mulmod;
    t[Builtin::Exp as usize] = arith::exp;
    t[Builtin::MemoryExpand as usize] = memory::memory_expand;
    t[Builtin::Keccak256 as usize] = memory::keccak256;
    t[Builtin::CallDataLoad as usize] = memory::calldataload;
    t[Builtin::CallDataCopy as usize] = memory::calldatacopy;
    t[Builtin::CodeCopy as usize] = memory::codecopy;
    t[Builtin::MCopy as usize] = memory::mcopy;
    t[Builtin::SetOutput as usize] = memory::set_output;
    t
};

/// Runtime state of one frame, reached through [`EvmContext::runtime`].
#[derive(Debug)]
pub struct FrameState {
    /// EVM memory; `EvmContext::memory` points into it.
    pub memory: Vec<u8>,
    /// Memory size in words and its expansion cost so far.
    pub memory_gas: MemoryGas,
    /// Gas schedule of the frame's spec.
    pub gas_params: GasParams,
}

impl FrameState {
    /// Fresh state for a frame with the gas schedule `gas_params` (cheap to clone).
    pub fn new(gas_params: GasParams) -> Self {
        Self { memory: Vec::new(), memory_gas: MemoryGas::default(), gas_params }
    }
}

type Res = Result<(), InstructionResult>;

/// Converts a builtin body's result into the ABI's return code.
fn code(r: Res) -> u8 {
    match r {
        Ok(()) => CONTINUE,
        Err(e) => e as u8,
    }
}

/// The context and frame state behind a builtin call.
///
/// # Safety
/// `ctx` must be the live context of a frame set up by [`execute`](crate::execute), whose
/// `runtime` points to its [`FrameState`].
unsafe fn frame<'a>(ctx: *mut EvmContext) -> (&'a mut EvmContext, &'a mut FrameState) {
    // SAFETY: guaranteed by the caller; the two borrows are of distinct objects.
    unsafe {
        let ctx = &mut *ctx;
        let state = &mut *(ctx.runtime as *mut FrameState);
        (ctx, state)
    }
}

/// The `N` operand words of a builtin call.
///
/// # Safety
/// `args` must point to at least `N` words.
unsafe fn args<'a, const N: usize>(args: *mut Word) -> &'a mut [Word; N] {
    // SAFETY: guaranteed by the caller.
    unsafe { &mut *(args as *mut [Word; N]) }
}

/// revm's `as_usize_or_fail`.
fn as_usize_or_fail(w: Word) -> Result<usize, InstructionResult> {
    let l = w.as_limbs();
    if l[1] != 0 || l[2] != 0 || l[3] != 0 || l[0] > usize::MAX as u64 {
        return Err(InstructionResult::InvalidOperandOOG);
    }
    Ok(l[0] as usize)
}

/// revm's `as_usize_saturated`.
fn as_usize_saturated(w: Word) -> usize {
    usize::try_from(w).unwrap_or(usize::MAX)
}

/// Charges `cost`, failing with `OutOfGas`.
fn charge(ctx: &mut EvmContext, cost: u64) -> Res {
    ctx.gas_remaining = ctx.gas_remaining.checked_sub(cost).ok_or(InstructionResult::OutOfGas)?;
    Ok(())
}
