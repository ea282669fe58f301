//! Removal of unreachable blocks: blocks no path from the entry reaches (a suspension's
//! resume block is its successor), such as those behind a failing path left to the
//! interpreter (`translate/failing.rs`). The remaining blocks keep their order and are renumbered;
//! a removed block's instructions stay in the instruction table, unused.

use crate::ir::{Block, Function};

/// Removes every block the entry does not reach; returns how many instructions they held.
pub fn remove_unreachable_blocks(func: &mut Function) -> usize {
    let n = func.blocks.len();
    let mut reached = vec![false; n];
    let mut work = vec![func.entry()];
    reached[func.entry().index()] = true;
    while let Some(b) = work.pop() {
        for s in func.block(b).term.successors() {
            if !std::mem::replace(&mut reached[s.index()], true) {
                work.push(s);
            }
        }
    }
    if reached.iter().all(|&r| r) {
        return 0;
    }
    let mut renumbered = vec![Block::new(0); n];
    let mut next = 0;
    for (b, &r) in reached.iter().enumerate() {
        if r {
            renumbered[b] = Block::new(next);
            next += 1;
        }
    }
    let mut removed = 0;
    let blocks = std::mem::take(&mut func.blocks);
    for (b, mut data) in blocks.into_iter().enumerate() {
        if !reached[b] {
            removed += data.insts.len();
            continue;
        }
        for s in data.term.successors_mut() {
            *s = renumbered[s.index()];
        }
        func.blocks.push(data);
    }
    removed
}
