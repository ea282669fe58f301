//! Wide operations: the 256-bit operations whose inline expansion is dozens of machine
//! instructions, and how many of them the optimizing tier expands inline. Shared by the
//! lowering (`revmc-llvm`), which calls word operations past the budget, and the
//! optimizing tier's cost estimate ([`optimizing_cost`](crate::optimizing_cost())), which
//! counts them the same way.

use crate::ir::BinaryOp;

/// The most wide operations ([`is_wide`]) the optimizing tier expands inline in one
/// program; the rest call the first tier's word operations. LLVM sinks a chain of them
/// into one basic block, on which its two-address pass and machine combiner take
/// quadratic time: 24 KiB of `DUP1 MUL` took 7 minutes at O2, of `DUP1 BYTE` 3.5 (15 and
/// 22 s past this budget). Real programs stay below it: 768 in blake2b_huff (one unrolled
/// block, which at 256 ran 3.1× slower), 101 in the largest corpus contract
/// (UniswapV3Pool).
pub const INLINE_WIDE_OPS: u32 = 1024;

/// Whether `op` on `a` and `b` is a wide operation: a multiplication of two non-constants,
/// or a shift, `BYTE` or `SIGNEXTEND` by a non-constant. Inline, each is dozens of machine
/// instructions.
pub fn is_wide(op: BinaryOp, a_is_const: bool, b_is_const: bool) -> bool {
    match op {
        BinaryOp::Mul => !a_is_const && !b_is_const,
        BinaryOp::Shl | BinaryOp::Shr | BinaryOp::Sar | BinaryOp::Byte | BinaryOp::SignExtend => {
            !a_is_const
        }
        _ => false,
    }
}
