//! Memory, hashing, copy and call-data builtins.

use super::{
    FrameRuntime, Res, args, as_usize_or_fail, as_usize_saturated, code, frame, with_interp,
};
use revm_interpreter::context_interface::cfg::GasParams;
use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::primitives::{KECCAK_EMPTY, keccak256 as keccak};
use revm_interpreter::{InstructionResult, Interpreter};
use revmc_ir::abi::{EvmContext, Word};

type Interp = Interpreter<EthInterpreter>;

macro_rules! builtin {
    ($($(#[$doc:meta])* $name:ident($n:literal) = |$interp:ident, $gp:ident, $ctx:ident, $a:ident| $body:block)*) => {$(
        $(#[$doc])*
        pub(super) unsafe extern "C" fn $name(ctx: *mut EvmContext, a: *mut Word) -> u8 {
            // SAFETY: compiled code passes its live context and `arity` operand words.
            let ((ctx, rt), $a) = unsafe { (frame(ctx), args::<$n>(a)) };
            let rt: &mut FrameRuntime = rt;
            code(with_interp(ctx, rt, |$interp: &mut Interp, $gp: &GasParams, $ctx: &mut EvmContext| -> Res { $body }))
        }
    )*};
}

/// Charges `cost`, failing with `OutOfGas` (revm's `gas!`).
fn charge(interp: &mut Interp, cost: u64) -> Res {
    if interp.gas.record_regular_cost(cost) { Ok(()) } else { Err(InstructionResult::OutOfGas) }
}

/// A copy into memory from `data` (CALLDATACOPY, CODECOPY): revm's
/// `copy_cost_and_memory_resize` then `set_data`.
fn copy_from(interp: &mut Interp, gp: &GasParams, a: &[Word; 3], data: &[u8]) -> Res {
    let len = as_usize_or_fail(a[2])?;
    charge(interp, gp.copy_cost(len))?;
    if len == 0 {
        return Ok(());
    }
    let mem_offset = as_usize_or_fail(a[0])?;
    interp.resize_memory(gp, mem_offset, len)?;
    interp.memory.set_data(mem_offset, as_usize_saturated(a[1]), len, data);
    Ok(())
}

/// The bytes behind a (pointer, length) pair of the context.
///
/// # Safety
/// The pair must describe live memory (or have length 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// MLOAD / MSTORE / MSTORE8's growth of memory to `[offset, +width)`, shared by
/// [`memory_expand`] and [`grow_memory`] so that both convert their operands alike.
fn expand(interp: &mut Interp, gp: &GasParams, offset: Word, width: Word) -> Res {
    interp.resize_memory(gp, as_usize_or_fail(offset)?, as_usize_saturated(width))
}

/// [`EvmContext::grow_memory`]: [`memory_expand`] with its operands in registers. A word
/// with `offset` as its low limb and `offset_high` as the next converts as the offset
/// does: it fits a `usize` exactly when the offset does, with the same value.
pub(crate) unsafe extern "C" fn grow_memory(
    ctx: *mut EvmContext,
    offset: u64,
    offset_high: u64,
    width: u64,
) -> u8 {
    // SAFETY: compiled code passes its live context.
    let (ctx, rt) = unsafe { frame(ctx) };
    let offset = Word::from_limbs([offset, offset_high, 0, 0]);
    code(with_interp(ctx, rt, |interp, gp, _| expand(interp, gp, offset, Word::from(width))))
}

builtin! {
    /// Grows memory for MLOAD / MSTORE / MSTORE8: `[args[0], +args[1])`.
    memory_expand(2) = |interp, gp, _ctx, a| { expand(interp, gp, a[0], a[1]) }

    /// KECCAK256.
    keccak256(2) = |interp, gp, _ctx, a| {
        let len = as_usize_or_fail(a[1])?;
        charge(interp, gp.keccak256_cost(len))?;
        let hash = if len == 0 {
            KECCAK_EMPTY
        } else {
            let from = as_usize_or_fail(a[0])?;
            interp.resize_memory(gp, from, len)?;
            keccak(&*interp.memory.slice_len(from, len))
        };
        a[0] = Word::from_be_bytes(hash.0);
        Ok(())
    }

    /// CALLDATALOAD.
    calldataload(1) = |_interp, _gp, ctx, a| {
        // SAFETY: the context describes live call data.
        let data = unsafe { bytes(ctx.calldata, ctx.calldata_len) };
        let offset = as_usize_saturated(a[0]);
        let mut word = [0u8; 32];
        if offset < data.len() {
            let n = 32.min(data.len() - offset);
            word[..n].copy_from_slice(&data[offset..offset + n]);
        }
        a[0] = Word::from_be_bytes(word);
        Ok(())
    }

    /// CALLDATACOPY.
    calldatacopy(3) = |interp, gp, ctx, a| {
        // SAFETY: the context describes live call data, which is not EVM memory.
        let data = unsafe { bytes(ctx.calldata, ctx.calldata_len) };
        copy_from(interp, gp, a, data)
    }

    /// CODECOPY.
    codecopy(3) = |interp, gp, ctx, a| {
        // SAFETY: the context describes the frame's live bytecode.
        let code = unsafe { bytes(ctx.code, ctx.code_len) };
        copy_from(interp, gp, a, code)
    }

    /// MCOPY.
    mcopy(3) = |interp, gp, _ctx, a| {
        let len = as_usize_or_fail(a[2])?;
        charge(interp, gp.mcopy_cost(len))?;
        if len == 0 {
            return Ok(());
        }
        let dst = as_usize_or_fail(a[0])?;
        let src = as_usize_or_fail(a[1])?;
        interp.resize_memory(gp, dst.max(src), len)?;
        interp.memory.copy(dst, src, len);
        Ok(())
    }

    /// Output range of RETURN / REVERT.
    set_output(2) = |interp, gp, ctx, a| {
        let len = as_usize_or_fail(a[1])?;
        let mut offset = 0;
        if len != 0 {
            offset = as_usize_or_fail(a[0])?;
            interp.resize_memory(gp, offset, len)?;
        }
        ctx.return_offset = offset;
        ctx.return_len = len;
        Ok(())
    }
}
