//! Pure arithmetic builtins: DIV, SDIV, MOD, SMOD, ADDMOD, MULMOD, EXP (its gas is
//! charged inline by compiled code).

use super::args;
use revm_interpreter::instructions::i256::{i256_div, i256_mod};
use revmc_ir::abi::{CONTINUE, EvmContext, Word};

macro_rules! arith {
    ($($(#[$doc:meta])* $name:ident($n:literal) = |$a:ident| $body:expr;)*) => {$(
        $(#[$doc])*
        pub(super) unsafe extern "C" fn $name(_ctx: *mut EvmContext, a: *mut Word) -> u8 {
            // SAFETY: compiled code passes `arity` operand words.
            let $a = unsafe { args::<$n>(a) };
            $a[0] = $body;
            CONTINUE
        }
    )*};
}

arith! {
    /// DIV.
    div(2) = |a| if a[1].is_zero() { Word::ZERO } else { a[0].wrapping_div(a[1]) };
    /// SDIV.
    sdiv(2) = |a| i256_div(a[0], a[1]);
    /// MOD.
    rem(2) = |a| if a[1].is_zero() { Word::ZERO } else { a[0].wrapping_rem(a[1]) };
    /// SMOD.
    smod(2) = |a| i256_mod(a[0], a[1]);
    /// ADDMOD.
    addmod(3) = |a| a[0].add_mod(a[1], a[2]);
    /// MULMOD ([`super::mulmod`]: ruint's results, faster).
    mulmod(3) = |a| super::mulmod::mulmod(a[0], a[1], a[2]);
    /// EXP.
    exp(2) = |a| a[0].pow(a[1]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulmod_builtin_matches_ruint() {
        let p = Word::from_str_radix(
            "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47",
            16,
        )
        .unwrap();
        let x =
            Word::from_str_radix("0123456789abcdeffedcba98765432100f1e2d3c4b5a6978", 16).unwrap();
        let cases = [
            (x, x, p),
            (x, p - Word::ONE, p),
            (Word::MAX, Word::MAX, p),
            (Word::MAX, x, Word::MAX),
            (x, x, Word::from(1_000_003u64)),
            (x, x, x >> 64usize),
            (x, x, Word::ZERO),
            (x, x, Word::ONE),
        ];
        // The same cases three times: the modulus's Barrett constant is cached on the
        // second use.
        for _ in 0..3 {
            for (a, b, n) in cases {
                let mut words = [a, b, n];
                // SAFETY: `words` holds the builtin's three operands; it does not use the
                // context.
                let rc = unsafe { mulmod(std::ptr::null_mut(), words.as_mut_ptr()) };
                assert_eq!(rc, CONTINUE);
                assert_eq!(words[0], a.mul_mod(b, n), "{a:#x} * {b:#x} mod {n:#x}");
            }
        }
    }
}
