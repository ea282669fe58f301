//! Stack checks moved to the dispatch, and those that then cannot fail dropped.
//!
//! A dynamic-shape section checks, for each instruction stricter than the ones before it,
//! that the run-time base leaves the instruction its operands and room for its results
//! (`DynCharge`); a failing check branches, with the section's gas and base, to a scan
//! shared by the function. Most dynamic-shape blocks start at a JUMPDEST and are cases
//! of their shape's dispatch, which enters every JUMPDEST: in UniswapV3Pool's compiled
//! profile, 281 of the 370 blocks with checks. Each paid for its check and for the
//! values its failing edge carries.
//!
//! This pass first moves each case block's checks (those before it moves the base) into
//! the dispatch's guard ([`DispatchGuard`]): one lookup by the case's index tests every
//! case's bounds, and a jump whose base its case does not accept leaves to the
//! interpreter at its target, with the dispatch's slots written to the stack array, where
//! revm halts exactly as the check would have (or, for a check that was conservative,
//! runs on). Compiled from a profile, a guard also asks for what the code a few branches
//! past its case checks, and for headroom ([`GUARD_HEADROOM`]). Then it follows the base
//! through the function: a forward data-flow of an interval per block holding every base
//! the block is entered with, from the entry (base 0). A static-shape block hands over a
//! known height; a section that passes its checks narrows the interval to the bases they
//! allow; a guarded case is entered with the bases its bounds accept; `adjust_base`, and
//! a dynamic-shape CALL or CREATE (whose result replaces its operands), move it. Every
//! base lies in `0..=STACK_LIMIT`: a check that fails halts, so no frame continues with a
//! base outside its stack. A check whose bounds hold for every base of the interval at
//! its section is dropped, and a section left without checks is a plain `charge_gas`.
//! The halt a dropped check would have chosen never happens, so nothing observable
//! changes.
//!
//! Cycles through which the base keeps moving would grow an interval one step per turn;
//! after [`WIDEN_AFTER`] changes a block's interval becomes all its edges can carry (a
//! guarded case keeps its bounds), after twice that the whole stack, so the pass visits
//! each block a bounded number of times whatever the program.

use std::collections::VecDeque;

use crate::abi::STACK_LIMIT;
use crate::ir::{Block, DispatchGuard, Function, Height, InstData, Terminator};

/// Changes of a block's entry interval after which it is widened to the whole stack.
pub const WIDEN_AFTER: u32 = 32;

/// How far below the stack limit a guarded case's base must be, on top of what its block
/// checks, in code compiled from a profile: room for the entries the case's code pushes
/// before its next unresolved jump, whose checks this proves. A frame that deep at an
/// unresolved jump (of 1,024 entries; Solidity code stays far below) continues in the
/// interpreter, as at code that did not run when profiled. Without a profile the guards
/// take only what their blocks check, so that the first tier, which records the profile,
/// never leaves a frame that would not fail.
pub const GUARD_HEADROOM: i64 = 128;

/// Every base a frame can have.
const WHOLE: Range = Range { lo: 0, hi: STACK_LIMIT as i64 };

/// The bases a block can see: `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    lo: i64,
    hi: i64,
}

impl Range {
    /// The smallest range holding both.
    fn join(self, other: Range) -> Range {
        Range { lo: self.lo.min(other.lo), hi: self.hi.max(other.hi) }
    }

    /// The bases of `self` in `lo..=hi`; `None` when there are none.
    fn meet(self, (lo, hi): (i64, i64)) -> Option<Range> {
        let r = Range { lo: self.lo.max(lo), hi: self.hi.min(hi) };
        (r.lo <= r.hi).then_some(r)
    }

    /// The range moved by `n`, kept within the stack.
    fn shift(self, n: i64) -> Option<Range> {
        let moved = Range { lo: self.lo.saturating_add(n), hi: self.hi.saturating_add(n) };
        moved.meet((WHOLE.lo, WHOLE.hi))
    }

    /// Whether every base of the range is in `lo..=hi`.
    fn within(self, (lo, hi): (i64, i64)) -> bool {
        lo <= self.lo && self.hi <= hi
    }
}

/// What a block does to the base: the bounds its sections allow (those before the base
/// first moves, whose checks are on the base it was entered with), then the move.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    allows: (i64, i64),
    shift: i64,
}

/// Moves the dispatch cases' checks into their guards, then drops every stack check that
/// holds for all bases reaching it; returns how many checks it dropped. A `profiled`
/// function's guards also ask for what the code past their cases checks, and for
/// [`GUARD_HEADROOM`] more room.
pub fn drop_proven_stack_checks(func: &mut Function, profiled: bool) -> usize {
    // Guards change no block's transfer.
    let transfers: Vec<Transfer> = func.block_ids().map(|b| transfer(func, b)).collect();
    guard_cases(func, &transfers, profiled);
    let entry = entry_ranges(func, &transfers);
    let mut dropped = 0;
    for (b, range) in entry.into_iter().enumerate() {
        let Some(mut range) = range else { continue };
        for i in 0..func.blocks[b].insts.len() {
            let inst = func.blocks[b].insts[i];
            match &mut func.insts[inst.index()] {
                InstData::DynCharge { gas, checks } => {
                    let before = checks.len();
                    checks.retain(|c| !range.within((c.min_base, c.max_base)));
                    dropped += before - checks.len();
                    if checks.is_empty() {
                        func.insts[inst.index()] = InstData::ChargeGas(*gas);
                        continue;
                    }
                    match range.meet(allowed(checks)) {
                        Some(r) => range = r,
                        // Every base fails here: nothing after the section runs.
                        None => break,
                    }
                }
                // Later checks are on the moved base: none of the corpus has one.
                InstData::AdjustBase(_) => break,
                _ => {}
            }
        }
    }
    for blk in func.block_ids() {
        if let Terminator::Switch { guard, .. } = &mut func.blocks[blk.index()].term
            && guard.as_ref().is_some_and(|g| !g.is_active())
        {
            *guard = None;
        }
    }
    dropped
}

/// The bases both `a` and `b` allow (`lo > hi` when none).
fn intersect(a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    (a.0.max(b.0), a.1.min(b.1))
}

/// Bounds on the base a block is entered with, for bounds on the base after it moved the
/// base by `shift`.
fn moved_back((lo, hi): (i64, i64), shift: i64) -> (i64, i64) {
    (lo.saturating_sub(shift), hi.saturating_sub(shift))
}

/// The bases every check of a section allows.
fn allowed(checks: &[crate::ir::StackCheck]) -> (i64, i64) {
    let lo = checks.iter().map(|c| c.min_base).max().unwrap_or(i64::MIN);
    let hi = checks.iter().map(|c| c.max_base).min().unwrap_or(i64::MAX);
    (lo, hi)
}

/// Narrows each guard's bounds to what its case asks for ([`case_bounds`]; in a
/// `profiled` function, [`GUARD_HEADROOM`] below the stack limit too). Bounds only
/// narrow: a block whose checks an earlier run moved into the guard has none left, and
/// its case keeps the bounds that made them redundant.
fn guard_cases(func: &mut Function, transfers: &[Transfer], profiled: bool) {
    let room = STACK_LIMIT as i64 - if profiled { GUARD_HEADROOM } else { 0 };
    for blk in func.block_ids() {
        let Terminator::Switch { cases, guard: Some(guard), .. } = &func.block(blk).term else {
            continue;
        };
        let bounds: Vec<_> = (cases.iter().zip(&guard.bounds))
            .map(|(&(_, b), &(lo, hi))| match case_bounds(func, transfers, b, profiled) {
                Some(asked) => intersect(intersect((lo, hi), asked), (i64::MIN, room)),
                None => (lo, hi),
            })
            .collect();
        if let Terminator::Switch { guard: Some(guard), .. } = &mut func.blocks[blk.index()].term {
            guard.bounds = bounds;
        }
    }
}

/// The bases case block `b` asks its guard for, on the base it is entered with; `None`
/// when it checks nothing.
///
/// Without a profile, what the case's own EVM block checks (past the trampoline that may
/// lead to it): a frame the guard refuses would fail in that block, in the interpreter
/// as in compiled code. The first tier, which records the profile, so never leaves a
/// frame that runs on.
///
/// With a profile, what the blocks within [`DEMAND_DEPTH`] jumps and branches of `b`
/// (at most [`DEMAND_BLOCKS`] of them) check, so that the data-flow proves their checks
/// too; a branch whose bounds exclude every base the others allow keeps its own checks.
/// In a frame that takes that code the guard can only fail where the code would; in one
/// that branches away it fails only if the stack is shallower than code a few branches
/// on reads, which compiled Solidity, whose functions read only their own frame, never
/// is: such a frame would continue correctly, in the interpreter.
fn case_bounds(
    func: &Function,
    transfers: &[Transfer],
    b: Block,
    profiled: bool,
) -> Option<(i64, i64)> {
    let d = if profiled {
        let mut budget = DEMAND_BLOCKS;
        demand(func, transfers, b, DEMAND_DEPTH, &mut budget)
    } else {
        own_checks(func, transfers, b)
    };
    (d != DispatchGuard::ANY).then_some(d)
}

/// What case block `b` checks, or, when `b` is a trampoline (`translate/edges.rs`), what
/// the block it leads to checks, moved back over the trampoline's base move.
fn own_checks(func: &Function, transfers: &[Transfer], b: Block) -> (i64, i64) {
    let t = transfers[b.index()];
    let data = func.block(b);
    let moves_slots = |&inst: &crate::ir::Inst| {
        matches!(
            func.inst(inst),
            InstData::SlotGet(_)
                | InstData::SlotSet(..)
                | InstData::StackStore(..)
                | InstData::AdjustBase(_)
        )
    };
    match data.term {
        Terminator::Jump(s) if data.pc.is_none() && data.insts.iter().all(moves_slots) => {
            moved_back(transfers[s.index()].allows, t.shift)
        }
        _ => t.allows,
    }
}

/// How many jumps and branches past a case block its guard looks.
pub const DEMAND_DEPTH: u32 = 4;

/// How many blocks a case's guard looks at, at most.
const DEMAND_BLOCKS: u32 = 16;

fn demand(
    func: &Function,
    transfers: &[Transfer],
    b: Block,
    depth: u32,
    budget: &mut u32,
) -> (i64, i64) {
    let t = transfers[b.index()];
    let mut d = t.allows;
    if depth == 0 || *budget == 0 {
        return d;
    }
    *budget -= 1;
    let next = match func.block(b).term {
        Terminator::Jump(s) => [Some(s), None],
        Terminator::Branch { then, else_, .. } => [Some(then), Some(else_)],
        _ => [None, None],
    };
    for s in next.into_iter().flatten() {
        let next = moved_back(demand(func, transfers, s, depth - 1, budget), t.shift);
        let both = intersect(d, next);
        if both.0 <= both.1 {
            d = both;
        }
    }
    d
}

/// Block `b`'s effect on the base.
fn transfer(func: &Function, b: Block) -> Transfer {
    let mut allows = (i64::MIN, i64::MAX);
    let mut shift = 0i64;
    for &inst in &func.block(b).insts {
        match func.inst(inst) {
            InstData::DynCharge { checks, .. } if shift == 0 => {
                allows = intersect(allows, allowed(checks));
            }
            InstData::AdjustBase(n) => shift += i64::from(*n),
            _ => {}
        }
    }
    Transfer { allows, shift }
}

/// For each block, an interval holding every base it is entered with; `None` for blocks
/// that no path reaches with a base the checks let through.
///
/// Widening is in two steps: after [`WIDEN_AFTER`] changes a block's interval becomes the
/// join of what its incoming edges can carry at most (a guarded case's bounds, else the
/// whole stack), which the cases of a dispatch in a cycle keep; after as many more, the
/// whole stack. Each block changes at most `2 * WIDEN_AFTER + 1` times.
fn entry_ranges(func: &Function, transfers: &[Transfer]) -> Vec<Option<Range>> {
    let n = func.blocks.len();
    let mut entry: Vec<Option<Range>> = vec![None; n];
    // The join of the most each incoming edge seen so far can carry.
    let mut cap: Vec<Option<Range>> = vec![None; n];
    let mut changes = vec![0u32; n];
    let mut queued = vec![false; n];
    let start = func.entry().index();
    entry[start] = Some(Range { lo: 0, hi: 0 });
    queued[start] = true;
    let mut work = VecDeque::from([start]);
    let mut edges = Vec::new();
    while let Some(b) = work.pop_front() {
        queued[b] = false;
        let range = entry[b].expect("queued with a range");
        edges.clear();
        exits(func, b, range, transfers[b], &mut edges);
        for &(s, range, most) in &edges {
            let s = s.index();
            let most = cap[s].map_or(most, |c| c.join(most));
            cap[s] = Some(most);
            let joined = entry[s].map_or(range, |r| r.join(range));
            if entry[s] == Some(joined) {
                continue;
            }
            changes[s] += 1;
            entry[s] = Some(match changes[s] {
                c if c > 2 * WIDEN_AFTER => WHOLE,
                c if c > WIDEN_AFTER => joined.join(most),
                _ => joined,
            });
            if !std::mem::replace(&mut queued[s], true) {
                work.push_back(s);
            }
        }
    }
    entry
}

/// Pushes to `out` each successor of block `b` with the bases it is entered with, when
/// `b` is entered with `range`, and the most its edge can carry whatever `range` is.
fn exits(
    func: &Function,
    b: usize,
    range: Range,
    t: Transfer,
    out: &mut Vec<(Block, Range, Range)>,
) {
    let Some(after) = range.meet(t.allows).and_then(|r| r.shift(t.shift)) else {
        return;
    };
    match &func.blocks[b].term {
        // A dynamic-shape CALL or CREATE: the runtime pops its operands and pushes its
        // result, and the block after it is entered with that height as its base.
        Terminator::Suspend { args, height: Height::Rel(h), resume, .. } => {
            let moved = i64::from(*h) - args.len() as i64 + 1;
            out.extend(after.shift(moved).map(|r| (*resume, r, WHOLE)));
        }
        Terminator::Switch { cases, default, guard: Some(guard), .. } => {
            for (&(_, c), &bounds) in cases.iter().zip(&guard.bounds) {
                if let (Some(r), Some(most)) = (after.meet(bounds), WHOLE.meet(bounds)) {
                    out.push((c, r, most));
                }
            }
            out.extend([(*default, after, WHOLE), (guard.exit, after, WHOLE)]);
        }
        term => out.extend(term.successors().into_iter().map(|s| (s, after, WHOLE))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::RanBlocks;
    use crate::{Limits, SpecId, translate, translate_profiled};

    /// A loop that pushes one entry per turn (its head a dynamic shape), then a jump to
    /// calldata[32] through that shape's dispatch; the cases follow from pc 20.
    #[rustfmt::skip]
    const LOOP_AND_JUMP: [u8; 20] = [
        0x60, 0x00, 0x5b,                   // 0: i = 0; 2: head
        0x80, 0x60, 0x01, 0x01,             // DUP1; i + 1
        0x80, 0x60, 0x00, 0x35, 0x11,       // calldata[0] > i + 1
        0x61, 0x00, 0x02, 0x57,             // JUMPI(head)
        0x60, 0x20, 0x35, 0x56,             // JUMP(calldata[32])
    ];

    /// `LOOP_AND_JUMP` to a block that reads 2 entries deep (pc 20) or one that reads 12
    /// (pc 23).
    fn loop_then_jump() -> Vec<u8> {
        let cases = [0x5b, 0x81, 0x00, 0x5b, 0x8b, 0x00]; // DUP2 STOP; DUP12 STOP
        [&LOOP_AND_JUMP[..], &cases].concat()
    }

    /// The guard bounds of the dispatch's cases by pc, and whether each case's block
    /// still has stack checks.
    fn guarded_cases(func: &Function) -> Vec<(u32, (i64, i64), bool)> {
        let guarded = func.block_ids().find_map(|b| match &func.block(b).term {
            Terminator::Switch { cases, guard: Some(g), .. } => Some((cases.clone(), g.clone())),
            _ => None,
        });
        let (cases, guard) = guarded.expect("a guarded dispatch");
        let checks = |b: Block| {
            let mut insts = func.block(b).insts.iter();
            insts.any(|&i| matches!(func.inst(i), InstData::DynCharge { .. }))
        };
        (cases.iter().zip(&guard.bounds))
            .map(|(&(pc, b), &bounds)| (pc, bounds, checks(b)))
            .collect()
    }

    #[test]
    fn each_case_s_first_check_moves_to_its_dispatch_guard() {
        let func = translate(&loop_then_jump(), SpecId::CANCUN, &Limits::default()).unwrap();
        let cases = guarded_cases(&func);
        let case = |pc| *cases.iter().find(|c| c.0 == pc).expect("a case");
        let ((_, shallow, c1), (_, deep, c2)) = (case(20), case(23));
        assert!(!c1 && !c2, "the blocks' checks are in the guard: {cases:?}");
        // The deeper read asks for 10 more entries; both leave room for the dispatch
        // shape's slot and DUP's push, and no more (no headroom without a profile).
        assert_eq!(deep.0 - shallow.0, 10, "{cases:?}");
        assert_eq!((shallow.1, deep.1), (1022, 1022), "{cases:?}");
        // The loop's head is reached at ever greater bases: its own check stays.
        assert!(func.to_string().contains("dyn_charge"), "{func}");
    }

    #[test]
    fn code_compiled_from_a_profile_leaves_headroom_above_its_cases() {
        let ran = RanBlocks::from_fn(loop_then_jump().len(), |_| true);
        let limits = Limits::default();
        let func = translate_profiled(&loop_then_jump(), SpecId::CANCUN, &limits, Some(&ran));
        for (pc, (_, hi), _) in guarded_cases(&func.unwrap()) {
            assert!(pc != 20 && pc != 23 || hi == STACK_LIMIT as i64 - GUARD_HEADROOM, "{pc}");
        }
    }

    /// `LOOP_AND_JUMP` to a block (pc 20) that branches on calldata[64] either to one
    /// reading 16 entries deep (pc 30) or on to DUP1 STOP.
    fn loop_then_branch() -> Vec<u8> {
        #[rustfmt::skip]
        let cases = [
            0x5b, 0x60, 0x40, 0x35, 0x61, 0x00, 0x1e, 0x57, // 20: JUMPI(30, calldata[64])
            0x80, 0x00,                                     // DUP1 STOP
            0x5b, 0x8f, 0x00,                               // 30: DUP16 STOP
        ];
        [&LOOP_AND_JUMP[..], &cases].concat()
    }

    #[test]
    fn only_code_compiled_from_a_profile_guards_what_lies_past_a_case() {
        let lowest = |func: &Function, pc: u32| {
            let cases = guarded_cases(func);
            cases.iter().find(|c| c.0 == pc).map(|c| c.1.0).expect("a case")
        };
        // Without a profile (the first tier, which records one), the case at pc 20 asks
        // for what its own block checks: a frame too shallow for DUP16 that stops at pc 29
        // runs on in compiled code.
        let func = translate(&loop_then_branch(), SpecId::CANCUN, &Limits::default()).unwrap();
        assert_eq!(lowest(&func, 30), 15, "DUP16 above the dispatch shape's slot");
        assert!(lowest(&func, 20) < 15, "{:?}", guarded_cases(&func));
        // The loop's head is a case through a trampoline that spills the slot: the guard
        // asks for what the head checks (an entry below its base), moved back over it.
        assert_eq!(lowest(&func, 2), 0, "{:?}", guarded_cases(&func));
        // From a profile in which pc 30 ran, it asks for what pc 30 reads too.
        let ran = RanBlocks::from_fn(loop_then_branch().len(), |_| true);
        let limits = Limits::default();
        let func = translate_profiled(&loop_then_branch(), SpecId::CANCUN, &limits, Some(&ran));
        assert_eq!(lowest(&func.unwrap(), 20), 15);
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let mut func = translate(&loop_then_jump(), SpecId::CANCUN, &Limits::default()).unwrap();
        let before = func.clone();
        assert_eq!(drop_proven_stack_checks(&mut func, false), 0);
        assert_eq!(func, before, "the guards keep the bounds their cases' checks moved to");
    }

    #[test]
    fn an_interval_that_keeps_growing_is_widened_to_the_whole_stack() {
        let (grow, stay) = (Range { lo: 3, hi: 4 }, Range { lo: 3, hi: 4 });
        assert_eq!(grow.join(Range { lo: 5, hi: 5 }), Range { lo: 3, hi: 5 });
        assert_eq!(stay.shift(2000), None, "past the stack, no base");
        assert_eq!(stay.shift(1021), Some(Range { lo: 1024, hi: 1024 }));
        // The loop's head: entered at base 0, then one higher each turn; the pass visits it
        // a bounded number of times and ends with an interval the head's checks narrow.
        let func = translate(&loop_then_jump(), SpecId::CANCUN, &Limits::default()).unwrap();
        let transfers: Vec<Transfer> = func.block_ids().map(|b| transfer(&func, b)).collect();
        let entry = entry_ranges(&func, &transfers);
        assert!(entry.iter().flatten().any(|r| r.hi - r.lo > 1000), "{entry:?}");
    }
}
