//! Block terminators: branches, the dispatch of dynamic jumps, suspensions, halts, and
//! leaving a frame to the interpreter with the stack written back.

use super::Lowerer;
use crate::LlvmError;
use inkwell::values::IntValue;
use revmc_ir::InstructionResult;
use revmc_ir::abi::EvmContext;
use revmc_ir::ir::{Height, Terminator};

impl<'ctx> Lowerer<'ctx, '_> {
    /// Before the function returns: writes the gas back, the static slots of a stack
    /// `stack_len` high, and, `with_len`, that height.
    fn write_back(&self, stack_len: Height, with_len: bool) -> Result<(), LlvmError> {
        self.sync_gas_out()?;
        if let Height::Abs(n) = stack_len {
            self.spill_slots(u64::from(n))?;
        }
        if with_len {
            let len = self.height(stack_len)?;
            self.b.build_store(self.stack_len, len)?;
        }
        Ok(())
    }

    /// The recorded jump target as an `i64` pc: itself below 2^64, else `u64::MAX`, which
    /// is no pc of any code ([`revmc_ir::abi::INTERPRET_JUMP`]).
    fn jump_target_pc(&self) -> Result<IntValue<'ctx>, LlvmError> {
        let (fits, low) = if self.memory_values {
            self.word_below(self.jump_target, 64)?
        } else {
            let v = self.b.build_load(self.i256, self.jump_target, "")?.into_int_value();
            self.value_below(v, 64)?
        };
        let none = self.i64.const_all_ones();
        Ok(self.b.build_select(fits, low, none, "")?.into_int_value())
    }

    /// Whether the `i256` value `v` is below `2^bits`, and its low 64 bits: the SSA form
    /// of `word_below`.
    fn value_below(
        &self,
        v: IntValue<'ctx>,
        bits: u64,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>), LlvmError> {
        let hi = self.b.build_right_shift(v, self.i256.const_int(bits, false), false, "")?;
        let zero = self.i256.const_zero();
        let fits = self.b.build_int_compare(inkwell::IntPredicate::EQ, hi, zero, "")?;
        Ok((fits, self.b.build_int_truncate(v, self.i64, "")?))
    }

    /// Writes stack slots `0..n` to the caller's stack array.
    fn spill_slots(&self, n: u64) -> Result<(), LlvmError> {
        for i in 0..n {
            if self.memory_values {
                let dst = self.stack_ptr(self.i64.const_int(i, false))?;
                self.copy_word(dst, self.slot(i as u32))?;
                continue;
            }
            let v = self.b.build_load(self.i256, self.slots[i as usize], "")?.into_int_value();
            self.store_stack(i, v)?;
        }
        Ok(())
    }

    pub(super) fn terminator(&mut self, term: &Terminator) -> Result<(), LlvmError> {
        match term {
            Terminator::Unset => unreachable!("verified IR has no unset terminators"),
            Terminator::Jump(t) => {
                self.b.build_unconditional_branch(self.block(*t))?;
            }
            Terminator::Branch { cond, then, else_ } if self.memory_values => {
                let c = self.word_is_nonzero(self.word(*cond))?;
                self.b.build_conditional_branch(c, self.block(*then), self.block(*else_))?;
            }
            Terminator::Switch { value, cases, default, guard } if self.memory_values => {
                // The switch has a block of its own: FastISel cannot select it, and a
                // block it fails on goes wholly to SelectionDAG.
                let (small, v64) = self.word_below(self.word(*value), 32)?;
                let v32 = self.b.build_int_truncate(v64, self.cx.i32_type(), "")?;
                let sw = self.continuation("switch");
                self.b.build_conditional_branch(small, sw, self.block(*default))?;
                self.b.position_at_end(sw);
                self.switch_on_pc(v32, cases, *default, guard.as_deref())?;
            }
            Terminator::Branch { cond, then, else_ } => {
                let zero = self.i256.const_zero();
                let c = self.b.build_int_compare(
                    inkwell::IntPredicate::NE,
                    self.value(*cond),
                    zero,
                    "",
                )?;
                self.b.build_conditional_branch(c, self.block(*then), self.block(*else_))?;
            }
            Terminator::Switch { value, cases, default, guard } => {
                // Jump targets are pcs below 2^32; anything wider goes to the default.
                let (small, v64) = self.value_below(self.value(*value), 32)?;
                let sw = self.cx.append_basic_block(self.f, "switch");
                self.b.build_conditional_branch(small, sw, self.block(*default))?;
                self.b.position_at_end(sw);
                let v32 = self.b.build_int_truncate(v64, self.cx.i32_type(), "")?;
                self.switch_on_pc(v32, cases, *default, guard.as_deref())?;
            }
            Terminator::Suspend { op, args, height, index, resume } => {
                // Every live entry goes to the caller's stack: the frame returns to revm.
                // In a dynamic shape the translator has stored the entries below the
                // operands already.
                let h = self.height(*height)?;
                let below =
                    self.b.build_int_sub(h, self.i64.const_int(args.len() as u64, false), "")?;
                if let Height::Abs(n) = height {
                    self.spill_slots(*n as u64 - args.len() as u64)?;
                }
                self.store_operands(h, args)?;
                let rc = self.call_host(*op, h, *height)?;
                let suspend = self.i8.const_int(InstructionResult::Suspend as u64, false);
                let is_suspend =
                    self.b.build_int_compare(inkwell::IntPredicate::EQ, rc, suspend, "")?;
                let ret = self.cx.append_basic_block(self.f, "suspend");
                let other = self.continuation("no_suspend");
                self.b.build_conditional_branch(is_suspend, ret, other)?;
                self.b.position_at_end(ret);
                let p = self.ctx_field(EvmContext::OFFSET_RESUME_AT)?;
                self.b.build_store(p, self.i64.const_int(*index as u64, false))?;
                self.b.build_store(self.stack_len, below)?;
                self.ret(rc)?;
                // Without a suspension the operation either failed (halt) or completed in
                // place, leaving its result on the stack array like a resumed call.
                self.b.position_at_end(other);
                self.exit_unless_continue(rc)?;
                match height {
                    Height::Abs(_) => {
                        self.b.build_unconditional_branch(self.resume_blocks[&resume.index()].0)?;
                    }
                    Height::Rel(_) => {
                        let len = self.b.build_int_add(below, self.i64.const_int(1, false), "")?;
                        self.set_base(len)?;
                        self.b.build_unconditional_branch(self.block(*resume))?;
                    }
                }
            }
            Terminator::Exit { result, stack_len } if !result.is_ok_or_revert() => {
                debug_assert_eq!(*stack_len, Height::Abs(0));
                let code = self.i8.const_int(*result as u64, false);
                self.exit_failing(code)?;
            }
            Terminator::Exit { result, stack_len } => {
                use revmc_ir::InstructionResult as R;
                self.write_back(*stack_len, matches!(result, R::Stop | R::Return | R::Revert))?;
                let code = self.i8.const_int(*result as u64, false);
                self.ret(code)?;
            }
            Terminator::Interpret { pc, stack_len, cold } => {
                use revmc_ir::abi::{INTERPRET, INTERPRET_COLD};
                let code = if *cold { INTERPRET_COLD } else { INTERPRET };
                let pc = self.i64.const_int(u64::from(*pc), false);
                self.leave_to_interpreter(*stack_len, pc, code)?;
            }
            Terminator::InterpretJump { stack_len, why } => {
                let code = revmc_ir::abi::interpret_jump_code(*why);
                let pc = self.jump_target_pc()?;
                self.leave_to_interpreter(*stack_len, pc, code)?;
            }
        }
        Ok(())
    }

    /// Returns `code` to leave the frame to the interpreter: the stack written back
    /// `stack_len` high, and `resume_at` set to `pc` (an `i64`).
    fn leave_to_interpreter(
        &self,
        stack_len: Height,
        pc: IntValue<'ctx>,
        code: u8,
    ) -> Result<(), LlvmError> {
        self.write_back(stack_len, true)?;
        let p = self.ctx_field(EvmContext::OFFSET_RESUME_AT)?;
        self.b.build_store(p, pc)?;
        self.ret(self.i8.const_int(u64::from(code), false))
    }
}
