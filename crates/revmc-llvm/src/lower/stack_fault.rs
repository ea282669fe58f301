//! The shared exit of dynamic-shape sections whose stack checks or gas fail.
//!
//! Which instruction of a section fails, and whether gas runs out before it does, is
//! decided at run time from the base; a section whose every check holds came for its gas.
//! Each section's checks are a constant table, one 64-bit word per check; every failing
//! section branches to one loop that scans its table, so a program pays a few bytes of
//! data per section instead of a chain of compares and selects per section (which made a
//! fifth of the optimized IR of a large contract). Two words per check and a count per
//! table were 10 % of the optimized code of large contracts (docs/compile-cost.md, "One
//! word per stack check").
//!
//! The tables of a function are one constant array, and a failing section passes the
//! index of its table's first word in it, an integer constant. Passed as the address of a global of
//! its own, a table cost a RIP-relative `lea` per failing edge in position-independent
//! code, which machine CSE shares across blocks instead of rematerializing: long live
//! ranges that cost large contracts up to a quarter of their compile time
//! (docs/compile-cost.md, "One array of check tables").

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::basic_block::BasicBlock;
use inkwell::values::PhiValue;
use revmc_ir::InstructionResult;
use revmc_ir::ir::{MAX_CHECK_GAS, StackCheck};
use std::collections::HashMap;

/// Bit positions of the fields of a check's word, in the order they are packed: the gas up
/// to the instruction (24 bits, [`MAX_CHECK_GAS`]), the least base it needs and one more
/// than the greatest (11 bits each), the halt codes when the base is below or above
/// (8 bits each), and whether the check is its table's last (1 bit). A table is its
/// checks' words; a section passes the index of its first.
const MIN_SHIFT: u64 = 24;
const MAX_SHIFT: u64 = 35;
const UNDER_SHIFT: u64 = 46;
const OVER_SHIFT: u64 = 54;
const LAST_SHIFT: u64 = 62;
/// The mask of a base bound. A base is a stack height, so within `0..=STACK_LIMIT`
/// (1024); a bound clamped into `0..=BOUND_MASK` compares with every such base as it was.
const BOUND_MASK: u64 = (1 << (MAX_SHIFT - MIN_SHIFT)) - 1;

/// The word of check `c`, whose gas is at most [`MAX_CHECK_GAS`]: it fails when
/// `base < min` or `base >= max + 1`.
fn packed(c: &StackCheck, last: bool) -> u64 {
    let bound = |b: i64| b.clamp(0, BOUND_MASK as i64) as u64;
    c.gas
        | bound(c.min_base) << MIN_SHIFT
        | bound(c.max_base.saturating_add(1)) << MAX_SHIFT
        | (c.under as u64) << UNDER_SHIFT
        | (c.over as u64) << OVER_SHIFT
        | (last as u64) << LAST_SHIFT
}

/// The shared scan: its entry block and the phi of the index of the first check it scans.
#[derive(Debug, Clone, Copy)]
pub(super) struct StackFaultExit<'ctx> {
    block: BasicBlock<'ctx>,
    first: PhiValue<'ctx>,
}

/// The check tables of one function: their words, one table after another, each table's
/// block by content, so sections with the same checks share one, and the block of
/// sections without checks.
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
    /// The block a section whose stack checks fail branches to: it passes the index of
    /// the first word of the table of `checks` (in instruction order) to the shared scan.
    /// Sections with the same checks share the block and the table: a large contract has
    /// about two sections per distinct table, and each block was five machine
    /// instructions at O0. A section without checks fails only for its gas.
    pub(super) fn stack_fault_entry(
        &mut self,
        checks: &[StackCheck],
    ) -> Result<BasicBlock<'ctx>, LlvmError> {
        // The verifier holds this in debug builds; a release build refuses the program
        // rather than pack a gas that would spill into the next field.
        if let Some(c) = checks.iter().find(|c| c.gas > MAX_CHECK_GAS) {
            return Err(LlvmError::Verify(format!("a stack check counts {} gas", c.gas)));
        }
        let words: Vec<u64> =
            checks.iter().enumerate().map(|(i, c)| packed(c, i + 1 == checks.len())).collect();
        if let Some(&block) = self.check_tables.blocks.get(&words) {
            return Ok(block);
        }
        let here = self.b.get_insert_block().expect("positioned");
        let block = self.cx.append_basic_block(self.f, "stack_fault_at");
        self.b.position_at_end(block);
        if words.is_empty() {
            self.exit_failing(self.i8.const_int(InstructionResult::OutOfGas as u64, false))?;
        } else {
            let exit = match self.stack_fault {
                Some(exit) => exit,
                None => {
                    let entry = self.cx.append_basic_block(self.f, "stack_fault");
                    self.b.position_at_end(entry);
                    let first = self.b.build_phi(self.i64, "first")?;
                    let exit = StackFaultExit { block: entry, first };
                    self.stack_fault = Some(exit);
                    self.b.position_at_end(block);
                    exit
                }
            };
            let first = self.i64.const_int(self.check_tables.words.len() as u64, false);
            self.check_tables.words.extend_from_slice(&words);
            exit.first.add_incoming(&[(&first, block)]);
            self.b.build_unconditional_branch(exit.block)?;
        }
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
        let entry = exit.block;
        let head = self.cx.append_basic_block(self.f, "stack_fault_check");
        let next = self.cx.append_basic_block(self.f, "stack_fault_next");
        let failed = self.cx.append_basic_block(self.f, "stack_fault_found");
        self.b.build_unconditional_branch(head)?;

        self.b.position_at_end(head);
        let i = self.b.build_phi(self.i64, "i")?;
        i.add_incoming(&[(&exit.first.as_basic_value(), entry)]);
        let i_val = i.as_basic_value().into_int_value();
        // SAFETY: `i` indexes a check of a table within `tables`: it starts at a table's
        // first word and stops at the word marked last.
        let p = unsafe {
            self.b.build_in_bounds_gep(self.i64, tables.as_pointer_value(), &[i_val], "")?
        };
        let word = self.b.build_load(self.i64, p, "check")?.into_int_value();
        let field = |shift: u64, mask: u64| {
            let v = self.b.build_right_shift(word, c(shift), false, "")?;
            self.b.build_and(v, c(mask), "")
        };
        let under = self.b.build_int_compare(P::ULT, base, field(MIN_SHIFT, BOUND_MASK)?, "")?;
        let over = self.b.build_int_compare(P::UGE, base, field(MAX_SHIFT, BOUND_MASK)?, "")?;
        let fails = self.b.build_or(under, over, "")?;
        self.b.build_conditional_branch(fails, failed, next)?;

        // No check fails: the section came here because its gas is short (its stack and
        // gas conditions are one branch, `dyn_charge`).
        self.b.position_at_end(next);
        let last = self.b.build_int_compare(P::NE, field(LAST_SHIFT, 1)?, c(0), "")?;
        let after = self.b.build_int_add(i_val, c(1), "")?;
        i.add_incoming(&[(&after, next)]);
        self.fail.1.add_incoming(&[(&code(InstructionResult::OutOfGas), next)]);
        self.b.build_conditional_branch(last, self.fail.0, head)?;

        self.b.position_at_end(failed);
        let halt_code = |shift: u64| {
            let v = self.b.build_right_shift(word, c(shift), false, "")?;
            self.b.build_int_truncate(v, self.i8, "")
        };
        let stack =
            self.b.build_select(under, halt_code(UNDER_SHIFT)?, halt_code(OVER_SHIFT)?, "")?;
        let gas = self.b.build_and(word, c(MAX_CHECK_GAS), "")?;
        let short = self.b.build_int_compare(P::ULT, left, gas, "")?;
        let rc = self.b.build_select(
            short,
            code(InstructionResult::OutOfGas),
            stack.into_int_value(),
            "",
        )?;
        // Out of gas or a stack error: an exceptional halt, which spends all gas.
        self.exit_failing(rc.into_int_value())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revmc_ir::abi::STACK_LIMIT;

    /// The scan's reading of a word: (fails below, fails above, gas, codes, last).
    fn scan(word: u64, base: u64) -> (bool, bool, u64, (u8, u8), bool) {
        let field = |shift: u64, mask: u64| word >> shift & mask;
        let under = base < field(MIN_SHIFT, BOUND_MASK);
        let over = base >= field(MAX_SHIFT, BOUND_MASK);
        let codes = ((word >> UNDER_SHIFT) as u8, (word >> OVER_SHIFT) as u8);
        (under, over, word & MAX_CHECK_GAS, codes, field(LAST_SHIFT, 1) == 1)
    }

    #[test]
    fn a_check_counting_more_gas_than_its_word_holds_is_refused() {
        use revmc_ir::ir::InstData;
        use revmc_ir::{Limits, OptLevel, SpecId};
        // A loop whose head is reached one entry higher each turn: a dynamic shape.
        #[rustfmt::skip]
        let code = [
            0x5f, 0x5b,                   // i = 0; 1: head
            0x80, 0x60, 0x01, 0x01,       // DUP1; i + 1
            0x80, 0x5f, 0x35, 0x11,       // calldata[0] > i + 1
            0x60, 0x01, 0x57, 0x00,       // JUMPI(head); STOP
        ];
        let mut func = revmc_ir::translate(&code, SpecId::CANCUN, &Limits::default()).unwrap();
        let options = super::super::LowerOptions { chunk_cost: usize::MAX, ..Default::default() };
        let lower = |func: &revmc_ir::ir::Function| {
            let cx = inkwell::context::Context::create();
            super::super::lower(&cx, func, "prog", OptLevel::O2, &options).map(drop)
        };
        lower(&func).expect("lowers");
        // A charge of the program's blocks (the arena also holds charges passes merged).
        let inst = (func.block_ids().flat_map(|b| func.block(b).insts.clone()))
            .find(|&i| matches!(func.inst(i), InstData::DynCharge { .. }))
            .expect("a dynamic-shape section");
        let InstData::DynCharge { checks, .. } = &mut func.insts[inst.index()] else {
            unreachable!("found above")
        };
        checks[0].gas = MAX_CHECK_GAS + 1;
        let err = lower(&func).expect_err("refused");
        assert!(err.to_string().contains("a stack check counts"), "{err}");
    }

    #[test]
    fn a_packed_check_fails_for_exactly_the_bases_it_did() {
        let edges = [i64::MIN, -5000, -2049, -2048, -2, -1, 0, 1, 2, 1022, 1023, 1024, 1025];
        let bounds = edges.into_iter().chain([1026, 2046, 2047, 2048, 5000, i64::MAX]);
        let (under, over) = (InstructionResult::StackOverflow, InstructionResult::StackUnderflow);
        for min_base in bounds.clone() {
            for max_base in bounds.clone() {
                for (gas, last) in [(0, false), (MAX_CHECK_GAS, true)] {
                    let c = StackCheck { gas, min_base, max_base, under, over };
                    let word = packed(&c, last);
                    for base in 0..=STACK_LIMIT as u64 {
                        let want = ((base as i64) < min_base, base as i64 > max_base);
                        let codes = (under as u8, over as u8);
                        let got = scan(word, base);
                        assert_eq!(got, (want.0, want.1, gas, codes, last), "{c:?} at {base}");
                    }
                }
            }
        }
    }
}
