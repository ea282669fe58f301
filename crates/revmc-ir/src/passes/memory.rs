//! Removal of covered memory expansions: a `MemoryExpand` of a constant range that memory
//! is known to hold already is a no-op (no growth, no gas), so it is dropped and its
//! access uses memory directly.
//!
//! EVM memory never shrinks during a call frame, so after a `MemoryExpand` of the constant
//! range `[o, o + n)` returns, memory holds at least `ceil32(o + n)` bytes on every path
//! through that point, including across suspensions (the frame keeps its memory while a
//! child runs). A forward data-flow analysis computes, at the start of each block, the
//! least memory size over all paths there (the minimum over predecessors; 0 at the entry
//! and at blocks without predecessors). Solidity's `mstore(0x40, 0x80)` at the start of
//! every contract covers the scratch words and the free-memory-pointer accesses of the
//! whole program, which are about two fifths of all expansions in real contracts.
//!
//! The work is bounded: the analysis gives up (and removes nothing, which is always
//! correct) after work proportional to the function's instructions, blocks and edges, so
//! it is linear whatever the control flow.

use crate::abi::Builtin;
use crate::ir::{Block, Function, Inst, InstData};

/// Work allowed per instruction, block and edge of the function before the analysis gives
/// up. Every contract of the corpus settles within 4; with 2 it would give up on most.
const WORK_PER_ITEM: usize = 8;

/// Ranges ending beyond this are not tracked (their expansion costs more gas than exists).
const MAX_TRACKED_END: u64 = 1 << 32;

/// Drops every expansion that memory already covers; returns how many.
pub fn drop_covered_expansions(func: &mut Function) -> usize {
    let Some(known_in) = known_at_entry(func) else { return 0 };
    let mut dropped = 0;
    for b in func.block_ids() {
        let mut known = known_in[b.index()];
        let mut insts = std::mem::take(&mut func.blocks[b.index()].insts);
        insts.retain(|&inst| match constant_range(func, inst) {
            Some(end) if end <= known => {
                dropped += 1;
                false
            }
            Some(end) => {
                known = known.max(ceil32(end));
                true
            }
            None => true,
        });
        func.blocks[b.index()].insts = insts;
    }
    dropped
}

/// The least memory size at the start of each block, or `None` if the analysis ran out of
/// its budget.
fn known_at_entry(func: &Function) -> Option<Vec<u64>> {
    let n = func.blocks.len();
    let mut preds = vec![Vec::new(); n];
    for b in func.block_ids() {
        for s in func.block(b).term.successors() {
            preds[s.index()].push(b);
        }
    }
    let entry_of = |b: Block, out: &[u64]| -> u64 {
        let p = &preds[b.index()];
        if b == func.entry() || p.is_empty() {
            0
        } else {
            p.iter().map(|p| out[p.index()]).min().unwrap_or(0)
        }
    };
    // Optimistic start: every block's exit state is "unknown yet" (the maximum), then
    // lowered until it holds on every path. A visit costs the block's instructions and
    // predecessors; the budget is a multiple of the function's size. (Hostile code makes a
    // dispatch block of thousands of predecessors change thousands of times.)
    let size: usize = func.block_ids().map(|b| 1 + func.block(b).insts.len()).sum();
    let edges: usize = preds.iter().map(Vec::len).sum();
    let mut budget = WORK_PER_ITEM.saturating_mul(size + edges);
    let mut out = vec![u64::MAX; n];
    let mut queued = vec![true; n];
    let mut work: Vec<Block> = (0..n).rev().map(Block::new).collect();
    while let Some(b) = work.pop() {
        queued[b.index()] = false;
        let cost = 1 + preds[b.index()].len() + func.block(b).insts.len();
        budget = budget.checked_sub(cost)?;
        let mut known = entry_of(b, &out);
        for &inst in &func.block(b).insts {
            if let Some(end) = constant_range(func, inst) {
                known = known.max(ceil32(end));
            }
        }
        if known != out[b.index()] {
            out[b.index()] = known;
            for s in func.block(b).term.successors() {
                if !std::mem::replace(&mut queued[s.index()], true) {
                    work.push(s);
                }
            }
        }
    }
    // A block no path reaches keeps the optimistic maximum; it is given 0 instead, so
    // that nothing is dropped on the strength of reachability alone.
    let known = |b| match entry_of(b, &out) {
        u64::MAX => 0,
        k => k,
    };
    Some(func.block_ids().map(known).collect())
}

/// The end of the range of `inst` if it is a `MemoryExpand` of a constant, tracked range.
fn constant_range(func: &Function, inst: Inst) -> Option<u64> {
    let InstData::Call(Builtin::MemoryExpand, args) = func.inst(inst) else { return None };
    let offset = u64::try_from(func.constant(args[0])?).ok()?;
    let len = u64::try_from(func.constant(args[1])?).ok()?;
    let end = offset.checked_add(len)?;
    (len > 0 && end <= MAX_TRACKED_END).then_some(end)
}

fn ceil32(n: u64) -> u64 {
    n.div_ceil(32) * 32
}
