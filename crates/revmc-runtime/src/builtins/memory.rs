//! Memory, hashing, copy and call-data builtins.

use super::{FrameState, Res, args, as_usize_or_fail, as_usize_saturated, charge, code, frame};
use revm_interpreter::interpreter::num_words;
use revm_interpreter::primitives::{KECCAK_EMPTY, keccak256 as keccak};
use revmc_ir::InstructionResult;
use revmc_ir::abi::{EvmContext, Word};

/// revm's `resize_memory`: grows memory to cover `[offset, offset + len)`, charging the
/// expansion cost.
fn resize(ctx: &mut EvmContext, st: &mut FrameState, offset: usize, len: usize) -> Res {
    let new_words = num_words(offset.saturating_add(len));
    if new_words <= st.memory_gas.words_num {
        return Ok(());
    }
    let cost = st.gas_params.memory_cost(new_words);
    let delta = st.memory_gas.set_words_num(new_words, cost).unwrap_or(0);
    ctx.gas_remaining = ctx.gas_remaining.checked_sub(delta).ok_or(InstructionResult::MemoryOOG)?;
    st.memory.resize(new_words * 32, 0);
    ctx.memory = st.memory.as_mut_ptr();
    ctx.memory_len = st.memory.len();
    Ok(())
}

/// Copies `data[data_offset..]` into memory at `mem_offset`, zero-filling past its end
/// (revm's `set_data`). The range is already in memory.
fn set_data(st: &mut FrameState, mem_offset: usize, data_offset: usize, len: usize, data: &[u8]) {
    let dst = &mut st.memory[mem_offset..mem_offset + len];
    let src = data.get(data_offset..).unwrap_or(&[]);
    let n = src.len().min(len);
    dst[..n].copy_from_slice(&src[..n]);
    dst[n..].fill(0);
}

macro_rules! builtin {
    ($($(#[$doc:meta])* $name:ident($n:literal) = |$ctx:ident, $st:ident, $a:ident| $body:block)*) => {$(
        $(#[$doc])*
        pub(super) unsafe extern "C" fn $name(ctx: *mut EvmContext, a: *mut Word) -> u8 {
            // SAFETY: compiled code passes its live context and `arity` operand words.
            let (($ctx, $st), $a) = unsafe { (frame(ctx), args::<$n>(a)) };
            let mut body = || -> Res { $body };
            code(body())
        }
    )*};
}

/// A copy into memory from `data` (CALLDATACOPY, CODECOPY): revm's
/// `copy_cost_and_memory_resize` then `set_data`.
fn copy_from(ctx: &mut EvmContext, st: &mut FrameState, a: &[Word; 3], data: &[u8]) -> Res {
    let len = as_usize_or_fail(a[2])?;
    charge(ctx, st.gas_params.copy_cost(len))?;
    if len == 0 {
        return Ok(());
    }
    let mem_offset = as_usize_or_fail(a[0])?;
    resize(ctx, st, mem_offset, len)?;
    set_data(st, mem_offset, as_usize_saturated(a[1]), len, data);
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

builtin! {
    /// Grows memory for MLOAD / MSTORE / MSTORE8: `[args[0], +args[1])`.
    memory_expand(2) = |ctx, st, a| {
        let offset = as_usize_or_fail(a[0])?;
        resize(ctx, st, offset, as_usize_saturated(a[1]))
    }

    /// KECCAK256.
    keccak256(2) = |ctx, st, a| {
        let len = as_usize_or_fail(a[1])?;
        charge(ctx, st.gas_params.keccak256_cost(len))?;
        let hash = if len == 0 {
            KECCAK_EMPTY
        } else {
            let from = as_usize_or_fail(a[0])?;
            resize(ctx, st, from, len)?;
            keccak(&st.memory[from..from + len])
        };
        a[0] = Word::from_be_bytes(hash.0);
        Ok(())
    }

    /// CALLDATALOAD.
    calldataload(1) = |ctx, _st, a| {
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
    calldatacopy(3) = |ctx, st, a| {
        // SAFETY: the context describes live call data.
        let data = unsafe { bytes(ctx.calldata, ctx.calldata_len) };
        copy_from(ctx, st, a, data)
    }

    /// CODECOPY.
    codecopy(3) = |ctx, st, a| {
        // SAFETY: the context describes the frame's live bytecode.
        let code = unsafe { bytes(ctx.code, ctx.code_len) };
        copy_from(ctx, st, a, code)
    }

    /// MCOPY.
    mcopy(3) = |ctx, st, a| {
        let len = as_usize_or_fail(a[2])?;
        charge(ctx, st.gas_params.mcopy_cost(len))?;
        if len == 0 {
            return Ok(());
        }
        let dst = as_usize_or_fail(a[0])?;
        let src = as_usize_or_fail(a[1])?;
        resize(ctx, st, dst.max(src), len)?;
        st.memory.copy_within(src..src + len, dst);
        Ok(())
    }

    /// Output range of RETURN / REVERT.
    set_output(2) = |ctx, st, a| {
        let len = as_usize_or_fail(a[1])?;
        let mut offset = 0;
        if len != 0 {
            offset = as_usize_or_fail(a[0])?;
            resize(ctx, st, offset, len)?;
        }
        ctx.return_offset = offset;
        ctx.return_len = len;
        Ok(())
    }
}
