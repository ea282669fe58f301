//! Division and remainder by a constant power of two, as a shift and a mask.
//!
//! Solidity extracts packed fields with `DIV` by `2^k` (and before 0.8 shifts that way):
//! UniswapV3Pool's what-ran IR had 35 of them. Each was a call of the `Div` builtin, its
//! operands stored, an indirect call and its result checked, since the lowering's 64-bit
//! fast path does not take a divisor of more than 64 bits. EVM `DIV` and `MOD` are
//! unsigned, so `x / 2^k` is `x >> k` and `x % 2^k` is `x & (2^k - 1)` for every `x`
//! (a zero divisor, which gives 0, is no power of two): the rewrite is exact, and both
//! tiers compute the result inline. `SDIV` and `SMOD` round toward zero, which a shift
//! does not, and stay as they are.
//!
//! Only a division of a value that is not a constant is rewritten, so that the pass leaves
//! nothing for constant folding, which runs before it.

use crate::U256;
use crate::abi::Builtin;
use crate::ir::{BinaryOp, Function, InstData};

/// Rewrites every `DIV` and `MOD` by a power of two; returns how many.
pub fn reduce_power_of_two_division(func: &mut Function) -> usize {
    let mut reduced = 0;
    for b in func.block_ids() {
        let mut i = 0;
        while i < func.block(b).insts.len() {
            let inst = func.block(b).insts[i];
            let rewrite = match func.inst(inst) {
                &InstData::Arith(builtin @ (Builtin::Div | Builtin::Mod), ref args)
                    if func.constant(args[0]).is_none() =>
                {
                    let (x, divisor) = (args[0], func.constant(args[1]));
                    divisor.filter(|d| d.is_power_of_two()).map(|d| (builtin, x, d))
                }
                _ => None,
            };
            if let Some((builtin, x, d)) = rewrite {
                let (op, operand) = match builtin {
                    Builtin::Div => (BinaryOp::Shr, U256::from(d.trailing_zeros())),
                    _ => (BinaryOp::And, d - U256::from(1)),
                };
                let c = func.insert_value(b, i, InstData::Const(operand));
                // SHR shifts its second operand by its first; AND is symmetric.
                func.insts[inst.index()] = InstData::Binary(op, c, x);
                reduced += 1;
                i += 1;
            }
            i += 1;
        }
    }
    reduced
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{WordOp, eval_word_op};
    use crate::{Limits, SpecId, translate};

    /// The inline operation and its constant operand that `calldata[0] op divisor`
    /// became, if it is no longer a builtin call.
    fn rewritten(op: u8, divisor: U256) -> Option<(BinaryOp, U256)> {
        // calldata[0] / divisor (or %), then STOP.
        let mut code = vec![0x7f];
        code.extend(divisor.to_be_bytes::<32>());
        code.extend([0x5f, 0x35, op, 0x00]);
        let func = translate(&code, SpecId::CANCUN, &Limits::default()).unwrap();
        let insts = func.block(func.entry()).insts.clone();
        insts.iter().find_map(|&i| match *func.inst(i) {
            InstData::Binary(op, c, _) => Some((op, func.constant(c).expect("a constant"))),
            _ => None,
        })
    }

    #[test]
    fn division_and_remainder_by_powers_of_two_become_shifts_and_masks() {
        let two = |k: usize| U256::from(1) << k;
        assert_eq!(rewritten(0x04, two(232)), Some((BinaryOp::Shr, U256::from(232))));
        assert_eq!(rewritten(0x04, two(0)), Some((BinaryOp::Shr, U256::ZERO)));
        assert_eq!(rewritten(0x04, two(255)), Some((BinaryOp::Shr, U256::from(255))));
        assert_eq!(rewritten(0x06, two(160)), Some((BinaryOp::And, two(160) - U256::from(1))));
        // Not powers of two, zero, and signed division stay builtin calls.
        assert_eq!(rewritten(0x04, U256::from(3 << 10)), None);
        assert_eq!(rewritten(0x04, U256::ZERO), None);
        assert_eq!(rewritten(0x06, U256::ZERO), None);
        assert_eq!(rewritten(0x05, two(8)), None);
        assert_eq!(rewritten(0x07, two(8)), None);
    }

    #[test]
    fn the_rewrite_computes_what_the_builtin_does() {
        let words = [U256::ZERO, U256::from(1), U256::from(0xdead_beef_u64), U256::MAX];
        let words = words.into_iter().chain([U256::MAX >> 3, U256::from(1) << 200]);
        for x in words {
            for k in [0usize, 1, 63, 64, 128, 232, 255] {
                let d = U256::from(1) << k;
                let shift = eval_word_op(WordOp::Shr, U256::from(k), x).unwrap();
                assert_eq!(shift, x / d, "{x} / 2^{k}");
                let mask = eval_word_op(WordOp::And, d - U256::from(1), x).unwrap();
                assert_eq!(mask, x % d, "{x} % 2^{k}");
            }
        }
    }
}
