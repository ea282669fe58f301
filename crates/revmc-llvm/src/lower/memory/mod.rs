//! The first tier's lowering: every value in memory.
//!
//! LLVM's fast instruction selector (FastISel, used at O0) cannot select `i256`: each
//! block with a 256-bit operation goes through SelectionDAG, whose type legalization is
//! most of the first tier's compile time. Here no value is an `i256`. Each one lives in a
//! 32-byte temporary (`temps.rs`) or, for constants, a private global; copies are 32-byte
//! `memcpy`s; arithmetic calls a [`WordOp`] through the context's table with three
//! pointers; gas, heights and bounds checks are `i64`. FastISel selects nearly all of it.

pub(crate) mod temps;

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::{IntValue, PointerValue};
use revmc_ir::abi::{Builtin, EvmContext, Word, WordOp};
use revmc_ir::ir::{Inst, InstData, Value};
use temps::{Location, Storage};

impl<'ctx> Lowerer<'ctx, '_> {
    /// Lowers one instruction with its result in memory; returns where the result is.
    pub(super) fn inst_in_memory(
        &mut self,
        inst: Inst,
        data: &InstData,
    ) -> Result<Option<PointerValue<'ctx>>, LlvmError> {
        let dst = |l: &Self| l.result_ptr(inst);
        let p = match data {
            InstData::Const(c) => self.word_const(*c)?,
            InstData::SlotGet(n) if self.stays_in_place(inst) => self.slot(*n),
            InstData::SlotGet(n) => {
                let dst = dst(self)?;
                self.copy_word(dst, self.slot(*n))?;
                dst
            }
            InstData::StackLoad(n) if self.stays_in_place(inst) => self.rel_stack_ptr(*n)?,
            InstData::SlotSet(_, v) | InstData::StackStore(_, v) if self.is_forwarded(*v) => {
                return Ok(None);
            }
            InstData::SlotSet(n, v) => {
                self.store_value(self.slot(*n), *v)?;
                return Ok(None);
            }
            InstData::StackLoad(n) => {
                let dst = dst(self)?;
                self.copy_word(dst, self.rel_stack_ptr(*n)?)?;
                dst
            }
            InstData::StackStore(n, v) => {
                self.store_value(self.rel_stack_ptr(*n)?, *v)?;
                return Ok(None);
            }
            InstData::SetJumpTarget(v) => {
                self.store_value(self.jump_target, *v)?;
                return Ok(None);
            }
            InstData::JumpTarget => {
                let dst = dst(self)?;
                self.copy_word(dst, self.jump_target)?;
                dst
            }
            InstData::AdjustBase(_) | InstData::DynCharge { .. } | InstData::ChargeGas(_) => {
                self.inst(data)?;
                return Ok(None);
            }
            InstData::Unary(op, a) => {
                let (dst, a) = (dst(self)?, self.word(*a));
                self.call_word_op(WordOp::of_unary(*op), dst, a, a)?;
                dst
            }
            InstData::Binary(op, a, b) => {
                let dst = dst(self)?;
                self.call_word_op(WordOp::of_binary(*op), dst, self.word(*a), self.word(*b))?;
                dst
            }
            InstData::Arith(builtin, args) => {
                return self.call_builtin_in_memory(inst, *builtin, args, false);
            }
            InstData::ChargeExpGas { exponent, per_byte } => {
                let cost = self.exp_cost_in_memory(self.word(*exponent), *per_byte)?;
                self.charge(cost)?;
                return Ok(None);
            }
            InstData::Gas => {
                let g = self.b.build_load(self.i64, self.gas, "")?.into_int_value();
                self.small_word(dst(self)?, g)?
            }
            InstData::MSize => self.ctx_small_word(dst(self)?, EvmContext::OFFSET_MEMORY_LEN)?,
            InstData::CallDataSize => {
                self.ctx_small_word(dst(self)?, EvmContext::OFFSET_CALLDATA_LEN)?
            }
            InstData::Env(field) => {
                let dst = dst(self)?;
                self.copy_word(dst, self.env_ptr(*field)?)?;
                dst
            }
            InstData::Call(builtin, args) => {
                return self.call_builtin_in_memory(inst, *builtin, args, true);
            }
            InstData::Host { op, args, height, outputs } => {
                let h = self.height(*height)?;
                self.store_operands(h, args)?;
                let rc = self.call_host(*op, h, *height)?;
                self.exit_unless_continue(rc)?;
                if *outputs == 0 {
                    return Ok(None);
                }
                let at =
                    self.b.build_int_sub(h, self.i64.const_int(args.len() as u64, false), "")?;
                let dst = dst(self)?;
                self.copy_word(dst, self.stack_ptr(at)?)?;
                dst
            }
            InstData::MLoad(offset) => {
                let dst = dst(self)?;
                self.memory_access(WordOp::MLoad, dst, *offset)?;
                dst
            }
            InstData::MStore { offset, value, width } => {
                let op = if *width == 32 { WordOp::MStore } else { WordOp::MStore8 };
                self.memory_access(op, self.word(*value), *offset)?;
                return Ok(None);
            }
        };
        Ok(Some(p))
    }

    /// Where the result of `inst` is computed: its temporary, or the location its one use
    /// stores it to.
    fn result_ptr(&self, inst: Inst) -> Result<PointerValue<'ctx>, LlvmError> {
        let v = self.func.inst_result(inst).expect("an instruction with a result");
        Ok(match self.temp_plan.storage[v.index()] {
            Storage::Temp(t) => self.temp(t),
            Storage::Forwarded(Location::Slot(n)) => self.slot(n),
            Storage::Forwarded(Location::Stack(n)) => self.rel_stack_ptr(n)?,
            other => unreachable!("{v} is computed in a temporary, not {other:?}"),
        })
    }

    /// Address of the stack array entry `n` above the base: a constant offset from the
    /// base's address, which the fast selector folds into the access.
    fn rel_stack_ptr(&self, n: i32) -> Result<PointerValue<'ctx>, LlvmError> {
        let base = self.b.build_load(self.ptr, self.base_ptr, "base_ptr")?.into_pointer_value();
        let off = self.i64.const_int((n as i64 * 32) as u64, true);
        // SAFETY: dynamic-shape sections check the base against every entry they touch.
        Ok(unsafe { self.b.build_gep(self.i8, base, &[off], "")? })
    }

    /// `gas -= cost`, or exit with `OutOfGas` if `cost` exceeds it: one subtraction whose
    /// borrow is the branch. The gas local is written even when it wraps: the out-of-gas
    /// exit's gas is unobservable (revm spends all of a halted frame's gas).
    pub(super) fn charge_in_memory(&mut self, cost: IntValue<'ctx>) -> Result<(), LlvmError> {
        let g = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
        let intr = inkwell::intrinsics::Intrinsic::find("llvm.usub.with.overflow")
            .ok_or_else(|| LlvmError::Target("no intrinsic llvm.usub.with.overflow".into()))?;
        let decl = intr
            .get_declaration(self.module, &[self.i64.into()])
            .ok_or_else(|| LlvmError::Target("no declaration of llvm.usub.with.overflow".into()))?;
        let res = self.b.build_call(decl, &[g.into(), cost.into()], "")?;
        let res = res.try_as_basic_value().basic().expect("a pair").into_struct_value();
        let left = self.b.build_extract_value(res, 0, "")?.into_int_value();
        let short = self.b.build_extract_value(res, 1, "oog")?.into_int_value();
        self.b.build_store(self.gas, left)?;
        let ok = self.continuation("gas_ok");
        self.b.build_conditional_branch(short, self.oog, ok)?;
        self.b.position_at_end(ok);
        Ok(())
    }

    /// Whether `v` was computed where its store puts it.
    fn is_forwarded(&self, v: Value) -> bool {
        matches!(self.temp_plan.storage[v.index()], Storage::Forwarded(_))
    }

    /// Whether the stack read `inst` is left where it is, unread until used.
    fn stays_in_place(&self, inst: Inst) -> bool {
        let v = self.func.inst_result(inst).expect("a stack read has a result");
        self.temp_plan.storage[v.index()] == Storage::Location
    }

    /// Where value `v` lives.
    pub(super) fn word(&self, v: Value) -> PointerValue<'ctx> {
        // A chunk may read a value another chunk computed: its temporary is in the frame.
        if let (Some(_), Storage::Temp(t)) = (self.chunk_frame, self.temp_plan.storage[v.index()])
            && (self.temp_plan.local..self.temp_plan.count).contains(&t)
        {
            return self.temp(t);
        }
        self.words[v.index()].expect("value used before lowering its definition")
    }

    /// Stack slot `n`: its alloca, or in a chunk its place in the frame.
    pub(super) fn slot(&self, n: u32) -> PointerValue<'ctx> {
        match self.chunk_frame {
            Some(frame) => self.frame_field(frame, super::split::slot_offset(n)),
            None => self.slots[n as usize],
        }
    }

    /// Temporary `t`: its alloca, or in a chunk, for a value read in other blocks, its
    /// place in the frame.
    fn temp(&self, t: u32) -> PointerValue<'ctx> {
        match self.chunk_frame {
            Some(frame) if t >= self.temp_plan.local => {
                let k = t - self.temp_plan.local;
                self.frame_field(frame, super::split::shared_temp_offset(self.func.num_slots, k))
            }
            _ => self.temps[t as usize],
        }
    }

    /// The address `offset` bytes into the frame at `frame`, computed where the builder
    /// is: FastISel folds it into the access instead of keeping a pointer per field.
    pub(super) fn frame_field(&self, frame: PointerValue<'ctx>, offset: u64) -> PointerValue<'ctx> {
        let off = [self.i64.const_int(offset, false)];
        // SAFETY: the offset is within the frame (`split::FrameLayout`).
        unsafe { self.b.build_in_bounds_gep(self.i8, frame, &off, "") }
            .expect("the builder is positioned while lowering")
    }

    /// A private global holding `c`, one per distinct constant.
    fn word_const(&mut self, c: Word) -> Result<PointerValue<'ctx>, LlvmError> {
        if let Some(&p) = self.word_consts.get(&c) {
            return Ok(p);
        }
        let global = self.private_constant(self.i64_array(c.as_limbs()), "word");
        global.set_alignment(8);
        let p = global.as_pointer_value();
        self.word_consts.insert(c, p);
        Ok(p)
    }

    /// Copies the 32-byte word at `src` to `dst` (nothing when they are the same
    /// address: a value read in place and written back).
    ///
    /// As vector loads and stores: FastISel expands a 32-byte `memcpy` into four 8-byte
    /// pairs, and copies were a quarter of the first tier's machine instructions. One
    /// 32-byte move where the target has them (AVX; LLVM then puts a `vzeroupper` before
    /// calls), else two 16-byte ones, which every 64-bit target has (SSE2, NEON): the
    /// 32-byte form is a quarter of the IR instructions and compiled a large contract 4–6 %
    /// faster with 6 % less code (docs/compile-cost.md, "Word copies in one move").
    pub(super) fn copy_word(
        &self,
        dst: PointerValue<'ctx>,
        src: PointerValue<'ctx>,
    ) -> Result<(), LlvmError> {
        if dst == src {
            return Ok(());
        }
        let align = |i: Option<inkwell::values::InstructionValue<'ctx>>| {
            i.map_or(Ok(()), |i| i.set_alignment(8)).map_err(|e| LlvmError::Verify(e.to_string()))
        };
        if self.wide_copies {
            let v = self.b.build_load(self.i64.vec_type(4), src, "")?.into_vector_value();
            align(v.as_instruction())?;
            return align(Some(self.b.build_store(dst, v)?));
        }
        let half = self.i64.vec_type(2);
        for k in 0..2u64 {
            // The first half is at the word's own address: no `getelementptr` to select.
            let (s, d) = match k {
                0 => (src, dst),
                // SAFETY: a word is two 16-byte halves.
                _ => unsafe {
                    let at = [self.i64.const_int(k, false)];
                    (
                        self.b.build_in_bounds_gep(half, src, &at, "")?,
                        self.b.build_in_bounds_gep(half, dst, &at, "")?,
                    )
                },
            };
            let v = self.b.build_load(half, s, "")?.into_vector_value();
            align(v.as_instruction())?;
            align(Some(self.b.build_store(d, v)?))?;
        }
        Ok(())
    }

    /// Writes value `v` to `dst`: a constant as four immediate stores, half the code of a
    /// copy from its global.
    pub(super) fn store_value(&self, dst: PointerValue<'ctx>, v: Value) -> Result<(), LlvmError> {
        let Some(c) = self.func.constant(v) else {
            return self.copy_word(dst, self.word(v));
        };
        for (k, &limb) in c.as_limbs().iter().enumerate() {
            // SAFETY: a word has four limbs.
            let q = unsafe {
                self.b.build_in_bounds_gep(
                    self.i64,
                    dst,
                    &[self.i64.const_int(k as u64, false)],
                    "",
                )?
            };
            self.b.build_store(q, self.i64.const_int(limb, false))?;
        }
        Ok(())
    }

    /// Limb `k` (little-endian) of the word at `p`.
    fn limb(&self, p: PointerValue<'ctx>, k: u64) -> Result<IntValue<'ctx>, LlvmError> {
        // SAFETY: a word has four limbs.
        let q = unsafe {
            self.b.build_in_bounds_gep(self.i64, p, &[self.i64.const_int(k, false)], "")?
        };
        Ok(self.b.build_load(self.i64, q, "")?.into_int_value())
    }

    /// Whether the word at `p` is below `2^bits` (`bits` at most 64), and its low limb.
    pub(super) fn word_below(
        &self,
        p: PointerValue<'ctx>,
        bits: u32,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>), LlvmError> {
        let lo = self.limb(p, 0)?;
        let mut hi = self.limb(p, 1)?;
        for k in 2..4 {
            hi = self.b.build_or(hi, self.limb(p, k)?, "")?;
        }
        if bits < 64 {
            let over =
                self.b.build_right_shift(lo, self.i64.const_int(bits as u64, false), false, "")?;
            hi = self.b.build_or(hi, over, "")?;
        }
        let fits = self.b.build_int_compare(P::EQ, hi, self.i64.const_zero(), "")?;
        Ok((fits, lo))
    }

    /// Whether the word at `p` is non-zero.
    pub(super) fn word_is_nonzero(
        &self,
        p: PointerValue<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let mut any = self.limb(p, 0)?;
        for k in 1..4 {
            any = self.b.build_or(any, self.limb(p, k)?, "")?;
        }
        Ok(self.b.build_int_compare(P::NE, any, self.i64.const_zero(), "")?)
    }

    /// Writes the 64-bit `v` as a word at `dst`; returns `dst`.
    pub(super) fn small_word(
        &self,
        dst: PointerValue<'ctx>,
        v: IntValue<'ctx>,
    ) -> Result<PointerValue<'ctx>, LlvmError> {
        for k in 0..4u64 {
            // SAFETY: a word has four limbs.
            let q = unsafe {
                self.b.build_in_bounds_gep(self.i64, dst, &[self.i64.const_int(k, false)], "")?
            };
            let limb = if k == 0 { v } else { self.i64.const_zero() };
            self.b.build_store(q, limb)?;
        }
        Ok(dst)
    }

    fn ctx_small_word(
        &self,
        dst: PointerValue<'ctx>,
        offset: usize,
    ) -> Result<PointerValue<'ctx>, LlvmError> {
        let v = self.load_ctx_field(offset, self.i64)?.into_int_value();
        self.small_word(dst, v)
    }

    /// Whether `inst` is the `MemoryExpand` of the access `next` (the translator emits
    /// them together): then it is lowered with the access, by `memory_access`.
    pub(super) fn expands_for(&self, inst: Inst, next: Inst) -> bool {
        let InstData::Call(Builtin::MemoryExpand, args) = self.func.inst(inst) else {
            return false;
        };
        let Some(width) = self.func.constant(args[1]) else {
            return false;
        };
        match self.func.inst(next) {
            InstData::MLoad(offset) => *offset == args[0] && width == Word::from(32),
            InstData::MStore { offset, width: w, .. } => {
                *offset == args[0] && width == Word::from(*w)
            }
            _ => false,
        }
    }

    /// A memory access (`op` on the word at `w`) at the offset `offset`: one call, which
    /// does the access if memory already holds it. If not, the pending `MemoryExpand` of
    /// the access grows memory (charging its gas, or halting) and the access is retried.
    /// Without a pending expansion, an earlier one has already covered the access.
    fn memory_access(
        &mut self,
        op: WordOp,
        w: PointerValue<'ctx>,
        offset: Value,
    ) -> Result<(), LlvmError> {
        let expand = self.pending_expand.take();
        let rc = self.call_word_op(op, w, self.word(offset), self.ctx)?;
        let Some(expand) = expand else { return Ok(()) };
        let InstData::Call(_, args) = self.func.inst(expand) else {
            unreachable!("a pending expansion is a MemoryExpand")
        };
        let missed = self.b.build_int_compare(P::NE, rc, self.i8.const_zero(), "")?;
        let grow = self.cx.append_basic_block(self.f, "mem_grow");
        let done = self.continuation("mem_ok");
        self.b.build_conditional_branch(missed, grow, done)?;
        self.b.position_at_end(grow);
        self.call_builtin_in_memory(expand, Builtin::MemoryExpand, args, true)?;
        self.call_word_op(op, w, self.word(offset), self.ctx)?;
        self.b.build_unconditional_branch(done)?;
        self.b.position_at_end(done);
        Ok(())
    }

    /// Calls `builtin` with the addresses of the words of `args` and of the result of
    /// `inst`, through the context's by-reference table. `fallible` builtins may charge
    /// gas and halt: gas is synced around them and a non-zero result exits.
    fn call_builtin_in_memory(
        &mut self,
        inst: Inst,
        builtin: Builtin,
        args: &[Value],
        fallible: bool,
    ) -> Result<Option<PointerValue<'ctx>>, LlvmError> {
        let dst = match builtin.has_result() {
            true => self.result_ptr(inst)?,
            false => self.args,
        };
        let mut ptrs = [dst.into(); 3];
        for (p, &a) in ptrs.iter_mut().zip(args) {
            *p = self.word(a).into();
        }
        let rc = self.gas_synced(fallible, || {
            let table = self
                .load_ctx_field(EvmContext::OFFSET_BUILTINS_BY_REF, self.ptr)?
                .into_pointer_value();
            let args = [self.ctx.into(), dst.into(), ptrs[0], ptrs[1], ptrs[2]];
            self.call_table_entry(table, builtin as u64, builtin.name(), self.builtin_ref_ty, &args)
        })?;
        if fallible {
            self.exit_unless_continue(rc)?;
        }
        Ok(builtin.has_result().then_some(dst))
    }

    /// EXP's dynamic gas from the exponent's leading zeros (computed in the operand
    /// buffer's spare fourth word, which no builtin reads).
    fn exp_cost_in_memory(
        &self,
        exponent: PointerValue<'ctx>,
        per_byte: u64,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        // SAFETY: the buffer holds four words.
        let scratch = unsafe {
            self.b.build_in_bounds_gep(self.i256, self.args, &[self.i64.const_int(3, false)], "")?
        };
        self.call_word_op(WordOp::Clz, scratch, exponent, exponent)?;
        let lz = self.limb(scratch, 0)?;
        let bits = self.b.build_int_sub(self.i64.const_int(256, false), lz, "")?;
        let bytes = self.b.build_int_add(bits, self.i64.const_int(7, false), "")?;
        let bytes = self.b.build_right_shift(bytes, self.i64.const_int(3, false), false, "")?;
        Ok(self.b.build_int_mul(bytes, self.i64.const_int(per_byte, false), "")?)
    }
}
