//! The word operations of [`EvmContext::word_ops`](super::EvmContext::word_ops): pure
//! functions of one or two words, with revm's semantics for each opcode. The first tier
//! calls them instead of expanding 256-bit arithmetic inline. They are part of the ABI's
//! crate so that every runtime (and every test that runs compiled code) has the same ones.

use super::{Word, WordOp, WordOpFn};
use revm_interpreter::instructions::i256::i256_cmp;
use std::cmp::Ordering;

macro_rules! word_ops {
    ($($(#[$doc:meta])* $name:ident = |$a:ident, $b:ident| $body:expr;)*) => {$(
        $(#[$doc])*
        #[allow(unused_variables)]
        unsafe extern "C" fn $name(dst: *mut Word, a: *const Word, b: *const Word) {
            // SAFETY: compiled code passes pointers to words (alignment 8); both operands
            // are read before the result is written, so `dst` may alias them.
            unsafe {
                let ($a, $b) = (a.read(), b.read());
                dst.write($body);
            }
        }
    )*};
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
    add = |a, b| a.wrapping_add(b);
    sub = |a, b| a.wrapping_sub(b);
    mul = |a, b| a.wrapping_mul(b);
    lt = |a, b| flag(a < b);
    gt = |a, b| flag(a > b);
    slt = |a, b| flag(i256_cmp(&a, &b) == Ordering::Less);
    sgt = |a, b| flag(i256_cmp(&a, &b) == Ordering::Greater);
    eq = |a, b| flag(a == b);
    and = |a, b| a & b;
    or = |a, b| a | b;
    xor = |a, b| a ^ b;
    byte = |a, b| below(a, 32).map_or(Word::ZERO, |i| Word::from(b.byte(31 - i)));
    shl = |a, b| below(a, 256).map_or(Word::ZERO, |s| b << s);
    shr = |a, b| below(a, 256).map_or(Word::ZERO, |s| b >> s);
    sar = |a, b| match below(a, 256) {
        Some(s) => b.arithmetic_shr(s),
        None if b.bit(255) => Word::MAX,
        None => Word::ZERO,
    };
    signextend = |a, b| match below(a, 31) {
        Some(ext) => {
            let bit_index = 8 * ext + 7;
            let mask = (Word::ONE << bit_index) - Word::ONE;
            if b.bit(bit_index) { b | !mask } else { b & mask }
        }
        None => b,
    };
    not = |a, b| !a;
    iszero = |a, b| flag(a.is_zero());
    clz = |a, b| Word::from(a.leading_zeros());
}

/// MLOAD's read: the big-endian word at memory address `a`.
unsafe extern "C" fn mload(dst: *mut Word, a: *const Word, _b: *const Word) {
    // SAFETY: `a` points to 32 bytes of EVM memory (a preceding MemoryExpand covered
    // them), read unaligned.
    unsafe {
        let bytes = a.cast::<[u8; 32]>().read_unaligned();
        dst.write(Word::from_be_bytes(bytes));
    }
}

/// MSTORE's write: word `a` big-endian at memory address `dst`.
unsafe extern "C" fn mstore(dst: *mut Word, a: *const Word, _b: *const Word) {
    // SAFETY: `dst` points to 32 bytes of EVM memory (a preceding MemoryExpand covered
    // them), written unaligned; `a` points to a word.
    unsafe { dst.cast::<[u8; 32]>().write_unaligned(a.read().to_be_bytes()) }
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
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: WordOp, a: Word, b: Word) -> Word {
        let mut out = Word::ZERO;
        // SAFETY: three valid words.
        unsafe { WORD_OPS[op as usize](&mut out, &a, &b) };
        out
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
    fn memory_words_are_big_endian() {
        let mut mem = [0u8; 33];
        let w = Word::from(0x0102u64);
        // SAFETY: 32 bytes at offset 1 of a 33-byte buffer, unaligned.
        unsafe { WORD_OPS[WordOp::MStore as usize](mem[1..].as_mut_ptr().cast(), &w, &w) };
        assert_eq!(&mem[31..], &[1, 2]);
        let mut out = Word::ZERO;
        // SAFETY: as above.
        unsafe { WORD_OPS[WordOp::MLoad as usize](&mut out, mem[1..].as_ptr().cast(), &w) };
        assert_eq!(out, w);
    }
}
