//! Per-block construction state: the EVM stack as SSA values, and gas sections.
//!
//! Stack positions are relative to the block's base: absolute positions for a static
//! shape (the base is 0), positions above the run-time base for a dynamic one, where
//! negative positions are entries of the frame's stack array below the base. Every entry
//! starts *at home* (its slot, or for negative positions its place in the array) and is
//! read from there on first use; at the block's end changed entries go back home, or to
//! the slots of the successor's shape.

use crate::analysis::jumps::Shape;
use crate::analysis::opcodes::stack_requirement;
use crate::ir::{Block, Function, Height, InstData, MAX_CHECK_GAS, StackCheck, Terminator, Value};
use crate::{InstructionResult, U256, abi::STACK_LIMIT};

/// Builds one IR block from one EVM block.
pub(super) struct BlockBuilder<'f> {
    pub(super) func: &'f mut Function,
    pub(super) block: Block,
    shape: Shape,
    /// Entries at positions `bottom..height`, bottom first. `None`: not read yet, at home.
    stack: Vec<Option<Value>>,
    /// Position of `stack[0]`: 0, or below it once a dynamic block reads under its base.
    bottom: isize,
    /// Lowest height reached (only negative for dynamic shapes).
    low: isize,
    /// The value each entry slot was loaded into, to skip writing back unchanged slots.
    loaded_slots: Vec<Option<Value>>,
    /// The same for the array entries below the base: index `j` is position `-1 - j`.
    loaded_array: Vec<Option<Value>>,
    /// Position in the block where the open gas section's charge goes (`None`: no section
    /// is open; the next charge opens one), and its amount.
    section_pos: Option<usize>,
    section_gas: u64,
    /// Dynamic shapes: the open section's stack checks, and the strictest bounds on the
    /// base required by any instruction of the block so far (an instruction whose
    /// requirement is no stricter can never be the first to fail).
    checks: Vec<StackCheck>,
    strictest: (i64, i64),
}

impl<'f> BlockBuilder<'f> {
    pub(super) fn new(func: &'f mut Function, block: Block, shape: Shape) -> Self {
        let slots = shape.slots();
        Self {
            func,
            block,
            shape,
            stack: vec![None; slots],
            bottom: 0,
            low: 0,
            loaded_slots: vec![None; slots],
            loaded_array: Vec::new(),
            section_pos: Some(0),
            section_gas: 0,
            checks: Vec::new(),
            // At entry `base + slots <= STACK_LIMIT` always holds.
            strictest: (0, (STACK_LIMIT - slots) as i64),
        }
    }

    /// Whether the block's base is a run-time value.
    pub(super) fn is_dynamic(&self) -> bool {
        self.shape.is_dynamic()
    }

    /// Current stack height relative to the base.
    pub(super) fn rel_height(&self) -> isize {
        self.bottom + self.stack.len() as isize
    }

    /// Current stack height of a static shape.
    pub(super) fn height(&self) -> usize {
        debug_assert!(!self.is_dynamic());
        self.stack.len()
    }

    /// The stack height as the IR states it.
    pub(super) fn ir_height(&self) -> Height {
        match self.shape {
            Shape::Static(_) => Height::Abs(self.height() as u32),
            Shape::Dynamic(_) => Height::Rel(self.rel_height() as i32),
        }
    }

    /// The shape the block's successors are entered with, were it to end here.
    pub(super) fn exit_shape(&self) -> Shape {
        self.shape.after(self.rel_height(), self.low)
    }

    /// Appends an instruction.
    pub(super) fn ins(&mut self, data: InstData) -> Option<Value> {
        self.func.append(self.block, data)
    }

    /// Appends an instruction that has a result.
    pub(super) fn val(&mut self, data: InstData) -> Value {
        self.ins(data).expect("instruction has a result")
    }

    pub(super) fn konst(&mut self, c: U256) -> Value {
        self.val(InstData::Const(c))
    }

    fn index(&self, pos: isize) -> usize {
        (pos - self.bottom) as usize
    }

    /// The value the entry at `pos` was read from its home into, if it was.
    fn loaded(&self, pos: isize) -> Option<Value> {
        let (home, i) = if pos >= 0 {
            (&self.loaded_slots, pos as usize)
        } else {
            (&self.loaded_array, (-1 - pos) as usize)
        };
        home.get(i).copied().flatten()
    }

    /// Reads the entry at `pos` from its home.
    fn load_home(&mut self, pos: isize) -> Value {
        if pos >= 0 {
            let v = self.val(InstData::SlotGet(pos as u32));
            self.loaded_slots[pos as usize] = Some(v);
            v
        } else {
            let v = self.val(InstData::StackLoad(pos as i32));
            let j = (-1 - pos) as usize;
            if self.loaded_array.len() <= j {
                self.loaded_array.resize(j + 1, None);
            }
            self.loaded_array[j] = Some(v);
            v
        }
    }

    /// The value `depth` entries below the top (0 = top), loading it from home if needed.
    /// Dynamic shapes may read below the base: the section's stack check has made sure
    /// the entry exists before the load runs.
    pub(super) fn peek(&mut self, depth: usize) -> Value {
        let pos = self.rel_height() - 1 - depth as isize;
        if pos < self.bottom {
            let n = (self.bottom - pos) as usize;
            self.stack.splice(0..0, std::iter::repeat_n(None, n));
            self.bottom = pos;
        }
        let i = self.index(pos);
        match self.stack[i] {
            Some(v) => v,
            None => {
                let v = self.load_home(pos);
                self.stack[i] = Some(v);
                v
            }
        }
    }

    fn note_pop(&mut self) {
        self.low = self.low.min(self.rel_height());
    }

    pub(super) fn pop(&mut self) -> Value {
        let v = self.peek(0);
        self.stack.pop();
        self.note_pop();
        v
    }

    /// Pops an operand of a host operation in a dynamic shape: `None` if it is still in
    /// the stack array, where the operation reads it (so nothing is loaded from a stack
    /// that may turn out too short).
    pub(super) fn pop_lazy(&mut self) -> Option<Value> {
        let pos = self.rel_height() - 1;
        let v = if pos < self.bottom {
            self.bottom -= 1;
            None
        } else {
            // A value the block holds (changed or not) is passed on and stored again.
            match self.stack.pop().flatten() {
                Some(v) => Some(v),
                None if pos >= 0 => Some(self.load_home(pos)),
                None => None,
            }
        };
        self.note_pop();
        v
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(Some(v));
    }

    /// Swaps the top with the entry `n` below it.
    pub(super) fn swap(&mut self, n: usize) {
        // Unread entries stand for their own home, so they must not move: read them first.
        self.peek(0);
        self.peek(n);
        let len = self.stack.len();
        self.stack.swap(len - 1, len - 1 - n);
    }

    /// Adds an instruction's static gas to the open section, opening one if needed. In a
    /// dynamic shape a section that would count more than [`MAX_CHECK_GAS`] ends first,
    /// which is exact: an instruction boundary is always a place a section may end.
    pub(super) fn charge(&mut self, gas: u64) {
        if self.is_dynamic() && self.section_gas + gas > MAX_CHECK_GAS {
            self.close_section();
        }
        if self.section_pos.is_none() {
            self.section_pos = Some(self.func.block(self.block).insts.len());
        }
        self.section_gas += gas;
    }

    /// Dynamic shapes: records the run-time stack check of `op`, about to run at the
    /// current height, if it is stricter than every earlier one. Call after [`charge`].
    ///
    /// [`charge`]: Self::charge
    pub(super) fn check_stack(&mut self, op: u8) {
        if !self.is_dynamic() {
            return;
        }
        let Some(req) = stack_requirement(op) else { return };
        let h = self.rel_height() as i64;
        let min_base = req.need as i64 - h;
        let max_base = STACK_LIMIT as i64 - h - req.grow as i64;
        let (strict_min, strict_max) = self.strictest;
        if min_base <= strict_min && max_base >= strict_max {
            return;
        }
        self.strictest = (strict_min.max(min_base), strict_max.min(max_base));
        self.checks.push(StackCheck {
            gas: self.section_gas,
            min_base,
            max_base,
            under: req.under,
            over: req.over,
        });
    }

    /// Ends the open section: its charge is placed where it began. The instructions that
    /// follow (dynamic gas, gas reads) run after the whole section has been paid for.
    pub(super) fn close_section(&mut self) {
        if let Some(pos) = self.section_pos.take() {
            let checks = std::mem::take(&mut self.checks);
            let gas = self.section_gas;
            if !checks.is_empty() {
                self.func.insert_effect(self.block, pos, InstData::DynCharge { gas, checks });
            } else if gas > 0 {
                self.func.insert_effect(self.block, pos, InstData::ChargeGas(gas));
            }
        }
        self.section_gas = 0;
    }

    /// Writes changed entries back for the successors: to their slots (static shapes), or
    /// to the slots of [`Self::exit_shape`] and the array below its base (dynamic shapes,
    /// whose base then moves to the lowest point the block reached).
    pub(super) fn flush(&mut self) {
        let d = self.low.min(0);
        for i in 0..self.stack.len() {
            let pos = self.bottom + i as isize;
            let Some(v) = self.stack[i] else {
                // Unread: in the array below the new base, or in its own slot.
                debug_assert!(pos < d || d == 0, "entries above the new base were all read");
                continue;
            };
            // An entry staying at home is written only if it changed.
            let unchanged = self.loaded(pos) == Some(v);
            if pos < d {
                if !unchanged {
                    self.ins(InstData::StackStore(pos as i32, v));
                }
            } else if d != 0 || !unchanged {
                self.ins(InstData::SlotSet((pos - d) as u32, v));
            }
        }
        if d != 0 {
            self.ins(InstData::AdjustBase(d as i32));
        }
    }

    /// Dynamic shapes: writes every entry below `upto` that is not already there to the
    /// stack array, so that the array holds the whole stack up to that height.
    pub(super) fn flush_to_array(&mut self, upto: isize) {
        debug_assert!(self.is_dynamic());
        for pos in self.bottom..upto.min(self.rel_height()) {
            let i = self.index(pos);
            let v = match self.stack[i] {
                Some(v) => v,
                None if pos >= 0 => self.load_home(pos),
                None => continue,
            };
            // Slots are not in the array; entries below the base are, unless changed.
            if pos >= 0 || self.loaded(pos) != Some(v) {
                self.ins(InstData::StackStore(pos as i32, v));
            }
        }
    }

    /// Ends the block with `term`, writing nothing back (the caller has).
    pub(super) fn terminate(mut self, term: Terminator) {
        self.close_section();
        self.func.terminate(self.block, term);
    }

    /// Ends the block with a terminator that leaves the block (after flushing the stack).
    pub(super) fn finish(mut self, term: Terminator) {
        self.close_section();
        self.flush();
        self.func.terminate(self.block, term);
    }

    /// Ends the block by halting with `result`; the stack is not written back.
    pub(super) fn halt(self, result: InstructionResult) {
        self.terminate(Terminator::Exit { result, stack_len: Height::Abs(0) });
    }

    /// Ends the block with STOP / RETURN / REVERT, writing the live stack back.
    pub(super) fn exit_with_stack(self, result: InstructionResult) {
        self.end_with_stack(|stack_len| Terminator::Exit { result, stack_len });
    }

    /// Ends the block by leaving the frame to the interpreter at `pc`, writing the live
    /// stack back; `cold` says why ([`Terminator::Interpret`]).
    pub(super) fn interpret(self, pc: u32, cold: bool) {
        self.end_with_stack(|stack_len| Terminator::Interpret { pc, stack_len, cold });
    }

    /// Ends the block with `term(height)`, the live stack written back.
    fn end_with_stack(mut self, term: impl FnOnce(Height) -> Terminator) {
        let stack_len = self.ir_height();
        if self.is_dynamic() {
            self.close_section();
            self.flush_to_array(self.rel_height());
            self.terminate(term(stack_len));
        } else {
            self.finish(term(stack_len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpecId;
    use crate::analysis::jumps::Shape;
    use revm_interpreter::bytecode::opcode;

    #[test]
    fn a_dynamic_section_ends_before_a_check_would_count_more_than_max_check_gas() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        let mut bb = BlockBuilder::new(&mut f, b, Shape::Dynamic(0));
        // A POP (needs one entry), then an ADD (needs two) whose gas would pass the bound.
        bb.charge(MAX_CHECK_GAS - 2);
        bb.check_stack(opcode::POP);
        bb.charge(3);
        bb.check_stack(opcode::ADD);
        bb.close_section();
        let sections: Vec<_> = (f.block(b).insts.iter())
            .map(|&i| match f.inst(i) {
                InstData::DynCharge { gas, checks } => {
                    (*gas, checks.iter().map(|c| (c.gas, c.min_base)).collect::<Vec<_>>())
                }
                other => panic!("only charges, got {other:?}"),
            })
            .collect();
        assert_eq!(
            sections,
            [(MAX_CHECK_GAS - 2, vec![(MAX_CHECK_GAS - 2, 1)]), (3, vec![(3, 2)])]
        );
    }
}
