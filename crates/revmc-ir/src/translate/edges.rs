//! Edges between blocks of different shapes.
//!
//! An edge whose source leaves with the shape its target variant was analysed for is a
//! plain branch. An edge into a collapsed block (whose only variant is `Dynamic(0)`) goes
//! through a *trampoline*: a small block that writes the slots to the frame's stack
//! array, moves the base over them, and jumps on. Trampolines are shared by every edge
//! with the same source shape and target.

use super::Translator;
use crate::analysis::jumps::Shape;
use crate::ir::{Block, InstData, Terminator};

impl Translator<'_> {
    /// The IR block an edge leaving with `shape` enters EVM block `b` at, if the analysis
    /// found `b` reachable that way.
    pub(super) fn try_edge(&mut self, b: usize, shape: Shape) -> Option<Block> {
        let facts = self.analysis.blocks.get(b)?;
        if let Some(v) = facts.variant(shape) {
            return Some(self.ir_blocks[b][v]);
        }
        if !facts.collapsed {
            return None;
        }
        let target = self.ir_blocks[b][facts.variant(Shape::Dynamic(0))?];
        Some(self.trampoline(target, shape))
    }

    /// A block that converts `shape` to `Dynamic(0)` and jumps to `target`.
    pub(super) fn trampoline(&mut self, target: Block, shape: Shape) -> Block {
        if shape == Shape::Dynamic(0) {
            return target;
        }
        if let Some(&t) = self.trampolines.get(&(target, shape)) {
            return t;
        }
        let t = self.func.create_block(None);
        match shape {
            Shape::Static(h) => {
                self.func.append(t, InstData::SetBase(h as u32));
                self.spill_slots(t, h, -(h as i32));
            }
            Shape::Dynamic(r) => {
                self.spill_slots(t, r, 0);
                self.func.append(t, InstData::AdjustBase(r as i32));
            }
        }
        self.func.terminate(t, Terminator::Jump(target));
        self.trampolines.insert((target, shape), t);
        t
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
                self.func.terminate(d, Terminator::Switch { value, cases, default });
                self.dispatch.insert(target, d);
                d
            }
        };
        if target == shape { dispatch } else { self.trampoline(dispatch, shape) }
    }

    /// As [`Self::try_edge`], for edges the analysis guarantees.
    pub(super) fn edge(&mut self, b: usize, shape: Shape) -> Block {
        self.try_edge(b, shape).expect("the analysis reaches every successor with its shape")
    }

    /// Appends to `t` the stores of slots `0..n` to the array at base `offset + i`.
    fn spill_slots(&mut self, t: Block, n: usize, offset: i32) {
        for i in 0..n {
            let v = self.func.append(t, InstData::SlotGet(i as u32)).expect("result");
            self.func.append(t, InstData::StackStore(offset + i as i32, v));
        }
    }
}
