//! Per-block construction state: the EVM stack as SSA values, and gas sections.

use crate::ir::{Block, Function, InstData, Terminator, Value};
use crate::{InstructionResult, U256};

/// Builds one IR block from one EVM block.
pub(super) struct BlockBuilder<'f> {
    pub(super) func: &'f mut Function,
    pub(super) block: Block,
    /// The EVM stack, bottom first. `None`: not read yet, still in its slot.
    stack: Vec<Option<Value>>,
    /// The value each entry slot was loaded into, to skip writing back unchanged slots.
    loaded: Vec<Option<Value>>,
    /// Position in the block where the open gas section's charge goes (`None`: no section
    /// is open; the next charge opens one), and its amount.
    section_pos: Option<usize>,
    section_gas: u64,
}

impl<'f> BlockBuilder<'f> {
    pub(super) fn new(func: &'f mut Function, block: Block, entry_height: usize) -> Self {
        Self {
            func,
            block,
            stack: vec![None; entry_height],
            loaded: vec![None; entry_height],
            section_pos: Some(0),
            section_gas: 0,
        }
    }

    /// Current stack height.
    pub(super) fn height(&self) -> usize {
        self.stack.len()
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

    /// The value `depth` entries below the top (0 = top), loading it from its slot if needed.
    pub(super) fn peek(&mut self, depth: usize) -> Value {
        let i = self.stack.len() - 1 - depth;
        match self.stack[i] {
            Some(v) => v,
            None => {
                let v = self.val(InstData::SlotGet(i as u32));
                self.stack[i] = Some(v);
                self.loaded[i] = Some(v);
                v
            }
        }
    }

    pub(super) fn pop(&mut self) -> Value {
        let v = self.peek(0);
        self.stack.pop();
        v
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(Some(v));
    }

    /// Swaps the top with the entry `n` below it.
    pub(super) fn swap(&mut self, n: usize) {
        // Unread entries stand for their own slot, so they must not move: read them first.
        self.peek(0);
        self.peek(n);
        let len = self.stack.len();
        self.stack.swap(len - 1, len - 1 - n);
    }

    /// Adds an instruction's static gas to the open section, opening one if needed.
    pub(super) fn charge(&mut self, gas: u64) {
        if self.section_pos.is_none() {
            self.section_pos = Some(self.func.block(self.block).insts.len());
        }
        self.section_gas += gas;
    }

    /// Ends the open section: its charge is placed where it began. The instructions that
    /// follow (dynamic gas, gas reads) run after the whole section has been paid for.
    pub(super) fn close_section(&mut self) {
        if let Some(pos) = self.section_pos.take()
            && self.section_gas > 0
        {
            self.func.insert_effect(self.block, pos, InstData::ChargeGas(self.section_gas));
        }
        self.section_gas = 0;
    }

    /// Writes changed stack entries back to their slots.
    pub(super) fn flush(&mut self) {
        for i in 0..self.stack.len() {
            if let Some(v) = self.stack[i]
                && self.loaded.get(i).copied().flatten() != Some(v)
            {
                self.ins(InstData::SlotSet(i as u32, v));
            }
        }
    }

    /// Ends the block with a terminator that leaves the block (after flushing the stack).
    pub(super) fn finish(mut self, term: Terminator) {
        self.close_section();
        self.flush();
        self.func.terminate(self.block, term);
    }

    /// Ends the block by halting with `result`; the stack is not written back.
    pub(super) fn halt(mut self, result: InstructionResult) {
        self.close_section();
        self.func.terminate(self.block, Terminator::Exit { result, stack_len: 0 });
    }

    /// Ends the block with STOP / RETURN / REVERT, writing the live stack back.
    pub(super) fn exit_with_stack(self, result: InstructionResult) {
        let stack_len = self.height() as u32;
        self.finish(Terminator::Exit { result, stack_len });
    }
}
