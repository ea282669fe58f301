//! A function's shared exits: out of gas, halts that return a code, and failures that
//! spend the frame's gas; and the branches that reach them.

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::values::{FunctionValue, IntValue, PhiValue};
use revmc_ir::abi::CONTINUE;

/// A shared exit that returns a code: its block and the phi of the code.
pub(super) type CodeExit<'ctx> = (BasicBlock<'ctx>, PhiValue<'ctx>);

/// A function's shared exits, empty: `out_of_gas`, `halt` and `fail` (filled by
/// `Lowerer::emit_exits`). Leaves `b` in `fail`.
pub(super) fn exit_blocks<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    f: FunctionValue<'ctx>,
) -> Result<(BasicBlock<'ctx>, CodeExit<'ctx>, CodeExit<'ctx>), LlvmError> {
    let oog = cx.append_basic_block(f, "out_of_gas");
    let halt = cx.append_basic_block(f, "halt");
    let fail = cx.append_basic_block(f, "fail");
    b.position_at_end(halt);
    let halt_code = b.build_phi(cx.i8_type(), "halt_code")?;
    b.position_at_end(fail);
    let fail_code = b.build_phi(cx.i8_type(), "fail_code")?;
    Ok((oog, (halt, halt_code), (fail, fail_code)))
}

impl<'ctx> Lowerer<'ctx, '_> {
    /// The current function's shared exits.
    pub(super) fn emit_exits(&mut self) -> Result<(), LlvmError> {
        // Shared out-of-gas exit. It could store 0 like other halts, but keeping the gas
        // live here measured better register allocation in hot loops (docs/compute-core.md).
        self.b.position_at_end(self.oog);
        self.sync_gas_out()?;
        let code = self.i8.const_int(revmc_ir::InstructionResult::OutOfGas as u64, false);
        self.ret(code)?;

        // The shared halting exits: one `ret` each instead of one per halting site, which
        // spares codegen an epilogue per site.
        self.b.position_at_end(self.halt.0);
        self.ret(self.halt.1.as_basic_value().into_int_value())?;
        self.b.position_at_end(self.fail.0);
        self.spend_all_gas()?;
        self.ret(self.fail.1.as_basic_value().into_int_value())?;
        Ok(())
    }

    /// Returns the halt code `code` (an `i8`): as it is, or widened in a chunk.
    pub(super) fn ret(&self, code: IntValue<'ctx>) -> Result<(), LlvmError> {
        if self.in_chunk {
            let wide = self.b.build_int_z_extend(code, self.i64, "")?;
            self.b.build_return(Some(&wide))?;
        } else {
            self.b.build_return(Some(&code))?;
        }
        Ok(())
    }

    /// Branches to the shared exceptional exit with `code`.
    pub(super) fn exit_failing(&self, code: IntValue<'ctx>) -> Result<(), LlvmError> {
        let here = self.b.get_insert_block().expect("positioned");
        self.fail.1.add_incoming(&[(&code, here)]);
        self.b.build_unconditional_branch(self.fail.0)?;
        Ok(())
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
}
