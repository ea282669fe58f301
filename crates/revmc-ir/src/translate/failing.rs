//! Paths that can only fail, left to the interpreter.
//!
//! A fifth to a third of a Solidity contract's code runs only to fail: the `require`
//! and `revert` branches that build an error message, and the panics. It runs at most
//! once per call, to end it, yet it cost the backend as much per instruction as the code
//! that succeeds: 39 % of ERC20's estimated compile cost, 34 % of Escrow's
//! (`docs/compile-cost.md`, "Failing paths left to the interpreter").
//!
//! A block is *failing* when every path from it ends in a halt other than STOP, RETURN
//! or SELFDESTRUCT, without a suspension (a call could succeed, and its result is not
//! known here). Each failing block that starts at an EVM instruction becomes one
//! `interpret` terminator: the stack written back as at its entry, the frame continues
//! in revm's interpreter at that pc. The gas charged so far is exactly the interpreter's
//! there, because gas sections never span blocks. The blocks only such blocks reached
//! become unreachable and are removed ([`crate::passes::remove_unreachable_blocks`]).
//!
//! The interpreter then runs each instruction of the failing path at most once: a failing
//! block from which a loop of failing blocks can be reached stays compiled (a loop that
//! only ends by running out of gas could otherwise spend all of the frame's gas
//! interpreted). So does a failing block another block reads a value of (a dispatch block
//! the translator made), and a synthetic block, which has no pc to resume at.
//!
//! With a profile ([`RanBlocks`]), a block that did not run is left the same way, as
//! *cold*: profiled code ran a workload on the first tier, and the optimizing tier
//! compiles only what it ran (`crate::profile`). The profile tells a pc's static-shape
//! variants from its dynamic-shape one, so a pc that ran only statically leaves its
//! dynamic variant (every JUMPDEST has one once unresolved jumps leave in more shapes
//! than `analysis::jumps::MAX_DISPATCH_SHAPES`, or in a dynamic one) to the
//! interpreter, and with it the dynamic copies of the code after it.

use super::Translator;
use super::builder::BlockBuilder;
use crate::InstructionResult;
use crate::ir::{Block, Function, Terminator};
use crate::profile::RanBlocks;

impl Translator<'_> {
    /// Replaces with an exit to the interpreter every block that starts at an EVM
    /// instruction of the code and is failing (if `failing` is on) or, with a profile
    /// `ran`, did not run.
    pub(super) fn leave_to_interpreter(&mut self, failing: bool, ran: Option<&RanBlocks>) {
        let failing = match failing {
            true => acyclic_failing_blocks(&self.func),
            false => vec![false; self.func.blocks.len()],
        };
        let shared = values_read_elsewhere(&self.func);
        for (b, blocks) in self.ir_blocks.iter().enumerate() {
            for (v, &block) in blocks.iter().enumerate() {
                let pc = self.func.block(block).pc.expect("blocks of EVM blocks have a pc");
                // The implicit STOP past the end of the code is no instruction the
                // interpreter could resume at.
                if pc as usize >= self.code.code_len() {
                    continue;
                }
                let fails = failing[block.index()];
                let dynamic = self.func.block(block).dynamic;
                let cold = ran.is_some_and(|ran| !ran.contains_block(pc as usize, dynamic));
                if !(fails || cold) || shared[block.index()] {
                    continue;
                }
                let shape = self.analysis.blocks[b].variants[v].shape;
                debug_assert_eq!(shape.is_dynamic(), dynamic, "the block's kind is its shape's");
                self.func.blocks[block.index()].insts.clear();
                self.func.terminate(block, Terminator::Unset);
                // Failing code is left whatever the profile says: it ends the frame.
                BlockBuilder::new(&mut self.func, block, shape).interpret(pc, !fails);
            }
        }
    }
}

/// Whether each block of `func` can only fail: every path from it ends in an exit that is
/// not STOP, RETURN or SELFDESTRUCT, and none suspends.
fn failing_blocks(func: &Function) -> Vec<bool> {
    let n = func.blocks.len();
    // The complement, `succeeds`, is the least fixed point: a block succeeds if it ends
    // well or suspends, or a successor succeeds.
    let mut succeeds = vec![false; n];
    let mut preds: Vec<Vec<Block>> = vec![Vec::new(); n];
    let mut work = Vec::new();
    for blk in func.block_ids() {
        let term = &func.block(blk).term;
        for s in term.successors() {
            preds[s.index()].push(blk);
        }
        let ends_well = match term {
            Terminator::Exit { result, .. } => matches!(
                result,
                InstructionResult::Stop
                    | InstructionResult::Return
                    | InstructionResult::SelfDestruct
            ),
            // What the interpreter runs after leaving is not known here. A guard's exit
            // (`Leave::Guard`) runs one of its switch's cases, whose blocks could decide,
            // but ending well is the safe side: it only keeps the blocks that make the
            // unresolved jump compiled.
            Terminator::Suspend { .. }
            | Terminator::Interpret { .. }
            | Terminator::InterpretJump { .. } => true,
            _ => false,
        };
        if ends_well {
            succeeds[blk.index()] = true;
            work.push(blk);
        }
    }
    while let Some(blk) = work.pop() {
        for &p in &preds[blk.index()] {
            if !succeeds[p.index()] {
                succeeds[p.index()] = true;
                work.push(p);
            }
        }
    }
    succeeds.into_iter().map(|s| !s).collect()
}

/// Whether each block of `func` can only fail ([`failing_blocks`]) and reaches no loop of
/// such blocks.
fn acyclic_failing_blocks(func: &Function) -> Vec<bool> {
    let mut failing = failing_blocks(func);
    let n = func.blocks.len();
    let succ: Vec<Vec<usize>> = (func.block_ids())
        .map(|b| match failing[b.index()] {
            true => (func.block(b).term.successors().into_iter())
                .map(|s| s.index())
                .filter(|&s| failing[s])
                .collect(),
            false => Vec::new(),
        })
        .collect();
    // Blocks on a cycle: their strongly connected component has several blocks, or an
    // edge to itself.
    let comp = strongly_connected(&succ);
    let mut size = vec![0usize; n];
    comp.iter().for_each(|&c| size[c] += 1);
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, ss) in succ.iter().enumerate() {
        ss.iter().for_each(|&s| preds[s].push(b));
    }
    let mut work: Vec<usize> =
        (0..n).filter(|&b| size[comp[b]] > 1 || succ[b].contains(&b)).collect();
    for &b in &work {
        failing[b] = false;
    }
    // And every failing block that reaches one.
    while let Some(b) = work.pop() {
        for &p in &preds[b] {
            if std::mem::replace(&mut failing[p], false) {
                work.push(p);
            }
        }
    }
    failing
}

/// The strongly connected component of each node of the graph `succ`, named by one of
/// its nodes (Tarjan's algorithm, with an explicit stack: programs have tens of
/// thousands of blocks).
fn strongly_connected(succ: &[Vec<usize>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = succ.len();
    let (mut index, mut low, mut comp) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let (mut on_stack, mut stack, mut next) = (vec![false; n], Vec::new(), 0);
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        let mut frames = vec![(root, 0usize)];
        (index[root], low[root], next) = (next, next, next + 1);
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = frames.last_mut() {
            if let Some(&w) = succ[v].get(*i) {
                *i += 1;
                if index[w] == NONE {
                    (index[w], low[w], next) = (next, next, next + 1);
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(u, _)) = frames.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = v;
                    if w == v {
                        break;
                    }
                }
            }
        }
    }
    comp
}

/// Whether some other block reads a value each block of `func` defines.
fn values_read_elsewhere(func: &Function) -> Vec<bool> {
    let mut def_block = vec![usize::MAX; func.values.len()];
    for blk in func.block_ids() {
        for &inst in &func.block(blk).insts {
            if let Some(v) = func.inst_result(inst) {
                def_block[v.index()] = blk.index();
            }
        }
    }
    let mut shared = vec![false; func.blocks.len()];
    for blk in func.block_ids() {
        let data = func.block(blk);
        let insts = data.insts.iter().flat_map(|&i| func.inst(i).operands());
        for v in insts.chain(data.term.operands()) {
            let d = def_block[v.index()];
            if d != blk.index() && d != usize::MAX {
                shared[d] = true;
            }
        }
    }
    shared
}
