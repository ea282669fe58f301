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
    /// MULMOD.
    mulmod(3) = |a| a[0].mul_mod(a[1], a[2]);
    /// EXP.
    exp(2) = |a| a[0].pow(a[1]);
}
