//! EVM memory: addresses of words already in memory, and the inline check before an
//! access that grows memory only when it must.

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::IntValue;
use revmc_ir::abi::{Builtin, EvmContext, Word as U256};
use revmc_ir::ir::{BinaryOp, InstData, Value};

/// A bound on the constant steps above an expanded offset (which is below 2^63) whose sum
/// is taken to fit in 64 bits. Any step below 2^63 would do; 2^32 is a conservative
/// choice, far above the field offsets and strides compiled code adds.
const SMALL_STEP: U256 = U256::from_limbs([1 << 32, 0, 0, 0]);

impl<'ctx> Lowerer<'ctx, '_> {
    /// Address of EVM memory at `offset`, which a `MemoryExpand` has proven in bounds.
    pub(super) fn memory_ptr(
        &self,
        offset: IntValue<'ctx>,
    ) -> Result<inkwell::values::PointerValue<'ctx>, LlvmError> {
        let base = self.load_ctx_field(EvmContext::OFFSET_MEMORY, self.ptr)?.into_pointer_value();
        let off = self.offset_truncate(offset, self.i64)?;
        // SAFETY: the preceding MemoryExpand established offset + width <= memory_len.
        Ok(unsafe { self.b.build_in_bounds_gep(self.i8, base, &[off], "")? })
    }

    /// A memory offset (or its shifted limb) truncated to `ty`. The optimizing levels hide
    /// the truncation from their pipeline (`opaque_trunc.rs`): InstCombine's evaluation of
    /// it is quadratic in the checks that share an operand. The first tier (values in
    /// memory, O0) runs no pipeline and truncates directly.
    fn offset_truncate(
        &self,
        v: IntValue<'ctx>,
        ty: inkwell::types::IntType<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        if self.memory_values {
            return Ok(self.b.build_int_truncate(v, ty, "")?);
        }
        Ok(crate::opaque_trunc::truncate(self.module, &self.b, v, ty)?)
    }

    /// Inline check that `[offset, offset + width)` is already in memory; grows memory
    /// (`grow_memory`, or the `MemoryExpand` builtin for a width that is not a small
    /// constant) only when it is not.
    pub(super) fn memory_expand(&mut self, args: &[Value]) -> Result<(), LlvmError> {
        let offset = self.value(args[0]);
        let width = self.value(args[1]);
        let len = self.load_ctx_field(EvmContext::OFFSET_MEMORY_LEN, self.i64)?.into_int_value();
        let constant_width =
            self.func.constant(args[1]).filter(|w| *w <= U256::from(32)).map(|w| w.as_limbs()[0]);
        let (fast, grow) = match constant_width {
            // MLOAD / MSTORE / MSTORE8: 64-bit arithmetic on an offset below 2^32, where
            // `offset + width` cannot wrap. Larger offsets take the slow path, which is
            // exact for every offset: the check only has to be conservative. The slow
            // path gets the offset as its low limb and whether any other limb is set, so
            // no more of the word is live across the check.
            Some(w) => {
                let limb = |k: u64| -> Result<IntValue<'ctx>, LlvmError> {
                    let v = self.b.build_right_shift(
                        offset,
                        self.i256.const_int(64 * k, false),
                        false,
                        "",
                    )?;
                    self.offset_truncate(v, self.i64)
                };
                let lo = limb(0)?;
                let high = match self.below_2_64(args[0]) {
                    true => self.i64.const_zero(),
                    false => {
                        let high = self.b.build_or(limb(1)?, limb(2)?, "")?;
                        self.b.build_or(high, limb(3)?, "")?
                    }
                };
                let above_lo32 =
                    self.b.build_right_shift(lo, self.i64.const_int(32, false), false, "")?;
                let above = self.b.build_or(above_lo32, high, "")?;
                let small = self.b.build_int_compare(P::EQ, above, self.i64.const_zero(), "")?;
                let width = self.i64.const_int(w, false);
                let end = self.b.build_int_add(lo, width, "")?;
                let fits = self.b.build_int_compare(P::ULE, end, len, "")?;
                (self.b.build_and(small, fits, "")?, Some((lo, high, width)))
            }
            None => {
                let i128 = self.cx.i128_type();
                let len = self.b.build_int_z_extend(len, self.i256, "")?;
                // offset + width cannot wrap in 256 bits for any offset that passes, since
                // len < 2^64.
                let hi =
                    self.b.build_right_shift(offset, self.i256.const_int(128, false), false, "")?;
                let hi_zero = self.b.build_int_compare(P::EQ, hi, self.i256.const_zero(), "")?;
                let lo = self.offset_truncate(offset, i128)?;
                let lo = self.b.build_int_z_extend(lo, self.i256, "")?;
                let end = self.b.build_int_add(lo, width, "")?;
                let fits = self.b.build_int_compare(P::ULE, end, len, "")?;
                (self.b.build_and(hi_zero, fits, "")?, None)
            }
        };
        let slow = self.cx.append_basic_block(self.f, "mem_grow");
        let done = self.cx.append_basic_block(self.f, "mem_ok");
        self.b.build_conditional_branch(fast, done, slow)?;
        self.b.position_at_end(slow);
        match grow {
            Some((lo, high, width)) => {
                let rc = self.gas_synced(true, || {
                    let f = self
                        .load_ctx_field(EvmContext::OFFSET_GROW_MEMORY, self.ptr)?
                        .into_pointer_value();
                    let args = [self.ctx.into(), lo.into(), high.into(), width.into()];
                    let call =
                        self.b.build_indirect_call(self.grow_memory_ty, f, &args, "grow_memory")?;
                    Ok(call.try_as_basic_value().basic().expect("returns a code").into_int_value())
                })?;
                self.exit_unless_continue(rc)?;
            }
            None => {
                self.call_builtin(Builtin::MemoryExpand, args, true)?;
            }
        }
        self.b.build_unconditional_branch(done)?;
        self.b.position_at_end(done);
        if constant_width.is_some_and(|w| w > 0) {
            self.expanded_in[args[0].index()] = Some(self.lowering);
        }
        Ok(())
    }

    /// Whether `offset` is known to fit in 64 bits: an offset this block has expanded
    /// memory over (below 2^63), or one plus a constant below 2^32, which cannot carry
    /// into the upper limbs. Its check then tests the low limb only.
    fn below_2_64(&self, offset: Value) -> bool {
        let expanded = |v: &Value| self.expanded_in[v.index()] == Some(self.lowering);
        let small = |v: &Value| self.func.constant(*v).is_some_and(|c| c < SMALL_STEP);
        match self.func.inst(self.func.value_def(offset)) {
            _ if expanded(&offset) => true,
            InstData::Binary(BinaryOp::Add, a, b) => {
                (expanded(a) && small(b)) || (small(a) && expanded(b))
            }
            _ => false,
        }
    }
}
