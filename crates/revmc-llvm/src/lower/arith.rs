//! Arithmetic, comparisons and bit operations on 256-bit values, inline or (past the
//! function's budget of wide operations) as the first tier's word operations; DIV, MOD
//! and their signed forms natively on 64-bit operands, else through their builtins.

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::IntValue;
use revmc_ir::INLINE_WIDE_OPS;
use revmc_ir::abi::{Builtin, WordOp};
use revmc_ir::ir::{BinaryOp, UnaryOp, Value};

impl<'ctx> Lowerer<'ctx, '_> {
    /// Unsigned DIV / MOD: native 64-bit division when both operands fit, else the
    /// builtin. Division by zero yields zero either way.
    pub(super) fn div_rem(
        &mut self,
        builtin: Builtin,
        args: &[Value],
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let (a, b) = (self.value(args[0]), self.value(args[1]));
        let either = self.b.build_or(a, b, "")?;
        let hi = self.b.build_right_shift(either, self.i256.const_int(64, false), false, "")?;
        let small = self.b.build_int_compare(P::EQ, hi, self.i256.const_zero(), "")?;
        self.inline_or_builtin(small, builtin, args, |l| {
            let a64 = l.b.build_int_truncate(a, l.i64, "")?;
            let b64 = l.b.build_int_truncate(b, l.i64, "")?;
            let zero = l.b.build_int_compare(P::EQ, b64, l.i64.const_zero(), "")?;
            let divisor =
                l.b.build_select(zero, l.i64.const_int(1, false), b64, "")?.into_int_value();
            let q = if builtin == Builtin::Div {
                l.b.build_int_unsigned_div(a64, divisor, "")?
            } else {
                l.b.build_int_unsigned_rem(a64, divisor, "")?
            };
            let q = l.b.build_select(zero, l.i64.const_zero(), q, "")?.into_int_value();
            Ok(l.b.build_int_z_extend(q, l.i256, "")?)
        })
    }

    /// Signed SDIV / SMOD: native 64-bit division when both operands are sign-extended
    /// 64-bit values (fixed-point code divides small signed numbers), else the builtin.
    /// Division by zero yields zero; `x / -1` is `-x` computed in 256 bits (so
    /// `i64::MIN / -1` is `2^63`, as in the EVM) and `x % -1` is zero.
    pub(super) fn sdiv_smod(
        &mut self,
        builtin: Builtin,
        args: &[Value],
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let (a, b) = (self.value(args[0]), self.value(args[1]));
        let fits = |v: IntValue<'ctx>| -> Result<IntValue<'ctx>, LlvmError> {
            let low = self.b.build_int_truncate(v, self.i64, "")?;
            let back = self.b.build_int_s_extend(low, self.i256, "")?;
            Ok(self.b.build_int_compare(P::EQ, back, v, "")?)
        };
        let small = self.b.build_and(fits(a)?, fits(b)?, "")?;
        self.inline_or_builtin(small, builtin, args, |l| {
            let a64 = l.b.build_int_truncate(a, l.i64, "")?;
            let b64 = l.b.build_int_truncate(b, l.i64, "")?;
            let zero = l.b.build_int_compare(P::EQ, b64, l.i64.const_zero(), "")?;
            let minus_one = l.b.build_int_compare(P::EQ, b64, l.i64.const_all_ones(), "")?;
            // Zero and -1 divisors are answered below; divide by 1 instead so the native
            // instruction can neither trap nor overflow.
            let special = l.b.build_or(zero, minus_one, "")?;
            let divisor =
                l.b.build_select(special, l.i64.const_int(1, false), b64, "")?.into_int_value();
            if builtin == Builtin::SMod {
                // With the divisor 1 for 0 and -1, the remainder is already 0 for both.
                let r = l.b.build_int_signed_rem(a64, divisor, "")?;
                return Ok(l.b.build_int_s_extend(r, l.i256, "")?);
            }
            let q = l.b.build_int_signed_div(a64, divisor, "")?;
            let q = l.b.build_int_s_extend(q, l.i256, "")?;
            let negated = l.b.build_int_sub(l.i256.const_zero(), a, "")?;
            let q = l.b.build_select(minus_one, negated, q, "")?.into_int_value();
            Ok(l.b.build_select(zero, l.i256.const_zero(), q, "")?.into_int_value())
        })
    }

    fn bool_to_word(&self, c: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(self.b.build_int_z_extend(c, self.i256, "")?)
    }

    pub(super) fn unary(
        &self,
        op: UnaryOp,
        a: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(match op {
            UnaryOp::Not => self.b.build_not(a, "")?,
            UnaryOp::IsZero => {
                let c = self.b.build_int_compare(P::EQ, a, self.i256.const_zero(), "")?;
                self.bool_to_word(c)?
            }
            UnaryOp::Clz => self.intrinsic("llvm.ctlz", &[a, self.cx.bool_type().const_zero()])?,
        })
    }

    /// A shift amount from an EVM operand: `a` if `a < limit`, else `fallback`.
    fn clamp(
        &self,
        a: IntValue<'ctx>,
        limit: u64,
        fallback: IntValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>), LlvmError> {
        let inb = self.b.build_int_compare(P::ULT, a, self.i256.const_int(limit, false), "")?;
        let v = self.b.build_select(inb, a, fallback, "")?.into_int_value();
        Ok((inb, v))
    }

    /// Whether `op` on `a` and `b` is a wide operation ([`revmc_ir::is_wide`]) past the
    /// function's [`INLINE_WIDE_OPS`]: then it is a call, as in the first tier. Counts the
    /// ones within it.
    pub(super) fn past_wide_budget(
        &mut self,
        op: BinaryOp,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> bool {
        if !revmc_ir::is_wide(op, a.is_const(), b.is_const()) {
            return false;
        }
        self.wide_ops += 1;
        self.wide_ops > INLINE_WIDE_OPS
    }

    /// `op` on `a` and `b` as the first tier's word operation, the operands and result in
    /// the operand buffer.
    pub(super) fn binary_call(
        &self,
        op: BinaryOp,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let (pa, pb, dst) = (self.operand(0)?, self.operand(1)?, self.operand(2)?);
        self.b.build_store(pa, a)?;
        self.b.build_store(pb, b)?;
        self.call_word_op(WordOp::of_binary(op), dst, pa, pb)?;
        Ok(self.b.build_load(self.i256, dst, "")?.into_int_value())
    }

    pub(super) fn binary(
        &self,
        op: BinaryOp,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let bld = &self.b;
        let zero = self.i256.const_zero();
        let cmp =
            |p: P, x: IntValue<'ctx>, y: IntValue<'ctx>| -> Result<IntValue<'ctx>, LlvmError> {
                let c = bld.build_int_compare(p, x, y, "")?;
                self.bool_to_word(c)
            };
        Ok(match op {
            BinaryOp::Add => bld.build_int_add(a, b, "")?,
            BinaryOp::Sub => bld.build_int_sub(a, b, "")?,
            BinaryOp::Mul => bld.build_int_mul(a, b, "")?,
            BinaryOp::Lt => cmp(P::ULT, a, b)?,
            BinaryOp::Gt => cmp(P::UGT, a, b)?,
            BinaryOp::Slt => cmp(P::SLT, a, b)?,
            BinaryOp::Sgt => cmp(P::SGT, a, b)?,
            BinaryOp::Eq => cmp(P::EQ, a, b)?,
            BinaryOp::And => bld.build_and(a, b, "")?,
            BinaryOp::Or => bld.build_or(a, b, "")?,
            BinaryOp::Xor => bld.build_xor(a, b, "")?,
            BinaryOp::Shl | BinaryOp::Shr => {
                let (inb, sh) = self.clamp(a, 256, zero)?;
                let r = if op == BinaryOp::Shl {
                    bld.build_left_shift(b, sh, "")?
                } else {
                    bld.build_right_shift(b, sh, false, "")?
                };
                bld.build_select(inb, r, zero, "")?.into_int_value()
            }
            BinaryOp::Sar => {
                let (_, sh) = self.clamp(a, 256, self.i256.const_int(255, false))?;
                bld.build_right_shift(b, sh, true, "")?
            }
            BinaryOp::Byte => {
                // Byte a (from the most significant) = (b >> (8 * (31 - a))) & 0xff.
                let (inb, idx) = self.clamp(a, 32, self.i256.const_int(31, false))?;
                let from_low = bld.build_int_sub(self.i256.const_int(31, false), idx, "")?;
                let sh = bld.build_left_shift(from_low, self.i256.const_int(3, false), "")?;
                let r = bld.build_right_shift(b, sh, false, "")?;
                let r = bld.build_and(r, self.i256.const_int(0xff, false), "")?;
                bld.build_select(inb, r, zero, "")?.into_int_value()
            }
            BinaryOp::SignExtend => {
                // Shift byte a's sign bit to bit 255, then back arithmetically; a >= 31: b.
                let (_, ext) = self.clamp(a, 32, self.i256.const_int(31, false))?;
                let from_top = bld.build_int_sub(self.i256.const_int(31, false), ext, "")?;
                let sh = bld.build_left_shift(from_top, self.i256.const_int(3, false), "")?;
                let up = bld.build_left_shift(b, sh, "")?;
                bld.build_right_shift(up, sh, true, "")?
            }
        })
    }
}
