//! Switches over many jump targets, lowered through a table instead of a compare tree.
//!
//! LLVM lowers a `switch` over sparse values (a dispatch over every JUMPDEST: hundreds of
//! pcs spread over the code) as a balanced tree of compares, one machine block per node:
//! about 29 bytes of code per case, and in UniswapV3Pool's what-ran compilation about a
//! sixth of its machine blocks, which every pass of code generation walks.
//!
//! A large switch instead finds its case's index from a bitmap of the case pcs and the
//! number of cases before each 64-pc word of it (a rank), and switches on the index: a
//! dense switch, which LLVM lowers as one jump table. The tables cost 10 bytes per 64
//! pcs of the switch's span, and the jump table 4 bytes per case (docs/compile-cost.md,
//! "Dispatch through a table").
//!
//! A dispatch's guard ([`DispatchGuard`]) is two more tables by the same index, the lowest
//! base each case accepts and how many above it: one compare for every case. A switch
//! without a table tests each guarded case in a block of its own.

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::IntValue;
use revmc_ir::abi::STACK_LIMIT;
use revmc_ir::ir::{Block, DispatchGuard};

/// The fewest cases a switch lowers through a table: below that the compare tree is small.
const MIN_TABLE_CASES: usize = 32;

/// The tables of a switch over `pcs` (sorted, distinct): for each 64-pc word of
/// `0..=max(pcs)`, the bitmap of the pcs in it, and how many pcs come before it.
fn rank_tables(pcs: &[u32]) -> (Vec<u64>, Vec<u16>) {
    let span = pcs.last().map_or(0, |&pc| pc as usize + 1);
    let mut bits = vec![0u64; span.div_ceil(64)];
    for &pc in pcs {
        bits[pc as usize / 64] |= 1 << (pc % 64);
    }
    let mut before = 0u32;
    let ranks = bits
        .iter()
        .map(|w| {
            // `worth_a_table` admits fewer than 2^16 cases.
            let r = before as u16;
            before += w.count_ones();
            r
        })
        .collect();
    (bits, ranks)
}

/// Whether a switch of `cases` cases whose greatest value is `max_pc` is smaller through
/// a table: 25 bytes saved per case against 10 bytes per 64 pcs of span.
/// Ranks are 16 bits, so a switch of more cases keeps the tree (no code of 48 KiB has
/// that many JUMPDESTs).
fn worth_a_table(cases: usize, max_pc: u32) -> bool {
    let words = (max_pc as usize + 1).div_ceil(64);
    (MIN_TABLE_CASES..=usize::from(u16::MAX)).contains(&cases) && 25 * cases >= 10 * words
}

/// A case's guard bounds as `(lo, width)`, accepting the bases with `base - lo <= width`
/// (unsigned), clamped to the stack: bounds that accept every base of a real stack are
/// `(0, STACK_LIMIT)`, and bounds that accept none `(STACK_LIMIT + 1, 0)`, which accepts
/// only the base `STACK_LIMIT + 1` that no frame has (a check that fails halts first).
fn guard_entry((lo, hi): (i64, i64)) -> (u16, u16) {
    let limit = STACK_LIMIT as i64;
    let (lo, hi) = (lo.max(0), hi.min(limit));
    if lo > hi {
        return (STACK_LIMIT as u16 + 1, 0);
    }
    (lo as u16, (hi - lo) as u16)
}

impl<'ctx> Lowerer<'ctx, '_> {
    /// Ends the current block with a branch on `pc` (an `i32`) to the block of its case
    /// in `cases` (pc and block, sorted by pc and distinct, as the verifier requires), or
    /// to `default`; with a `guard`, a case whose bounds the base is outside of goes to
    /// the guard's exit.
    pub(super) fn switch_on_pc(
        &mut self,
        pc: IntValue<'ctx>,
        cases: &[(u32, Block)],
        default: Block,
        guard: Option<&DispatchGuard>,
    ) -> Result<(), LlvmError> {
        debug_assert!(cases.windows(2).all(|w| w[0].0 < w[1].0), "verified switch cases");
        let i32t = self.cx.i32_type();
        let max_pc = cases.last().map_or(0, |&(pc, _)| pc);
        let guard = guard.filter(|g| g.is_active());
        if !worth_a_table(cases.len(), max_pc) {
            let here = self.b.get_insert_block().expect("positioned");
            let mut targets = Vec::with_capacity(cases.len());
            for (i, &(pc, b)) in cases.iter().enumerate() {
                let entry = guard.map(|g| (guard_entry(g.bounds[i]), g.exit));
                let target = match entry {
                    Some(((lo, width), exit)) if (lo, width) != (0, STACK_LIMIT as u16) => {
                        let bb = self.cx.append_basic_block(self.f, "case_guard");
                        self.b.position_at_end(bb);
                        let lo = self.i64.const_int(lo.into(), false);
                        let width = self.i64.const_int(width.into(), false);
                        self.base_within(lo, width, self.block(b), self.block(exit))?;
                        bb
                    }
                    _ => self.block(b),
                };
                targets.push((i32t.const_int(pc as u64, false), target));
            }
            self.b.position_at_end(here);
            self.b.build_switch(pc, self.block(default), &targets)?;
            return Ok(());
        }
        let pcs: Vec<u32> = cases.iter().map(|&(pc, _)| pc).collect();
        let (bits, ranks) = rank_tables(&pcs);
        let i16t = self.cx.i16_type();
        let bits = self.private_constant(self.i64_array(&bits), "case_bits").as_pointer_value();
        let rank_consts: Vec<_> = ranks.iter().map(|&r| i16t.const_int(r as u64, false)).collect();
        let ranks =
            self.private_constant(i16t.const_array(&rank_consts), "case_ranks").as_pointer_value();

        let in_span =
            self.b.build_int_compare(P::ULE, pc, i32t.const_int(max_pc as u64, false), "")?;
        let lookup = self.continuation("case_lookup");
        self.b.build_conditional_branch(in_span, lookup, self.block(default))?;
        self.b.position_at_end(lookup);
        let word_index = self.b.build_right_shift(pc, i32t.const_int(6, false), false, "")?;
        let word_index = self.b.build_int_z_extend(word_index, self.i64, "")?;
        // SAFETY: `pc <= max_pc`, so its word is within both tables, which have one entry
        // per 64 pcs of `0..=max_pc`.
        let (word, rank) = unsafe {
            let w = self.b.build_in_bounds_gep(self.i64, bits, &[word_index], "")?;
            let r = self.b.build_in_bounds_gep(i16t, ranks, &[word_index], "")?;
            (self.b.build_load(self.i64, w, "")?, self.b.build_load(i16t, r, "")?)
        };
        let (word, rank) = (word.into_int_value(), rank.into_int_value());
        let bit = self.b.build_and(pc, i32t.const_int(63, false), "")?;
        let bit = self.b.build_int_z_extend(bit, self.i64, "")?;
        let shifted = self.b.build_right_shift(word, bit, false, "")?;
        let present = self.b.build_int_truncate(shifted, self.cx.bool_type(), "")?;
        let found = self.continuation("case_found");
        self.b.build_conditional_branch(present, found, self.block(default))?;
        self.b.position_at_end(found);
        // The case's index: the cases before its word, and those below it in the word.
        let one = self.i64.const_int(1, false);
        let mask = self.b.build_int_sub(self.b.build_left_shift(one, bit, "")?, one, "")?;
        let below = self.b.build_and(word, mask, "")?;
        let count = self.intrinsic("llvm.ctpop", &[below])?;
        let count = self.b.build_int_truncate(count, i32t, "")?;
        let rank = self.b.build_int_z_extend(rank, i32t, "")?;
        let index = self.b.build_int_add(rank, count, "case_index")?;
        if let Some(g) = guard {
            let (los, widths): (Vec<u16>, Vec<u16>) =
                g.bounds.iter().map(|&b| guard_entry(b)).unzip();
            let i16_array = |v: &[u16]| {
                let consts: Vec<_> = v.iter().map(|&x| i16t.const_int(x as u64, false)).collect();
                i16t.const_array(&consts)
            };
            let los = self.private_constant(i16_array(&los), "case_lo").as_pointer_value();
            let widths = self.private_constant(i16_array(&widths), "case_width").as_pointer_value();
            let i = self.b.build_int_z_extend(index, self.i64, "")?;
            // SAFETY: `index` is a case's position, and both tables have one entry per case.
            let (lo, width) = unsafe {
                let l = self.b.build_in_bounds_gep(i16t, los, &[i], "")?;
                let w = self.b.build_in_bounds_gep(i16t, widths, &[i], "")?;
                (self.b.build_load(i16t, l, "")?, self.b.build_load(i16t, w, "")?)
            };
            let lo = self.b.build_int_z_extend(lo.into_int_value(), self.i64, "")?;
            let width = self.b.build_int_z_extend(width.into_int_value(), self.i64, "")?;
            let accepted = self.continuation("case_accepted");
            self.base_within(lo, width, accepted, self.block(g.exit))?;
            self.b.position_at_end(accepted);
        }
        // Every index is a case, so the dense switch needs no range check of its own.
        let none = self.continuation("no_case");
        let cases: Vec<_> = (cases.iter().enumerate())
            .map(|(i, &(_, b))| (i32t.const_int(i as u64, false), self.block(b)))
            .collect();
        self.b.build_switch(index, none, &cases)?;
        self.b.position_at_end(none);
        self.b.build_unreachable()?;
        Ok(())
    }

    /// Ends the current block with a branch to `then` if the base is one of `lo..=lo +
    /// width` (`i64`s), else to `other`.
    fn base_within(
        &mut self,
        lo: IntValue<'ctx>,
        width: IntValue<'ctx>,
        then: inkwell::basic_block::BasicBlock<'ctx>,
        other: inkwell::basic_block::BasicBlock<'ctx>,
    ) -> Result<(), LlvmError> {
        let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
        let above = self.b.build_int_sub(base, lo, "")?;
        let accepted = self.b.build_int_compare(P::ULE, above, width, "")?;
        self.b.build_conditional_branch(accepted, then, other)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_count_the_pcs_before_each_word() {
        let pcs = [0, 5, 63, 64, 130, 200];
        let (bits, ranks) = rank_tables(&pcs);
        assert_eq!(bits, [1 | 1 << 5 | 1 << 63, 1, 1 << 2, 1 << 8]);
        assert_eq!(ranks, [0, 3, 4, 5]);
        // The index of every pc, as the lowering computes it, is its position.
        for (i, &pc) in pcs.iter().enumerate() {
            let (w, b) = (pc as usize / 64, pc % 64);
            assert_ne!(bits[w] >> b & 1, 0);
            let index = ranks[w] as u32 + (bits[w] & ((1u64 << b) - 1)).count_ones();
            assert_eq!(index as usize, i, "pc {pc}");
        }
        assert_eq!(rank_tables(&[]), (vec![], vec![]));
    }

    #[test]
    fn only_large_switches_over_dense_enough_pcs_use_a_table() {
        assert!(!worth_a_table(31, 100));
        assert!(worth_a_table(32, 100));
        // UniswapV3Pool's what-ran dispatch: 282 cases up to pc 22,090.
        assert!(worth_a_table(282, 22_090));
        // A few dozen cases spread over 48 KiB: the tables would outweigh the tree.
        assert!(!worth_a_table(40, 49_151));
        // More cases than a 16-bit rank counts.
        assert!(!worth_a_table(1 << 16, 1 << 20));
    }
}
