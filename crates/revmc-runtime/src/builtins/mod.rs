//! The builtins compiled code calls through [`EvmContext::builtins`], and
//! [`EvmContext::grow_memory`].
//!
//! They work on the frame's revm [`Interpreter`] (its gas, memory and stack), so every
//! piece of state has one owner, and each reproduces revm's instruction exactly (operand
//! conversion, order of gas charges, error kinds) with revm's own functions. Host
//! operations run revm's instruction itself (`host`). Builtins never panic: a panic
//! cannot cross the `extern "C"` boundary.

mod arith;
pub(crate) mod host;
mod memory;
mod mulmod;

pub(crate) use memory::grow_memory;

use revm_interpreter::context_interface::cfg::GasParams;
use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::{InstructionResult, Interpreter};
use revmc_ir::abi::{Builtin, BuiltinFn, CONTINUE, EvmContext, Word};
use std::ffi::c_void;

/// The builtins that do not depend on the host type, in table order; the
/// [`Builtin::Host`] entry is a placeholder that [`table_for`] replaces.
static BASE_TABLE: [BuiltinFn; Builtin::COUNT] = {
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
    t[Builtin::Host as usize] = host::no_host;
    t
};

/// The builtin table for frames whose host is `H`.
pub(crate) fn table_for<H: revm_interpreter::Host>() -> [BuiltinFn; Builtin::COUNT] {
    let mut t = BASE_TABLE;
    t[Builtin::Host as usize] = host::host_op::<H>;
    t
}

/// Runtime state of one frame, reached through [`EvmContext::runtime`].
#[repr(C)]
#[derive(Debug)]
pub(crate) struct FrameRuntime {
    /// The frame's interpreter: gas, memory, stack, return data, inputs.
    pub(crate) interp: *mut Interpreter<EthInterpreter>,
    /// Gas schedule of the frame's spec: the host's, which outlives the frame.
    pub(crate) gas_params: *const GasParams,
    /// The host (`*mut H` for the table's `H`).
    pub(crate) host: *mut c_void,
    /// A panic of the host or database caught at a builtin's boundary: it cannot unwind
    /// through compiled code, so the frame halts and [`crate::frame::run_compiled`]
    /// resumes it once compiled code has returned.
    pub(crate) panic: Option<Box<dyn std::any::Any + Send + 'static>>,
}

type Res = Result<(), InstructionResult>;

/// Converts a builtin body's result into the ABI's return code.
fn code(r: Res) -> u8 {
    match r {
        Ok(()) => CONTINUE,
        Err(e) => e as u8,
    }
}

/// The context and frame runtime behind a builtin call.
///
/// # Safety
/// `ctx` must be the live context of a frame set up by [`crate::frame`], whose `runtime`
/// points to its [`FrameRuntime`].
unsafe fn frame<'a>(ctx: *mut EvmContext) -> (&'a mut EvmContext, &'a mut FrameRuntime) {
    // SAFETY: guaranteed by the caller; the two borrows are of distinct objects.
    unsafe {
        let ctx = &mut *ctx;
        let rt = &mut *(ctx.runtime as *mut FrameRuntime);
        (ctx, rt)
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

/// Runs `f` on the interpreter with the context's gas, then publishes the interpreter's
/// gas and memory back to the context. Every builtin that touches gas or memory goes
/// through here, so compiled code and revm never disagree on either.
fn with_interp<R>(
    ctx: &mut EvmContext,
    rt: &mut FrameRuntime,
    f: impl FnOnce(&mut Interpreter<EthInterpreter>, &GasParams, &mut EvmContext) -> R,
) -> R {
    // SAFETY: the interpreter outlives the frame's execution and is not otherwise
    // borrowed while compiled code runs.
    let interp = unsafe { &mut *rt.interp };
    interp.gas.set_remaining(ctx.gas_remaining);
    // SAFETY: the host's gas schedule outlives the frame's execution.
    let gas_params = unsafe { &*rt.gas_params };
    let r = f(interp, gas_params, ctx);
    ctx.gas_remaining = interp.gas.remaining();
    publish_memory(ctx, interp);
    r
}

/// Points the context at the interpreter's current memory (it may have moved).
pub(crate) fn publish_memory(ctx: &mut EvmContext, interp: &mut Interpreter<EthInterpreter>) {
    ctx.memory_len = interp.memory.len();
    ctx.memory = interp.memory.context_memory_mut().as_mut_ptr();
}
