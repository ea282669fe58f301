//! One exit for the jumps a dispatch switch leaves to the interpreter.
//!
//! An unresolved jump goes to its shape's dispatch block, a `switch` over every JUMPDEST
//! (`translate/edges.rs`). Compiled from a profile, most of those JUMPDESTs did not run
//! in that shape, and each of their cases led to a block of its own that only leaves to
//! the interpreter at the case's pc: in UniswapV3Pool's dispatch, 352 of about 700 cases.
//! Each such case cost a compare in the switch's search tree and an exit block with its
//! write-back, for code that never ran.
//!
//! This pass drops those cases. The switch's default, which was the invalid-jump exit,
//! becomes one [`Terminator::InterpretJump`]: the runtime checks the recorded target as
//! JUMP does, so that a jump to any JUMPDEST without a case continues in the interpreter
//! there, and any other target halts with `InvalidJump` as before. The case blocks and
//! the old default, if nothing else reaches them, are left to
//! [`super::remove_unreachable_blocks`].

use crate::ir::{Block, Function, Height, InstData, Leave, Terminator};

/// Drops, from each dispatch switch (one over a recorded jump target), the cases that
/// only leave to the interpreter at their own pc, and makes the switch's default a jump
/// left to the interpreter; returns how many cases it dropped.
///
/// The cases dropped from one switch share their stack height and their `cold` flag (one
/// exit writes back one height and returns one code): where they differ, the largest
/// group goes. A dropped case's block stays if anything else reaches it (a fall-through
/// or a resolved jump).
pub fn leave_jumps_to_interpreter(func: &mut Function) -> usize {
    let mut dropped = 0;
    for blk in func.block_ids() {
        let Terminator::Switch { value, cases, .. } = &func.block(blk).term else {
            continue;
        };
        if !matches!(func.inst(func.value_def(*value)), InstData::JumpTarget) {
            continue;
        }
        let exits: Vec<Option<(Height, bool)>> =
            cases.iter().map(|&(pc, b)| interpreter_exit_at(func, b, pc)).collect();
        let Some(group) = largest_group(&exits) else {
            continue;
        };
        let (stack_len, cold) = group;
        let exit = func.create_block(None);
        let why = Leave::failing_or_cold(cold);
        func.terminate(exit, Terminator::InterpretJump { stack_len, why });
        let Terminator::Switch { cases, default, guard, .. } = &mut func.blocks[blk.index()].term
        else {
            unreachable!("matched above");
        };
        let before = cases.len();
        let keep: Vec<bool> = exits.iter().map(|&e| e != Some(group)).collect();
        let mut kept = keep.iter();
        cases.retain(|_| *kept.next().expect("one exit per case"));
        if let Some(guard) = guard {
            let mut kept = keep.iter();
            guard.bounds.retain(|_| *kept.next().expect("one bound per case"));
        }
        dropped += before - cases.len();
        *default = exit;
    }
    dropped
}

/// The stack height and `cold` flag of block `b` when it only leaves to the interpreter
/// at `pc`.
fn interpreter_exit_at(func: &Function, b: Block, pc: u32) -> Option<(Height, bool)> {
    let data = func.block(b);
    match data.term {
        Terminator::Interpret { pc: at, stack_len, cold } if at == pc && data.insts.is_empty() => {
            Some((stack_len, cold))
        }
        _ => None,
    }
}

/// The most frequent of `exits`; on a tie, the one that appears first.
fn largest_group(exits: &[Option<(Height, bool)>]) -> Option<(Height, bool)> {
    let mut counts: Vec<((Height, bool), usize)> = Vec::new();
    for e in exits.iter().flatten() {
        match counts.iter_mut().find(|(g, _)| g == e) {
            Some((_, n)) => *n += 1,
            None => counts.push((*e, 1)),
        }
    }
    let most = counts.iter().map(|&(_, n)| n).max()?;
    counts.into_iter().find(|&(_, n)| n == most).map(|(g, _)| g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InstructionResult, SpecId, U256};

    /// A dispatch block over JUMPDESTs at pcs 10, 20, 30, 40 and 50: 10 compiled, 20 and
    /// 40 left cold at their own pc, 30 left cold at another pc, 50 left as failing.
    fn dispatch() -> (Function, Block) {
        let mut f = Function::new(SpecId::CANCUN);
        let entry = f.create_block(Some(0));
        let target = f.append(entry, InstData::Const(U256::from(20))).expect("result");
        f.append(entry, InstData::SetJumpTarget(target));
        let d = f.create_block(None);
        f.terminate(entry, Terminator::Jump(d));
        let value = f.append(d, InstData::JumpTarget).expect("result");
        let base = Height::Rel(0);
        let stop = Terminator::Exit { result: InstructionResult::Stop, stack_len: base };
        let interpret = |pc, cold| Terminator::Interpret { pc, stack_len: base, cold };
        let mut cases = Vec::new();
        for (pc, term) in [
            (10, stop),
            (20, interpret(20, true)),
            (30, interpret(31, true)),
            (40, interpret(40, true)),
            (50, interpret(50, false)),
        ] {
            let b = f.create_block(Some(pc));
            f.terminate(b, term);
            cases.push((pc, b));
        }
        let invalid = f.create_block(None);
        f.terminate(
            invalid,
            Terminator::Exit { result: InstructionResult::InvalidJump, stack_len: Height::Abs(0) },
        );
        f.terminate(d, Terminator::Switch { value, cases, default: invalid, guard: None });
        (f, d)
    }

    #[test]
    fn cases_leaving_at_their_own_pc_go_to_one_jump_exit() {
        let (mut f, d) = dispatch();
        assert_eq!(leave_jumps_to_interpreter(&mut f), 2, "the cases of pcs 20 and 40");
        let Terminator::Switch { cases, default, .. } = &f.block(d).term else {
            panic!("still a switch");
        };
        let pcs: Vec<u32> = cases.iter().map(|&(pc, _)| pc).collect();
        assert_eq!(pcs, [10, 30, 50], "the compiled, misplaced and failing cases stay");
        assert_eq!(
            f.block(*default).term,
            Terminator::InterpretJump { stack_len: Height::Rel(0), why: Leave::Cold }
        );
        crate::verifier::verify(&f).unwrap();
        assert_eq!(crate::passes::remove_unreachable_blocks(&mut f), 0, "no instructions");
        assert_eq!(f.blocks.len(), 6, "entry, dispatch, three cases, the jump exit");
        crate::verifier::verify(&f).unwrap();
    }

    #[test]
    fn a_switch_over_a_stack_value_is_left_alone() {
        let (mut f, d) = dispatch();
        // The same switch over a pushed value: a jump the translator resolved to several
        // targets, whose other values are not all invalid jumps.
        let entry = f.entry();
        let v = f.append(entry, InstData::Const(U256::from(40))).expect("result");
        let Terminator::Switch { value, .. } = &mut f.blocks[d.index()].term else {
            panic!("a switch");
        };
        *value = v;
        assert_eq!(leave_jumps_to_interpreter(&mut f), 0);
    }

    #[test]
    fn the_largest_group_goes_first_on_a_tie() {
        let (a, b) = ((Height::Abs(1), true), (Height::Rel(0), false));
        assert_eq!(largest_group(&[None, Some(a), Some(b), Some(b)]), Some(b));
        assert_eq!(largest_group(&[Some(a), Some(b)]), Some(a));
        assert_eq!(largest_group(&[None, None]), None);
    }
}
