//! Terminators for JUMP and JUMPI from the analysis' jump facts.

use super::Translator;
use crate::InstructionResult;
use crate::analysis::jumps::JumpTarget;
use crate::ir::{Block, Terminator, Value};

impl Translator<'_> {
    /// The terminator of a block that ends in a jump to `target` (taken if `cond` is
    /// non-zero, for JUMPI) with the stack `height` high after the jump's operands are
    /// popped; `next` is the EVM block after it.
    pub(super) fn jump_terminator(
        &mut self,
        target: Value,
        cond: Option<Value>,
        facts: &JumpTarget,
        height: usize,
        next: usize,
    ) -> Terminator {
        let taken = self.taken_edge(target, facts, height, cond.is_some());
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
                let else_ =
                    self.variant_block(next, height).expect("JUMPI fall-through is reachable");
                Terminator::Branch { cond, then, else_ }
            }
        }
    }

    /// Control transfer for a taken jump. For JUMPI (`as_edge`) an invalid target becomes
    /// a jump to the shared invalid-jump exit, so the result is always usable as an edge.
    fn taken_edge(
        &mut self,
        target: Value,
        facts: &JumpTarget,
        height: usize,
        as_edge: bool,
    ) -> Terminator {
        let cases: Vec<(u32, Block)> = match facts {
            JumpTarget::Static(pcs) => {
                if let [pc] = pcs[..] {
                    return match self.jump_dest(pc as usize, height) {
                        Some(b) => Terminator::Jump(b),
                        None if as_edge => {
                            Terminator::Jump(self.exit_block(InstructionResult::InvalidJump))
                        }
                        None => Terminator::Exit {
                            result: InstructionResult::InvalidJump,
                            stack_len: 0,
                        },
                    };
                }
                pcs.iter()
                    .filter_map(|&pc| Some((pc, self.jump_dest(pc as usize, height)?)))
                    .collect()
            }
            JumpTarget::Dynamic => self
                .analysis
                .jumpdest_blocks
                .iter()
                .filter_map(|&b| {
                    let pc = self.code.instrs[self.cfg.blocks[b].start].pc;
                    Some((pc, self.variant_block(b, height)?))
                })
                .collect(),
            JumpTarget::None => unreachable!("a block ending in a jump has jump facts"),
        };
        self.switch_cases += cases.len();
        let invalid = self.exit_block(InstructionResult::InvalidJump);
        Terminator::Switch { value: target, cases, default: invalid }
    }
}
