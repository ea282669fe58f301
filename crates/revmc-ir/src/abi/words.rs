//! The word operations of [`EvmContext::word_ops`](super::EvmContext::word_ops): pure
//! functions of one or two words, with revm's semantics for each opcode. The first tier
//! calls them instead of expanding 256-bit arithmetic inline. They are part of the ABI's
//! crate so that every runtime (and every test that runs compiled code) has the same ones.

use super::{EvmContext, Word, WordOp, WordOpFn};
use revm_interpreter::instructions::i256::i256_cmp;
use std::cmp::Ordering;

macro_rules! word_ops {
    ($($(#[$doc:meta])* $name:ident = $op:ident |$a:ident, $b:ident| $body:expr;)*) => {
        /// The value of the pure operation `op` on `a` and `b` (stack top first); `None` for
        /// the memory operations. Constant folding uses it, so that a folded instruction
        /// computes exactly what the first tier's call would.
        #[allow(unused_variables)]
        pub fn eval(op: WordOp, a: Word, b: Word) -> Option<Word> {
            match op {
                $(WordOp::$op => {
                    let ($a, $b) = (a, b);
                    Some($body)
                })*
                WordOp::MLoad | WordOp::MStore | WordOp::MStore8 => None,
            }
        }

        $(
            $(#[$doc])*
            #[allow(unused_variables)]
            unsafe extern "C" fn $name(dst: *mut Word, a: *const Word, b: *const Word) -> u8 {
                // SAFETY: compiled code passes pointers to words (alignment 8); both
                // operands are read before the result is written, so `dst` may alias them.
                unsafe {
                    let ($a, $b) = (a.read(), b.read());
                    dst.write($body);
                }
                0
            }
        )*
    };
}

fn flag(c: bool) -> Word {
    Word::from(c as u64)
}

/// A shift amount or byte index: `a` if it is below `limit`, else `None`.
fn below(a: Word, limit: usize) -> Option<usize> {
    let small = a.as_limbs()[0] as usize;
    (a < Word::from(limit)).then_some(small)
}

word_ops! {
    add = Add |a, b| a.wrapping_add(b);
    sub = Sub |a, b| a.wrapping_sub(b);
    mul = Mul |a, b| a.wrapping_mul(b);
    lt = Lt |a, b| flag(a < b);
    gt = Gt |a, b| flag(a > b);
    slt = Slt |a, b| flag(i256_cmp(&a, &b) == Ordering::Less);
    sgt = Sgt |a, b| flag(i256_cmp(&a, &b) == Ordering::Greater);
    eq = Eq |a, b| flag(a == b);
    and = And |a, b| a & b;
    or = Or |a, b| a | b;
    xor = Xor |a, b| a ^ b;
    byte = Byte |a, b| below(a, 32).map_or(Word::ZERO, |i| Word::from(b.byte(31 - i)));
    shl = Shl |a, b| below(a, 256).map_or(Word::ZERO, |s| b << s);
    shr = Shr |a, b| below(a, 256).map_or(Word::ZERO, |s| b >> s);
    sar = Sar |a, b| match below(a, 256) {
        Some(s) => b.arithmetic_shr(s),
        None if b.bit(255) => Word::MAX,
        None => Word::ZERO,
    };
    signextend = SignExtend |a, b| match below(a, 31) {
        Some(ext) => {
            let bit_index = 8 * ext + 7;
            let mask = (Word::ONE << bit_index) - Word::ONE;
            if b.bit(bit_index) { b | !mask } else { b & mask }
        }
        None => b,
    };
    not = Not |a, b| !a;
    iszero = IsZero |a, b| flag(a.is_zero());
    clz = Clz |a, b| Word::from(a.leading_zeros());
}

/// The address of `width` bytes of EVM memory at offset `offset`, if memory holds them.
///
/// # Safety
/// `ctx` must point to a live context whose memory pointer and length describe memory.
unsafe fn memory_at(ctx: *const Word, offset: *const Word, width: usize) -> Option<*mut u8> {
    // SAFETY: guaranteed by the caller; the context is read, not written.
    let (ctx, offset) = unsafe { (&*ctx.cast::<EvmContext>(), offset.read()) };
    let offset = usize::try_from(offset).ok()?;
    (offset <= ctx.memory_len && ctx.memory_len - offset >= width)
        // SAFETY: `offset + width <= memory_len`.
        .then(|| unsafe { ctx.memory.add(offset) })
}

/// MLOAD's read.
unsafe extern "C" fn mload(dst: *mut Word, a: *const Word, b: *const Word) -> u8 {
    // SAFETY: `b` is the context (the memory operations' contract), `a` a word.
    let Some(p) = (unsafe { memory_at(b, a, 32) }) else { return 1 };
    // SAFETY: `p` holds 32 bytes of memory, read unaligned; `dst` is a word.
    unsafe { dst.write(Word::from_be_bytes(p.cast::<[u8; 32]>().read_unaligned())) };
    0
}

/// MSTORE's write.
unsafe extern "C" fn mstore(value: *mut Word, a: *const Word, b: *const Word) -> u8 {
    // SAFETY: as for `mload`.
    let Some(p) = (unsafe { memory_at(b, a, 32) }) else { return 1 };
    // SAFETY: `p` holds 32 bytes of memory, written unaligned; `value` is a word.
    unsafe { p.cast::<[u8; 32]>().write_unaligned(value.read().to_be_bytes()) };
    0
}

/// MSTORE8's write.
unsafe extern "C" fn mstore8(value: *mut Word, a: *const Word, b: *const Word) -> u8 {
    // SAFETY: as for `mload`.
    let Some(p) = (unsafe { memory_at(b, a, 1) }) else { return 1 };
    // SAFETY: `p` holds a byte of memory; `value` is a word.
    unsafe { p.write(value.read().as_limbs()[0] as u8) };
    0
}

/// The table for [`EvmContext::word_ops`](super::EvmContext::word_ops), in [`WordOp`]
/// order.
pub static WORD_OPS: [WordOpFn; WordOp::COUNT] = {
    let mut t: [WordOpFn; WordOp::COUNT] = [add; WordOp::COUNT];
    t[WordOp::Add as usize] = add;
    t[WordOp::Sub as usize] = sub;
    t[WordOp::Mul as usize] = mul;
    t[WordOp::Lt as usize] = lt;
    t[WordOp::Gt as usize] = gt;
    t[WordOp::Slt as usize] = slt;
    t[WordOp::Sgt as usize] = sgt;
    t[WordOp::Eq as usize] = eq;
    t[WordOp::And as usize] = and;
    t[WordOp::Or as usize] = or;
    t[WordOp::Xor as usize] = xor;
    t[WordOp::Byte as usize] = byte;
    t[WordOp::Shl as usize] = shl;
    t[WordOp::Shr as usize] = shr;
    t[WordOp::Sar as usize] = sar;
    t[WordOp::SignExtend as usize] = signextend;
    t[WordOp::Not as usize] = not;
    t[WordOp::IsZero as usize] = iszero;
    t[WordOp::Clz as usize] = clz;
    t[WordOp::MLoad as usize] = mload;
    t[WordOp::MStore as usize] = mstore;
    t[WordOp::MStore8 as usize] = mstore8;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: WordOp, a: Word, b: Word) -> Word {
        let mut out = Word::ZERO;
        // SAFETY: three valid words.
        assert_eq!(unsafe { WORD_OPS[op as usize](&mut out, &a, &b) }, 0);
        out
    }

    #[test]
    fn eval_computes_what_the_table_does() {
        let one = Word::ONE;
        let operands = [
            Word::ZERO,
            one,
            Word::from(31),
            Word::from(255),
            Word::from(256),
            one << 255,
            Word::MAX,
        ];
        for &op in WordOp::ALL {
            if matches!(op, WordOp::MLoad | WordOp::MStore | WordOp::MStore8) {
                assert_eq!(eval(op, one, one), None);
                continue;
            }
            for a in operands {
                for b in operands {
                    assert_eq!(eval(op, a, b), Some(call(op, a, b)), "{op:?} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn edge_operands_follow_the_evm() {
        let min = Word::ONE << 255usize;
        let minus_one = Word::MAX;
        assert_eq!(call(WordOp::Slt, min, minus_one), Word::ONE);
        assert_eq!(call(WordOp::Sgt, min, minus_one), Word::ZERO);
        assert_eq!(call(WordOp::Sar, Word::from(256), min), Word::MAX);
        assert_eq!(call(WordOp::Sar, Word::MAX, Word::ONE), Word::ZERO);
        assert_eq!(call(WordOp::Sar, Word::from(255), min), Word::MAX);
        assert_eq!(call(WordOp::Shl, Word::from(256), Word::ONE), Word::ZERO);
        assert_eq!(call(WordOp::Shl, Word::from(255), Word::ONE), min);
        assert_eq!(call(WordOp::Shr, Word::MAX, Word::MAX), Word::ZERO);
        assert_eq!(call(WordOp::Byte, Word::ZERO, min), Word::from(0x80));
        assert_eq!(call(WordOp::Byte, Word::from(32), Word::MAX), Word::ZERO);
        assert_eq!(call(WordOp::Byte, Word::from(31), Word::from(0x1234)), Word::from(0x34));
        assert_eq!(call(WordOp::SignExtend, Word::ZERO, Word::from(0xff)), Word::MAX);
        assert_eq!(call(WordOp::SignExtend, Word::ZERO, Word::from(0x17f)), Word::from(0x7f));
        assert_eq!(call(WordOp::SignExtend, Word::from(31), Word::from(0xff)), Word::from(0xff));
        assert_eq!(call(WordOp::SignExtend, Word::MAX, Word::from(0xff)), Word::from(0xff));
        assert_eq!(call(WordOp::Clz, Word::ZERO, Word::ZERO), Word::from(256));
        assert_eq!(call(WordOp::Sub, Word::ZERO, Word::ONE), Word::MAX);
    }

    #[test]
    fn memory_words_are_big_endian_and_bounded_by_memory() {
        let mut mem = [0u8; 64];
        let mut ctx = EvmContext {
            gas_remaining: 0,
            memory: mem.as_mut_ptr(),
            memory_len: 64,
            calldata: std::ptr::null(),
            calldata_len: 0,
            code: std::ptr::null(),
            code_len: 0,
            return_offset: 0,
            return_len: 0,
            builtins: std::ptr::null(),
            runtime: std::ptr::null_mut(),
            resume_at: 0,
            env: std::ptr::null(),
            word_ops: std::ptr::null(),
            builtins_by_ref: std::ptr::null(),
            grow_memory: None,
        };
        let ctx_word = (&raw mut ctx).cast::<Word>().cast_const();
        let op = |op: WordOp, w: &mut Word, offset: u64| {
            // SAFETY: a live context and two words.
            unsafe { WORD_OPS[op as usize](w, &Word::from(offset), ctx_word) }
        };
        let mut w = Word::from(0x0102u64);
        assert_eq!(op(WordOp::MStore, &mut w, 1), 0);
        let mut out = Word::ZERO;
        assert_eq!(op(WordOp::MLoad, &mut out, 1), 0);
        assert_eq!(out, w);
        // The last word of memory is in; one byte further is not, nor is a huge offset.
        assert_eq!(op(WordOp::MLoad, &mut out, 32), 0);
        assert_eq!(op(WordOp::MLoad, &mut out, 33), 1);
        assert_eq!(op(WordOp::MStore8, &mut w, 63), 0);
        assert_eq!(op(WordOp::MStore8, &mut w, 64), 1);
        let huge = Word::from(1u64) << 64usize;
        // SAFETY: as above.
        assert_eq!(unsafe { WORD_OPS[WordOp::MLoad as usize](&mut out, &huge, ctx_word) }, 1);
        assert_eq!(mem[31..33], [1, 2]);
        assert_eq!(mem[63], 2);
    }
}
