//! Terminators for JUMP and JUMPI from the analysis' jump facts.

use super::Translator;
use crate::InstructionResult;
use crate::analysis::jumps::JumpTarget;
use crate::ir::{Block, Terminator, Value};

impl Translator<'_> {
    /// The terminator of `block`, which ends in a jump to `target` (taken if `cond` is
    /// non-zero, for JUMPI; `next` is the EVM block after it).
    pub(super) fn jump_terminator(
        &mut self,
        block: Block,
        target: Value,
        cond: Option<Value>,
        facts: &JumpTarget,
        next: usize,
    ) -> Terminator {
        let taken = self.taken_edge(block, target, facts, cond.is_some());
        match cond {
            None => taken,
            Some(cond) => {
                let then = match taken {
                    Terminator::Jump(b) => b,
                    dispatch => {
                        let b = self.func.create_block(None);
                        self.func.terminate(b, dispatch);
                        b
                    }
                };
                let else_ = self.ir_blocks[next].expect("JUMPI fall-through is reachable");
                Terminator::Branch { cond, then, else_ }
            }
        }
    }

    /// Control transfer for a taken jump. For JUMPI (`as_edge`) an invalid target becomes
    /// a jump to the shared invalid-jump exit, so the result is always usable as an edge.
    fn taken_edge(
        &mut self,
        _block: Block,
        target: Value,
        facts: &JumpTarget,
        as_edge: bool,
    ) -> Terminator {
        let invalid = self.exit_block(InstructionResult::InvalidJump);
        let cases: Vec<(u32, Block)> = match facts {
            JumpTarget::Static(pcs) => {
                if let [pc] = pcs[..] {
                    return match self.jump_dest(pc as usize) {
                        Some(b) => Terminator::Jump(b),
                        None if as_edge => Terminator::Jump(invalid),
                        None => Terminator::Exit {
                            result: InstructionResult::InvalidJump,
                            stack_len: 0,
                        },
                    };
                }
                pcs.iter().filter_map(|&pc| Some((pc, self.jump_dest(pc as usize)?))).collect()
            }
            JumpTarget::Dynamic => self
                .analysis
                .jumpdest_blocks
                .iter()
                .filter_map(|&b| {
                    let pc = self.code.instrs[self.cfg.blocks[b].start].pc;
                    Some((pc, self.ir_blocks[b]?))
                })
                .collect(),
            JumpTarget::None => unreachable!("a block ending in a jump has jump facts"),
        };
        Terminator::Switch { value: target, cases, default: invalid }
    }
}
