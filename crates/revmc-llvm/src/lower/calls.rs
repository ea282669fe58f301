//! Calls out of compiled code: builtins through the context's table (with an inline
//! path for common operands where one exists), word operations through theirs, host
//! operations, and LLVM intrinsics.

use super::{Arg, Lowerer};
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::intrinsics::Intrinsic;
use inkwell::values::{IntValue, PointerValue};
use revmc_ir::abi::{Builtin, EvmContext, WordOp};
use revmc_ir::ir::{Height, Value};

impl<'ctx> Lowerer<'ctx, '_> {
    /// CALLDATALOAD: a 32-byte load when the word lies wholly inside the call data, else
    /// the builtin (zero padding past the end, and offsets beyond it).
    pub(super) fn calldata_load(&mut self, args: &[Value]) -> Result<IntValue<'ctx>, LlvmError> {
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
    pub(super) fn inline_or_builtin(
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

    /// Calls `builtin` through the context's table. `fallible` builtins may charge gas
    /// and halt: gas is synced around them and a non-zero result exits.
    pub(super) fn call_builtin(
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
    fn emit_builtin_call(
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
    pub(super) fn host(
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
    pub(super) fn intrinsic_struct(
        &self,
        name: &str,
        args: &[IntValue<'ctx>],
    ) -> Result<inkwell::values::StructValue<'ctx>, LlvmError> {
        Ok(self.call_intrinsic(name, args)?.into_struct_value())
    }

    pub(super) fn bswap(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        self.intrinsic("llvm.bswap", &[v])
    }

    /// Word `i` (below 4) of the operand buffer.
    pub(super) fn operand(&self, i: u64) -> Result<inkwell::values::PointerValue<'ctx>, LlvmError> {
        // SAFETY: the operand buffer holds four words.
        Ok(unsafe {
            self.b.build_in_bounds_gep(self.i256, self.args, &[self.i64.const_int(i, false)], "")?
        })
    }

    /// Calls word operation `op` on `dst`, `a` and `b` through the context's table: the
    /// copy loaded once with values in memory, else the context's field (the register
    /// form calls them only past its inline budget, `arith.rs`, `past_wide_budget`).
    pub(super) fn call_word_op(
        &self,
        op: WordOp,
        dst: PointerValue<'ctx>,
        a: PointerValue<'ctx>,
        b: PointerValue<'ctx>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let table = match self.memory_values {
            true => self.b.build_load(self.ptr, self.word_ops, "word_ops")?,
            false => self.load_ctx_field(EvmContext::OFFSET_WORD_OPS, self.ptr)?,
        }
        .into_pointer_value();
        let args = [dst.into(), a.into(), b.into()];
        self.call_table_entry(table, op as u64, op.name(), self.word_op_ty, &args)
    }
}
