//! Terminators for JUMP and JUMPI from the analysis' jump facts.

use super::Translator;
use crate::InstructionResult;
use crate::analysis::jumps::{JumpTarget, Shape};
use crate::ir::{Block, Height, Terminator, Value};

impl Translator<'_> {
    /// The terminator of a block that ends in a jump to `target` (taken if `cond` is
    /// non-zero, for JUMPI) with the stack in `shape` after the jump's operands are
    /// popped; `next` is the EVM block after it.
    pub(super) fn jump_terminator(
        &mut self,
        target: Value,
        cond: Option<Value>,
        facts: &JumpTarget,
        shape: Shape,
        next: usize,
    ) -> Terminator {
        let taken = self.taken_edge(target, facts, shape, cond.is_some());
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
                let else_ = self.edge(next, shape);
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
        shape: Shape,
        as_edge: bool,
    ) -> Terminator {
        let cases: Vec<(u32, Block)> = match facts {
            JumpTarget::Static(pcs) => {
                if let [pc] = pcs[..] {
                    return match self.jump_dest(pc as usize, shape) {
                        Some(b) => Terminator::Jump(b),
                        None if as_edge => {
                            Terminator::Jump(self.exit_block(InstructionResult::InvalidJump))
                        }
                        None => Terminator::Exit {
                            result: InstructionResult::InvalidJump,
                            stack_len: Height::Abs(0),
                        },
                    };
                }
                pcs.iter()
                    .filter_map(|&pc| Some((pc, self.jump_dest(pc as usize, shape)?)))
                    .collect()
            }
            // The jump's block has recorded the target (`SetJumpTarget`).
            JumpTarget::Dynamic => return Terminator::Jump(self.dynamic_dispatch(shape)),
            JumpTarget::None => unreachable!("a block ending in a jump has jump facts"),
        };
        self.switch_cases += cases.len();
        let invalid = self.exit_block(InstructionResult::InvalidJump);
        Terminator::Switch { value: target, cases, default: invalid, guard: None }
    }
}
