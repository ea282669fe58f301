//! Edges between blocks of different shapes.
//!
//! An edge whose source leaves with the shape its target variant was analysed for is a
//! plain branch. An edge into a collapsed block (whose only variant is `Dynamic(0)`), or
//! into a block's one dynamic variant with fewer slots than the edge carries, goes
//! through a *trampoline*: a small block that writes the extra slots to the frame's
//! stack array, moves the base over them, moves the other slots down, and jumps on.
//! Trampolines are shared by every edge with the same source shape and target.

use super::Translator;
use crate::analysis::jumps::Shape;
use crate::ir::{Block, DispatchGuard, Height, InstData, Leave, Terminator};

impl Translator<'_> {
    /// The IR block an edge leaving with `shape` enters EVM block `b` at, if the analysis
    /// found `b` reachable that way.
    pub(super) fn try_edge(&mut self, b: usize, shape: Shape) -> Option<Block> {
        let facts = self.analysis.blocks.get(b)?;
        let v = facts.entered_variant(shape)?;
        let target = self.ir_blocks[b][v];
        Some(self.trampoline(target, shape, facts.variants[v].shape))
    }

    /// As [`Self::try_edge`], for edges the analysis guarantees.
    pub(super) fn edge(&mut self, b: usize, shape: Shape) -> Block {
        self.try_edge(b, shape).expect("the analysis reaches every successor with its shape")
    }

    /// A block that converts `from` to the dynamic shape `to` (with no more slots than
    /// `from`) and jumps to `target`; `target` itself when the shapes are equal.
    pub(super) fn trampoline(&mut self, target: Block, from: Shape, to: Shape) -> Block {
        if from == to {
            return target;
        }
        if let Some(&t) = self.trampolines.get(&(target, from)) {
            return t;
        }
        let t = self.func.create_block(None);
        // A static stack is a dynamic one on base 0 (the base starts at 0 and only dynamic
        // blocks move it). The bottom `spill` slots go to the array, the rest move down to
        // slot 0, and the base moves over the spilled ones.
        let (keep, spill) = (to.slots(), from.slots() - to.slots());
        self.store_slots(t, spill);
        let moved: Vec<_> = (0..keep)
            .map(|i| self.func.append(t, InstData::SlotGet((spill + i) as u32)).expect("result"))
            .collect();
        for (i, v) in moved.into_iter().enumerate() {
            self.func.append(t, InstData::SlotSet(i as u32, v));
        }
        if spill != 0 {
            self.func.append(t, InstData::AdjustBase(spill as i32));
        }
        self.func.terminate(t, Terminator::Jump(target));
        self.trampolines.insert((target, from), t);
        t
    }

    /// Appends to `block` the stores of slots `0..n` to the stack array at the same
    /// positions above the base.
    fn store_slots(&mut self, block: Block, n: usize) {
        for i in 0..n {
            let v = self.func.append(block, InstData::SlotGet(i as u32)).expect("result");
            self.func.append(block, InstData::StackStore(i as i32, v));
        }
    }

    /// The block an unresolved jump leaving with `shape` goes to, after recording its
    /// target with `SetJumpTarget`: every such jump of one entry shape shares a dispatch
    /// block, a `switch` over every JUMPDEST, so the program has one jump table per shape.
    pub(super) fn dynamic_dispatch(&mut self, shape: Shape) -> Block {
        let analysis = self.analysis;
        let target = analysis.dispatch_shape(shape);
        let dispatch = match self.dispatch.get(&target) {
            Some(&d) => d,
            None => {
                let d = self.func.create_block(None);
                let value = self.func.append(d, InstData::JumpTarget).expect("result");
                let cases: Vec<_> = (analysis.jumpdest_blocks.iter())
                    .filter_map(|&b| {
                        let pc = self.code.instrs[self.cfg.blocks[b].start].pc;
                        Some((pc, self.try_edge(b, target)?))
                    })
                    .collect();
                self.switch_cases += cases.len();
                let default = self.exit_block(crate::InstructionResult::InvalidJump);
                // Every base accepted until the stack-bounds pass moves the case blocks'
                // checks here. A jump its guard refuses continues in the interpreter,
                // with the entries the shape holds in slots written to the array first.
                let guard = target.is_dynamic().then(|| {
                    let exit = self.func.create_block(None);
                    self.store_slots(exit, target.slots());
                    let stack_len = Height::Rel(target.slots() as i32);
                    self.func.terminate(
                        exit,
                        Terminator::InterpretJump { stack_len, why: Leave::Guard },
                    );
                    let bounds = vec![DispatchGuard::ANY; cases.len()];
                    Box::new(DispatchGuard { bounds, exit })
                });
                self.func.terminate(d, Terminator::Switch { value, cases, default, guard });
                self.dispatch.insert(target, d);
                d
            }
        };
        self.trampoline(dispatch, shape, target)
    }
}
