//! The shared exit of dynamic-shape sections whose stack checks or gas fail.
//!
//! Which instruction of a section fails, and whether gas runs out before it does, is
//! decided at run time from the base; a section whose every check holds came for its gas.
//! Each section's checks are a constant table; every failing section branches to one loop
//! that scans its table, so a program pays a few bytes of data per section instead of a
//! chain of compares and selects per section (which made a fifth of the optimized IR of a
//! large contract).
//!
//! The tables of a function are one constant array, and a failing section passes the
//! offset of its table in it, an integer constant. Passed as the address of a global of
//! its own, a table cost a RIP-relative `lea` per failing edge in position-independent
//! code, which machine CSE shares across blocks instead of rematerializing: long live
//! ranges that cost large contracts up to a quarter of their compile time
//! (docs/compile-cost.md, "One array of check tables").

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::basic_block::BasicBlock;
use inkwell::values::{IntValue, PhiValue};
use revmc_ir::InstructionResult;
use revmc_ir::ir::StackCheck;
use std::collections::HashMap;

/// Words per check in a table: the gas up to the instruction, then the minimum and
/// maximum base (16 bits each: bases lie within the 1024-entry stack, and bounds beyond
/// 16 bits are saturated without changing any comparison with such a base) and the two
/// halt codes (8 bits each). A table starts with one word, its number of checks.
const WORDS: u64 = 2;

/// The second word of a check.
fn packed(c: &StackCheck) -> u64 {
    let bound = |b: i64| b.clamp(i16::MIN as i64, i16::MAX as i64) as i16 as u16 as u64;
    bound(c.min_base) | bound(c.max_base) << 16 | (c.under as u64) << 32 | (c.over as u64) << 40
}

/// The shared scan: its entry block and the phi of the offset of the table it scans.
#[derive(Debug, Clone, Copy)]
pub(super) struct StackFaultExit<'ctx> {
    block: BasicBlock<'ctx>,
    offset: PhiValue<'ctx>,
}

/// The check tables of one function: their words, one table after another, and each
/// table's block by content, so sections with the same checks share one.
#[derive(Debug, Default)]
pub(super) struct CheckTables<'ctx> {
    words: Vec<u64>,
    blocks: HashMap<Vec<u64>, BasicBlock<'ctx>>,
}

impl CheckTables<'_> {
    /// Forgets every table, for the next function.
    pub(super) fn clear(&mut self) {
        self.words.clear();
        self.blocks.clear();
    }
}

impl<'ctx> Lowerer<'ctx, '_> {
    /// The block a section whose stack checks fail branches to: it passes the offset of
    /// the table of `checks` (in instruction order) to the shared scan. Sections with the
    /// same checks share the block and the table: a large contract has about two sections
    /// per distinct table, and each block was five machine instructions at O0.
    pub(super) fn stack_fault_entry(
        &mut self,
        checks: &[StackCheck],
    ) -> Result<BasicBlock<'ctx>, LlvmError> {
        let words: Vec<u64> = std::iter::once(checks.len() as u64)
            .chain(checks.iter().flat_map(|c| [c.gas, packed(c)]))
            .collect();
        if let Some(&block) = self.check_tables.blocks.get(&words) {
            return Ok(block);
        }
        let here = self.b.get_insert_block().expect("positioned");
        let exit = match self.stack_fault {
            Some(exit) => exit,
            None => {
                let block = self.cx.append_basic_block(self.f, "stack_fault");
                self.b.position_at_end(block);
                let offset = self.b.build_phi(self.i64, "checks")?;
                let exit = StackFaultExit { block, offset };
                self.stack_fault = Some(exit);
                exit
            }
        };
        let offset = self.i64.const_int(self.check_tables.words.len() as u64, false);
        self.check_tables.words.extend_from_slice(&words);
        let block = self.cx.append_basic_block(self.f, "stack_fault_at");
        self.b.position_at_end(block);
        exit.offset.add_incoming(&[(&offset, block)]);
        self.b.build_unconditional_branch(exit.block)?;
        self.b.position_at_end(here);
        self.check_tables.blocks.insert(words, block);
        Ok(block)
    }

    /// Emits the scan, if any section uses it: the first check the base fails decides the
    /// halt, `OutOfGas` if the gas left is short of the section's gas up to it; with no
    /// failing check, the section's gas was short: `OutOfGas`.
    pub(super) fn emit_stack_fault_scan(&mut self) -> Result<(), LlvmError> {
        let Some(exit) = self.stack_fault else { return Ok(()) };
        let c = |v: u64| self.i64.const_int(v, false);
        let code = |r: InstructionResult| self.i8.const_int(r as u64, false);
        self.b.position_at_end(exit.block);
        let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
        let left = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
        let tables =
            self.private_constant(self.i64_array(&self.check_tables.words), "stack_checks");
        let offset = exit.offset.as_basic_value().into_int_value();
        // SAFETY: every incoming offset is the start of a table within `tables`.
        let table = unsafe {
            self.b.build_in_bounds_gep(self.i64, tables.as_pointer_value(), &[offset], "table")?
        };
        let count = self.b.build_load(self.i64, table, "count")?.into_int_value();
        let head = self.cx.append_basic_block(self.f, "stack_fault_scan");
        let body = self.cx.append_basic_block(self.f, "stack_fault_check");
        let failed = self.cx.append_basic_block(self.f, "stack_fault_found");
        let entry = exit.block;
        self.b.build_unconditional_branch(head)?;

        self.b.position_at_end(head);
        let i = self.b.build_phi(self.i64, "i")?;
        i.add_incoming(&[(&c(0), entry)]);
        let i_val = i.as_basic_value().into_int_value();
        // No check fails: the section came here because its gas is short (its stack and
        // gas conditions are one branch, `dyn_charge`).
        let done = self.b.build_int_compare(P::UGE, i_val, count, "")?;
        self.fail.1.add_incoming(&[(&code(InstructionResult::OutOfGas), head)]);
        self.b.build_conditional_branch(done, self.fail.0, body)?;

        self.b.position_at_end(body);
        let word = |k: u64| -> Result<IntValue<'ctx>, LlvmError> {
            let at =
                self.b.build_int_add(self.b.build_int_mul(i_val, c(WORDS), "")?, c(1 + k), "")?;
            // SAFETY: `at` indexes check `i < count` of a table of `count` checks.
            let p = unsafe { self.b.build_in_bounds_gep(self.i64, table, &[at], "")? };
            Ok(self.b.build_load(self.i64, p, "")?.into_int_value())
        };
        let (gas, packed) = (word(0)?, word(1)?);
        let field = |shift: u64, ty: inkwell::types::IntType<'ctx>| {
            let v = self.b.build_right_shift(packed, c(shift), false, "")?;
            self.b.build_int_truncate(v, ty, "")
        };
        let i16 = self.cx.i16_type();
        let min = self.b.build_int_s_extend(field(0, i16)?, self.i64, "")?;
        let max = self.b.build_int_s_extend(field(16, i16)?, self.i64, "")?;
        let under = self.b.build_int_compare(P::SLT, base, min, "")?;
        let over = self.b.build_int_compare(P::SGT, base, max, "")?;
        let fails = self.b.build_or(under, over, "")?;
        let next = self.b.build_int_add(i_val, c(1), "")?;
        i.add_incoming(&[(&next, body)]);
        self.b.build_conditional_branch(fails, failed, head)?;

        self.b.position_at_end(failed);
        let under_code = field(32, self.i8)?;
        let over_code = field(40, self.i8)?;
        let stack = self.b.build_select(under, under_code, over_code, "")?.into_int_value();
        let short = self.b.build_int_compare(P::ULT, left, gas, "")?;
        let rc = self.b.build_select(short, code(InstructionResult::OutOfGas), stack, "")?;
        // Out of gas or a stack error: an exceptional halt, which spends all gas.
        self.exit_failing(rc.into_int_value())?;
        Ok(())
    }
}
