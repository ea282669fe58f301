//! Removal of unreachable blocks: blocks no path from the entry reaches (a suspension's
//! resume block is its successor), such as those behind a failing path left to the
//! interpreter (`translate/failing.rs`). The remaining blocks keep their order and are
//! renumbered; a removed block's instructions stay in the instruction table, unused.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Height, InstData, Terminator};
    use crate::{InstructionResult, SpecId, U256};

    #[test]
    fn unreachable_blocks_go_and_the_others_are_renumbered_in_order() {
        let mut f = Function::new(SpecId::CANCUN);
        let [b0, b1, b2, b3] = [0, 1, 2, 3].map(|pc| f.create_block(Some(pc)));
        let stop = Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Abs(0) };
        f.terminate(b0, Terminator::Jump(b2));
        f.append(b1, InstData::Const(U256::ZERO));
        f.terminate(b1, Terminator::Jump(b3));
        f.terminate(b2, Terminator::Jump(b3));
        f.terminate(b3, stop.clone());
        assert_eq!(remove_unreachable_blocks(&mut f), 1, "b1's one instruction");
        let pcs: Vec<_> = f.blocks.iter().map(|b| b.pc).collect();
        assert_eq!(pcs, [Some(0), Some(2), Some(3)]);
        assert_eq!(f.blocks[0].term, Terminator::Jump(Block::new(1)));
        assert_eq!(f.blocks[1].term, Terminator::Jump(Block::new(2)));
        assert_eq!(f.blocks[2].term, stop);
        crate::verifier::verify(&f).unwrap();
        assert_eq!(remove_unreachable_blocks(&mut f), 0, "nothing left to remove");
    }
}
