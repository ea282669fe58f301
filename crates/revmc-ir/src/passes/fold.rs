//! Constant folding: an inline operation whose operands are all constants becomes the
//! constant it computes.
//!
//! The value is computed by [`eval_word_op`], the same function the first tier calls for
//! the operation, so folding cannot change what a program computes. Blocks are walked in
//! layout order and instructions in execution order, so chains of constant operations
//! inside a block fold completely in one walk (`PUSH1 1 PUSH1 160 SHL PUSH1 1 SWAP1 SUB`,
//! the address mask, becomes one constant).

use crate::abi::{WordOp, eval_word_op};
use crate::ir::{Function, InstData};

/// Replaces every foldable instruction by a constant; returns how many.
pub fn fold_constants(func: &mut Function) -> usize {
    let mut folded = 0;
    for b in func.block_ids() {
        for i in 0..func.block(b).insts.len() {
            let inst = func.block(b).insts[i];
            let value = match *func.inst(inst) {
                InstData::Unary(op, a) => {
                    func.constant(a).and_then(|a| eval_word_op(WordOp::of_unary(op), a, a))
                }
                InstData::Binary(op, a, b) => match (func.constant(a), func.constant(b)) {
                    (Some(a), Some(b)) => eval_word_op(WordOp::of_binary(op), a, b),
                    _ => None,
                },
                _ => None,
            };
            if let Some(value) = value {
                func.insts[inst.index()] = InstData::Const(value);
                folded += 1;
            }
        }
    }
    folded
}
