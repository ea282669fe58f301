//! Lowering of individual IR instructions.

use super::{Arg, Lowerer, OPAQUE_CHARGE_INTERVAL};
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::intrinsics::Intrinsic;
use inkwell::values::{BasicValue, IntValue};
use revmc_ir::INLINE_WIDE_OPS;
use revmc_ir::abi::{Builtin, CONTINUE, EnvField, EvmContext, Word as U256, WordOp};
use revmc_ir::ir::{BinaryOp, Height, InstData, StackCheck, UnaryOp, Value};

/// A bound on the constant steps above an expanded offset (which is below 2^63) whose sum
/// is taken to fit in 64 bits. Any step below 2^63 would do; 2^32 is a conservative
/// choice, far above the field offsets and strides compiled code adds.
const SMALL_STEP: U256 = U256::from_limbs([1 << 32, 0, 0, 0]);

impl<'ctx> Lowerer<'ctx, '_> {
    /// Lowers one instruction; returns its result, if it has one.
    pub(super) fn inst(&mut self, data: &InstData) -> Result<Option<IntValue<'ctx>>, LlvmError> {
        let i256 = self.i256;
        let v = match data {
            InstData::Const(c) => i256.const_int_arbitrary_precision(c.as_limbs()),
            InstData::SlotGet(n) => {
                self.b.build_load(i256, self.slots[*n as usize], "")?.into_int_value()
            }
            InstData::SlotSet(n, v) => {
                self.b.build_store(self.slots[*n as usize], self.value(*v))?;
                return Ok(None);
            }
            InstData::StackLoad(n) => {
                let i = self.height(Height::Rel(*n))?;
                self.load_stack_at(i)?
            }
            InstData::StackStore(n, v) => {
                let i = self.height(Height::Rel(*n))?;
                self.store_stack_at(i, self.value(*v))?;
                return Ok(None);
            }
            InstData::AdjustBase(n) => {
                let b = self.height(Height::Rel(*n))?;
                self.set_base(b)?;
                return Ok(None);
            }
            InstData::SetJumpTarget(v) => {
                self.b.build_store(self.jump_target, self.value(*v))?;
                return Ok(None);
            }
            InstData::JumpTarget => self.b.build_load(i256, self.jump_target, "")?.into_int_value(),
            InstData::DynCharge { gas, checks } => {
                self.dyn_charge(*gas, checks)?;
                return Ok(None);
            }
            InstData::Unary(op, a) => self.unary(*op, self.value(*a))?,
            InstData::Binary(op, a, b) => {
                let (a, b) = (self.value(*a), self.value(*b));
                match self.past_wide_budget(*op, a, b) {
                    true => self.binary_call(*op, a, b)?,
                    false => self.binary(*op, a, b)?,
                }
            }
            InstData::Arith(builtin @ (Builtin::Div | Builtin::Mod), args) => {
                self.div_rem(*builtin, args)?
            }
            InstData::Arith(builtin @ (Builtin::SDiv | Builtin::SMod), args) => {
                self.sdiv_smod(*builtin, args)?
            }
            InstData::Arith(builtin, args) => {
                return self.call_builtin(*builtin, args, false);
            }
            InstData::ChargeGas(amount) => {
                let cost = self.i64.const_int(*amount, false);
                self.charge(cost)?;
                return Ok(None);
            }
            InstData::ChargeExpGas { exponent, per_byte } => {
                let cost = self.exp_cost(self.value(*exponent), *per_byte)?;
                self.charge(cost)?;
                return Ok(None);
            }
            InstData::Gas => {
                let g = self.b.build_load(self.i64, self.gas, "")?.into_int_value();
                self.b.build_int_z_extend(g, i256, "")?
            }
            InstData::MSize => self.ctx_usize(EvmContext::OFFSET_MEMORY_LEN)?,
            InstData::CallDataSize => self.ctx_usize(EvmContext::OFFSET_CALLDATA_LEN)?,
            InstData::Env(field) => self.env_word(*field)?,
            InstData::Call(Builtin::CallDataLoad, args) => self.calldata_load(args)?,
            InstData::Call(Builtin::MemoryExpand, args) => {
                self.memory_expand(args)?;
                return Ok(None);
            }
            InstData::Call(builtin, args) => return self.call_builtin(*builtin, args, true),
            InstData::Host { op, args, height, outputs } => {
                return self.host(*op, args, *height, *outputs);
            }
            InstData::MLoad(offset) => {
                let p = self.memory_ptr(self.value(*offset))?;
                let word = self.load_word(p, 1, "")?;
                self.bswap(word)?
            }
            InstData::MStore { offset, value, width } => {
                let p = self.memory_ptr(self.value(*offset))?;
                let v = self.value(*value);
                let st = if *width == 32 {
                    let be = self.bswap(v)?;
                    self.b.build_store(p, be)?
                } else {
                    let byte = self.b.build_int_truncate(v, self.i8, "")?;
                    self.b.build_store(p, byte)?
                };
                st.set_alignment(1).map_err(|e| LlvmError::Verify(e.to_string()))?;
                return Ok(None);
            }
        };
        Ok(Some(v))
    }

    /// Unsigned DIV / MOD: native 64-bit division when both operands fit, else the
    /// builtin. Division by zero yields zero either way.
    fn div_rem(&mut self, builtin: Builtin, args: &[Value]) -> Result<IntValue<'ctx>, LlvmError> {
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
    fn sdiv_smod(&mut self, builtin: Builtin, args: &[Value]) -> Result<IntValue<'ctx>, LlvmError> {
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

    /// CALLDATALOAD: a 32-byte load when the word lies wholly inside the call data, else
    /// the builtin (zero padding past the end, and offsets beyond it).
    fn calldata_load(&mut self, args: &[Value]) -> Result<IntValue<'ctx>, LlvmError> {
        let offset = self.value(args[0]);
        let hi = self.b.build_right_shift(offset, self.i256.const_int(64, false), false, "")?;
        let small = self.b.build_int_compare(P::EQ, hi, self.i256.const_zero(), "")?;
        let off = self.b.build_int_truncate(offset, self.i64, "")?;
        let len = self.load_ctx_field(EvmContext::OFFSET_CALLDATA_LEN, self.i64)?.into_int_value();
        // off <= len && len - off >= 32, which cannot wrap.
        let starts_inside = self.b.build_int_compare(P::ULE, off, len, "")?;
        let rest = self.b.build_int_sub(len, off, "")?;
        let word_fits =
            self.b.build_int_compare(P::UGE, rest, self.i64.const_int(32, false), "")?;
        let inside = self.b.build_and(starts_inside, word_fits, "")?;
        let inside = self.b.build_and(small, inside, "")?;
        self.inline_or_builtin(inside, Builtin::CallDataLoad, args, |l| {
            let data = l.load_ctx_field(EvmContext::OFFSET_CALLDATA, l.ptr)?.into_pointer_value();
            // SAFETY: `off + 32 <= calldata_len`, checked above.
            let p = unsafe { l.b.build_in_bounds_gep(l.i8, data, &[off], "")? };
            let word = l.load_word(p, 1, "")?;
            l.bswap(word)
        })
    }

    /// `inline(self)` where `cond` holds, else builtin `builtin` on `args`: the result of
    /// whichever ran. The builtin is the reference; the inline path covers the common
    /// operands.
    fn inline_or_builtin(
        &mut self,
        cond: IntValue<'ctx>,
        builtin: Builtin,
        args: &[Value],
        inline: impl FnOnce(&mut Self) -> Result<IntValue<'ctx>, LlvmError>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let fast = self.cx.append_basic_block(self.f, "inline");
        let slow = self.cx.append_basic_block(self.f, builtin.name());
        let join = self.cx.append_basic_block(self.f, "joined");
        self.b.build_conditional_branch(cond, fast, slow)?;

        self.b.position_at_end(fast);
        let fast_result = inline(self)?;
        let fast_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(join)?;

        self.b.position_at_end(slow);
        let slow_result =
            self.call_builtin(builtin, args, false)?.expect("a builtin with a result");
        let slow_end = self.b.get_insert_block().expect("positioned");
        self.b.build_unconditional_branch(join)?;

        self.b.position_at_end(join);
        let phi = self.b.build_phi(self.i256, "")?;
        phi.add_incoming(&[(&fast_result, fast_end), (&slow_result, slow_end)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// `gas -= cost`, or exit with `OutOfGas` if `cost` exceeds it.
    pub(super) fn charge(&mut self, cost: IntValue<'ctx>) -> Result<(), LlvmError> {
        if self.memory_values {
            return self.charge_in_memory(cost);
        }
        // A compare and a subtraction; every `OPAQUE_CHARGE_INTERVAL`th check one
        // `usub.with.overflow` instead. As a chain of `icmp ult` on the counter, each
        // check of a long run of sections was rewritten by InstCombine against every
        // condition dominating it (quadratic: 15 s for 24 KiB of `MSIZE GAS ADD POP`); the
        // intrinsic cuts the chain. Every check in that form moved small loops' register
        // allocation (fibonacci or factorial 7 % slower, depending on which counter the
        // out-of-gas exit kept).
        self.charges += 1;
        let g = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
        let ok = self.continuation("gas_ok");
        let usub = if self.charges.is_multiple_of(OPAQUE_CHARGE_INTERVAL) {
            Some(self.intrinsic_struct("llvm.usub.with.overflow", &[g, cost])?)
        } else {
            None
        };
        let short = match usub {
            Some(r) => self.b.build_extract_value(r, 1, "oog")?.into_int_value(),
            None => self.b.build_int_compare(P::ULT, g, cost, "oog")?,
        };
        self.b.build_conditional_branch(short, self.oog, ok)?;
        self.b.position_at_end(ok);
        let left = match usub {
            Some(r) => self.b.build_extract_value(r, 0, "")?.into_int_value(),
            None => self.b.build_int_sub(g, cost, "")?,
        };
        self.b.build_store(self.gas, left)?;
        Ok(())
    }

    /// EXP's dynamic gas: `per_byte * (bytes in exponent)`.
    fn exp_cost(
        &self,
        exponent: IntValue<'ctx>,
        per_byte: u64,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let lz = self.intrinsic("llvm.ctlz", &[exponent, self.cx.bool_type().const_zero()])?;
        let bits = self.b.build_int_sub(self.i256.const_int(256, false), lz, "")?;
        let bits = self.b.build_int_truncate(bits, self.i64, "")?;
        // ceil(bits / 8), which is 0 for a zero exponent.
        let bytes = self.b.build_int_add(bits, self.i64.const_int(7, false), "")?;
        let bytes = self.b.build_right_shift(bytes, self.i64.const_int(3, false), false, "")?;
        Ok(self.b.build_int_mul(bytes, self.i64.const_int(per_byte, false), "")?)
    }

    fn ctx_usize(&self, offset: usize) -> Result<IntValue<'ctx>, LlvmError> {
        let v = self.load_ctx_field(offset, self.i64)?.into_int_value();
        Ok(self.b.build_int_z_extend(v, self.i256, "")?)
    }

    /// Environment word `field`, loaded from the context's environment array.
    fn env_word(&self, field: EnvField) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_word(self.env_ptr(field)?, 8, field.name())
    }

    /// Loads a 256-bit word from `p`, which is aligned to `align` bytes.
    fn load_word(
        &self,
        p: inkwell::values::PointerValue<'ctx>,
        align: u32,
        name: &str,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let l = self.b.build_load(self.i256, p, name)?;
        l.as_instruction_value()
            .expect("load")
            .set_alignment(align)
            .map_err(|e| LlvmError::Verify(e.to_string()))?;
        Ok(l.into_int_value())
    }

    /// Address of EVM memory at `offset`, which a `MemoryExpand` has proven in bounds.
    fn memory_ptr(
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
    fn memory_expand(&mut self, args: &[Value]) -> Result<(), LlvmError> {
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

    /// Calls `builtin` through the context's table. `fallible` builtins may charge gas
    /// and halt: gas is synced around them and a non-zero result exits.
    fn call_builtin(
        &mut self,
        builtin: Builtin,
        args: &[Value],
        fallible: bool,
    ) -> Result<Option<IntValue<'ctx>>, LlvmError> {
        let vals: Vec<_> = args.iter().map(|&a| Arg::Word(self.value(a))).collect();
        let rc = self.emit_builtin_call(builtin, &vals, fallible)?;
        if fallible {
            self.exit_unless_continue(rc)?;
        }
        if !builtin.has_result() {
            return Ok(None);
        }
        Ok(Some(self.b.build_load(self.i256, self.args, "")?.into_int_value()))
    }

    /// Stores `args` in the operand buffer and calls `builtin`; with `sync_gas` the gas
    /// local is written to the context before and read back after. Returns the result code.
    pub(super) fn emit_builtin_call(
        &mut self,
        builtin: Builtin,
        args: &[Arg<'ctx>],
        sync_gas: bool,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        for (i, a) in args.iter().enumerate() {
            // Builtins take at most three operands.
            let p = self.operand(i as u64)?;
            match *a {
                Arg::Word(w) => {
                    self.b.build_store(p, w)?;
                }
                Arg::Small(v) => {
                    self.b.build_store(p, v)?;
                }
            }
        }
        self.gas_synced(sync_gas, || {
            let table =
                self.load_ctx_field(EvmContext::OFFSET_BUILTINS, self.ptr)?.into_pointer_value();
            let args = [self.ctx.into(), self.args.into()];
            self.call_table_entry(table, builtin as u64, builtin.name(), self.builtin_ty, &args)
        })
    }

    /// Returns `rc` from the function unless it is `CONTINUE`.
    pub(super) fn exit_unless_continue(&mut self, rc: IntValue<'ctx>) -> Result<(), LlvmError> {
        let ok =
            self.b.build_int_compare(P::EQ, rc, self.i8.const_int(CONTINUE as u64, false), "")?;
        let cont = self.continuation("cont");
        let here = self.b.get_insert_block().expect("positioned");
        self.halt.1.add_incoming(&[(&rc, here)]);
        self.b.build_conditional_branch(ok, cont, self.halt.0)?;
        self.b.position_at_end(cont);
        Ok(())
    }

    /// Address of entry `i` of the caller's stack array.
    pub(super) fn stack_ptr(
        &self,
        i: IntValue<'ctx>,
    ) -> Result<inkwell::values::PointerValue<'ctx>, LlvmError> {
        // SAFETY: compiled code only indexes entries below the stack limit (static
        // heights, or dynamic ones checked against the base), and the array holds 1024.
        Ok(unsafe { self.b.build_in_bounds_gep(self.i256, self.stack, &[i], "")? })
    }

    /// Stores a word into the caller's stack array (alignment 8, as `Word`).
    fn store_stack_at(&self, i: IntValue<'ctx>, v: IntValue<'ctx>) -> Result<(), LlvmError> {
        let st = self.b.build_store(self.stack_ptr(i)?, v)?;
        st.set_alignment(8).map_err(|e| LlvmError::Verify(e.to_string()))?;
        Ok(())
    }

    /// Loads a word from the caller's stack array.
    fn load_stack_at(&self, i: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_word(self.stack_ptr(i)?, 8, "")
    }

    /// Stores a word into entry `i` of the caller's stack array.
    pub(super) fn store_stack(&self, i: u64, v: IntValue<'ctx>) -> Result<(), LlvmError> {
        self.store_stack_at(self.i64.const_int(i, false), v)
    }

    /// Loads entry `i` of the caller's stack array.
    pub(super) fn load_stack(&self, i: u64) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_stack_at(self.i64.const_int(i, false))
    }

    /// A stack height as an `i64`: a constant, or the base plus an offset.
    pub(super) fn height(&self, h: Height) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(match h {
            Height::Abs(n) => self.i64.const_int(n as u64, false),
            Height::Rel(n) => {
                let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
                let off = self.i64.const_int(n as i64 as u64, true);
                self.b.build_int_add(base, off, "")?
            }
        })
    }

    /// Stores the operands of a host operation, stack top first, below height `h`.
    /// `None` operands are already in place.
    pub(super) fn store_operands(
        &self,
        h: IntValue<'ctx>,
        args: &[Option<Value>],
    ) -> Result<(), LlvmError> {
        for (i, a) in args.iter().enumerate() {
            if let Some(a) = a {
                let idx = self.b.build_int_sub(h, self.i64.const_int(i as u64 + 1, false), "")?;
                if self.memory_values {
                    self.store_value(self.stack_ptr(idx)?, *a)?;
                } else {
                    self.store_stack_at(idx, self.value(*a))?;
                }
            }
        }
        Ok(())
    }

    /// Calls the `Host` builtin for `op` at height `h`. Entries below the base of a
    /// dynamic shape are live in the array, so the builtin must keep them.
    pub(super) fn call_host(
        &mut self,
        op: u8,
        h: IntValue<'ctx>,
        height: Height,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let keep = match height {
            Height::Abs(_) => self.i64.const_zero(),
            Height::Rel(_) => self.b.build_load(self.i64, self.base, "base")?.into_int_value(),
        };
        let ops =
            [Arg::Small(self.i64.const_int(op as u64, false)), Arg::Small(h), Arg::Small(keep)];
        self.emit_builtin_call(Builtin::Host, &ops, true)
    }

    /// A host operation: operands to the top of the stack array, the `Host` builtin, and
    /// the result (if any) back from where revm left it.
    fn host(
        &mut self,
        op: u8,
        args: &[Option<Value>],
        height: Height,
        outputs: u8,
    ) -> Result<Option<IntValue<'ctx>>, LlvmError> {
        let h = self.height(height)?;
        self.store_operands(h, args)?;
        let rc = self.call_host(op, h, height)?;
        self.exit_unless_continue(rc)?;
        if outputs == 0 {
            return Ok(None);
        }
        let at = self.b.build_int_sub(h, self.i64.const_int(args.len() as u64, false), "")?;
        Ok(Some(self.load_stack_at(at)?))
    }

    /// A dynamic-shape section: if the base satisfies every instruction's stack
    /// requirement and the gas left covers the section's gas, charge it; otherwise halt as
    /// the interpreter would, with `OutOfGas` if the gas left is short of the section's gas
    /// up to the first failing instruction (or no instruction's stack check fails), else
    /// with that instruction's stack error.
    ///
    /// The stack and gas conditions are one branch: the shared scan tells them apart, so a
    /// section costs LLVM one block instead of two (a sixth of a large contract's blocks).
    fn dyn_charge(&mut self, gas: u64, checks: &[StackCheck]) -> Result<(), LlvmError> {
        let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
        let c = |v: i64| self.i64.const_int(v as u64, true);
        let lo = checks.iter().map(|c| c.min_base).max().unwrap_or(i64::MIN);
        let hi = checks.iter().map(|c| c.max_base).min().unwrap_or(i64::MAX);
        // lo <= base <= hi as one unsigned compare, as instcombine would write it (the
        // first tier has no instcombine). With lo > hi (two merged sections whose checks
        // no base satisfies together) the section always fails, and the scan finds the
        // first failing check.
        let stack_ok = if lo <= hi {
            let off = self.b.build_int_sub(base, c(lo), "")?;
            let span = c(hi).const_sub(c(lo));
            self.b.build_int_compare(P::ULE, off, span, "stack_ok")?
        } else {
            self.cx.bool_type().const_zero()
        };
        // The gas left after the charge, wrapped when short: stored only where it holds,
        // since the scan reads the gas left before the section.
        let (ok, left) = if gas > 0 {
            let cost = self.i64.const_int(gas, false);
            let g = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
            let enough = self.b.build_int_compare(P::UGE, g, cost, "gas_ok")?;
            let left = self.b.build_int_sub(g, cost, "")?;
            (self.b.build_and(stack_ok, enough, "")?, Some(left))
        } else {
            (stack_ok, None)
        };
        let fault = self.stack_fault_entry(checks)?;
        let charged = self.continuation("section_ok");
        let br = self.b.build_conditional_branch(ok, charged, fault)?;
        if gas > 0 {
            // Instruction selection splits a branch on an `and` into two branches (and
            // blocks) unless it is marked unpredictable.
            let kind = self.cx.get_kind_id("unpredictable");
            br.set_metadata(self.cx.metadata_node(&[]), kind)
                .map_err(|e| LlvmError::Verify(e.to_string()))?;
        }
        self.b.position_at_end(charged);
        if let Some(left) = left {
            self.b.build_store(self.gas, left)?;
        }
        Ok(())
    }

    /// Calls the intrinsic `name`, overloaded on the type of `args[0]`.
    fn call_intrinsic(
        &self,
        name: &str,
        args: &[IntValue<'ctx>],
    ) -> Result<inkwell::values::BasicValueEnum<'ctx>, LlvmError> {
        let intr = Intrinsic::find(name)
            .ok_or_else(|| LlvmError::Target(format!("no intrinsic {name}")))?;
        let decl = intr
            .get_declaration(self.module, &[args[0].get_type().into()])
            .ok_or_else(|| LlvmError::Target(format!("no declaration of {name}")))?;
        let args: Vec<_> = args.iter().map(|a| (*a).into()).collect();
        let call = self.b.build_call(decl, &args, "")?;
        Ok(call.try_as_basic_value().basic().expect("intrinsic returns a value"))
    }

    pub(super) fn intrinsic(
        &self,
        name: &str,
        args: &[IntValue<'ctx>],
    ) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(self.call_intrinsic(name, args)?.into_int_value())
    }

    /// An intrinsic returning a pair (`{result, overflow}`).
    fn intrinsic_struct(
        &self,
        name: &str,
        args: &[IntValue<'ctx>],
    ) -> Result<inkwell::values::StructValue<'ctx>, LlvmError> {
        Ok(self.call_intrinsic(name, args)?.into_struct_value())
    }

    fn bswap(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        self.intrinsic("llvm.bswap", &[v])
    }

    fn bool_to_word(&self, c: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(self.b.build_int_z_extend(c, self.i256, "")?)
    }

    fn unary(&self, op: UnaryOp, a: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
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
    fn past_wide_budget(&mut self, op: BinaryOp, a: IntValue<'ctx>, b: IntValue<'ctx>) -> bool {
        if !revmc_ir::is_wide(op, a.is_const(), b.is_const()) {
            return false;
        }
        self.wide_ops += 1;
        self.wide_ops > INLINE_WIDE_OPS
    }

    /// Word `i` (below 4) of the operand buffer.
    fn operand(&self, i: u64) -> Result<inkwell::values::PointerValue<'ctx>, LlvmError> {
        // SAFETY: the operand buffer holds four words.
        Ok(unsafe {
            self.b.build_in_bounds_gep(self.i256, self.args, &[self.i64.const_int(i, false)], "")?
        })
    }

    /// `op` on `a` and `b` as the first tier's word operation, the operands and result in
    /// the operand buffer.
    fn binary_call(
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

    fn binary(
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

#[cfg(test)]
mod tests {
    use super::OPAQUE_CHARGE_INTERVAL;
    use crate::{OptLevel, lower::lower, opt};
    use inkwell::context::Context;
    use revmc_ir::{INLINE_WIDE_OPS, Limits, SpecId};

    /// Options that never split.
    fn whole() -> crate::lower::LowerOptions {
        crate::lower::LowerOptions { chunk_cost: usize::MAX, ..Default::default() }
    }

    /// The optimized LLVM IR of `code`, as text.
    fn optimized_ir(code: &[u8]) -> String {
        let func =
            revmc_ir::translate(code, SpecId::CANCUN, &Limits::default()).expect("translates");
        let cx = Context::create();
        let module = lower(&cx, &func, "prog", OptLevel::O2, &whole()).expect("lowers");
        let machine = opt::host_target_machine(OptLevel::O2).expect("a target machine");
        opt::optimize(&module, &machine, OptLevel::O2).expect("optimizes");
        module.print_to_string().to_string()
    }

    #[test]
    fn memory_offsets_are_plain_truncations_again_after_optimizing_at_every_level() {
        // MSTORE(CALLDATALOAD(0), MLOAD(CALLDATALOAD(0))), then
        // CALLDATACOPY(CALLDATALOAD(32), 0, CALLDATASIZE): offsets unknown when compiling,
        // of fixed and of variable width.
        let code = [0x5f, 0x35, 0x51, 0x5f, 0x35, 0x52, 0x36, 0x5f, 0x60, 0x20, 0x35, 0x37, 0x00];
        let func =
            revmc_ir::translate(&code, SpecId::CANCUN, &Limits::default()).expect("translates");
        for level in [OptLevel::O1, OptLevel::O2, OptLevel::O3] {
            let cx = Context::create();
            let module = lower(&cx, &func, "prog", level, &whole()).expect("lowers");
            let lowered = module.print_to_string().to_string();
            assert!(lowered.contains("call i64 @revmc.opaque.trunc.i64.i256"), "{level:?}");
            let machine = opt::host_target_machine(level).expect("a target machine");
            opt::optimize(&module, &machine, level).expect("optimizes");
            let ir = module.print_to_string().to_string();
            assert!(!ir.contains("revmc.opaque"), "{level:?}: {ir}");
            assert!(ir.contains("trunc i256"), "{level:?}: {ir}");
        }
    }

    #[test]
    fn wide_operations_past_the_budget_call_the_word_operations() {
        // CALLDATASIZE, then (DUP1 MUL) repeated: squares of a value unknown when compiling.
        let extra = 10;
        let mut code = vec![0x36];
        for _ in 0..INLINE_WIDE_OPS + extra {
            code.extend_from_slice(&[0x80, 0x02]);
        }
        code.push(0x00);
        let ir = optimized_ir(&code);
        // `mul`, `mul nuw`, `mul nuw nsw`: the optimizer marks the first ones.
        assert_eq!(ir.matches(" = mul ").count(), INLINE_WIDE_OPS as usize);
        // Each of the others calls the `Mul` entry of the word-operation table: the only
        // indirect calls of this program.
        let calls = ir.matches("call i8 %").count();
        assert_eq!(calls, extra as usize, "{calls} calls for {extra} multiplications");
    }

    #[test]
    fn every_opaque_interval_a_gas_check_survives_the_optimizer_as_a_subtraction() {
        // GAS reads the counter, so each one ends a gas section: a long run of sections,
        // whose every `OPAQUE_CHARGE_INTERVAL`th check cuts InstCombine's chain.
        let sections = 1000;
        let mut code = Vec::new();
        for _ in 0..sections {
            code.extend_from_slice(&[0x5a, 0x50]); // GAS POP
        }
        code.push(0x00);
        let ir = optimized_ir(&code);
        let opaque = ir.matches("call { i64, i1 } @llvm.usub.with.overflow.i64").count();
        assert_eq!(opaque, sections / OPAQUE_CHARGE_INTERVAL as usize);
    }
}
