//! The IR function: tables of blocks, instructions and values.

use super::{Block, Inst, InstData, Terminator, Value};
use crate::{SpecId, U256};

/// A basic block: straight-line instructions and one terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockData {
    /// Instructions in execution order.
    pub insts: Vec<Inst>,
    /// How the block ends.
    pub term: Terminator,
    /// The EVM pc the block starts at, for dumps (`None` for synthetic blocks).
    pub pc: Option<u32>,
    /// Whether the block is its EVM block's dynamic-shape variant, which a profile tells
    /// apart from the static ones at the same pc ([`crate::profile::key`]).
    pub dynamic: bool,
}

/// A translated EVM program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Spec the program was translated for; gas constants are baked in.
    pub spec: SpecId,
    /// Blocks; the first is the entry.
    pub blocks: Vec<BlockData>,
    /// Instruction table.
    pub insts: Vec<InstData>,
    /// Defining instruction of each value.
    pub values: Vec<Inst>,
    /// Result value of each instruction, if it has one.
    pub inst_results: Vec<Option<Value>>,
    /// Number of stack slots used (highest slot index + 1).
    pub num_slots: u32,
}

impl Function {
    /// An empty function.
    pub fn new(spec: SpecId) -> Self {
        Self {
            spec,
            blocks: Vec::new(),
            insts: Vec::new(),
            values: Vec::new(),
            inst_results: Vec::new(),
            num_slots: 0,
        }
    }

    /// The entry block.
    pub fn entry(&self) -> Block {
        Block::new(0)
    }

    /// Appends an empty block.
    pub fn create_block(&mut self, pc: Option<u32>) -> Block {
        self.blocks.push(BlockData {
            insts: Vec::new(),
            term: Terminator::Unset,
            pc,
            dynamic: false,
        });
        Block::new(self.blocks.len() - 1)
    }

    /// Appends `data` to `block` and returns its result, if it has one.
    pub fn append(&mut self, block: Block, data: InstData) -> Option<Value> {
        let (inst, result) = self.new_inst(data);
        self.blocks[block.index()].insts.push(inst);
        result
    }

    /// Inserts `data`, which has no result, at position `pos` of `block`.
    pub fn insert_effect(&mut self, block: Block, pos: usize, data: InstData) {
        debug_assert!(!data.has_result());
        let (inst, _) = self.new_inst(data);
        self.blocks[block.index()].insts.insert(pos, inst);
    }

    /// Inserts `data`, which has a result, at position `pos` of `block`; returns the result.
    pub fn insert_value(&mut self, block: Block, pos: usize, data: InstData) -> Value {
        let (inst, result) = self.new_inst(data);
        self.blocks[block.index()].insts.insert(pos, inst);
        result.expect("an instruction with a result")
    }

    /// Records `data` as a new instruction, in no block yet, with its result if it has one.
    fn new_inst(&mut self, data: InstData) -> (Inst, Option<Value>) {
        if let InstData::SlotGet(n) | InstData::SlotSet(n, _) = data {
            self.num_slots = self.num_slots.max(n + 1);
        }
        let inst = Inst::new(self.insts.len());
        let result = data.has_result().then(|| {
            self.values.push(inst);
            Value::new(self.values.len() - 1)
        });
        self.insts.push(data);
        self.inst_results.push(result);
        (inst, result)
    }

    /// Sets the terminator of `block`.
    pub fn terminate(&mut self, block: Block, term: Terminator) {
        self.blocks[block.index()].term = term;
    }

    /// Block data.
    pub fn block(&self, block: Block) -> &BlockData {
        &self.blocks[block.index()]
    }

    /// Instruction data.
    pub fn inst(&self, inst: Inst) -> &InstData {
        &self.insts[inst.index()]
    }

    /// The instruction defining `value`.
    pub fn value_def(&self, value: Value) -> Inst {
        self.values[value.index()]
    }

    /// The value of `v` if a constant defines it.
    pub fn constant(&self, v: Value) -> Option<U256> {
        match self.inst(self.value_def(v)) {
            InstData::Const(c) => Some(*c),
            _ => None,
        }
    }

    /// The result of `inst`, if any.
    pub fn inst_result(&self, inst: Inst) -> Option<Value> {
        self.inst_results[inst.index()]
    }

    /// All blocks in layout order.
    pub fn block_ids(&self) -> impl ExactSizeIterator<Item = Block> + use<> {
        (0..self.blocks.len()).map(Block::new)
    }
}
