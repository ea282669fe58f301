//! Translation of EVM bytecode into the IR.
//!
//! The driver ([`translate`]) decodes, analyses, and then translates every reachable
//! basic block once per entry shape (variant), in code order. Inside a block,
//! `builder::BlockBuilder` keeps the EVM stack as SSA values and groups static gas into
//! sections; `ops` gives each opcode its meaning; `jumps` turns the analysis' jump
//! facts into terminators; `edges` converts between shapes where a block collapsed.
//!
//! Gas sections: static gas is charged once at the start of a section rather than per
//! instruction. A section ends after every instruction with dynamic gas or that reads
//! the gas counter, so the status of an out-of-gas halt is exactly the interpreter's:
//! if a section's total does not fit, some instruction in it would have run out of
//! static gas before anything else could fail, because in static shapes stack errors are
//! static and end the block where they occur. In dynamic shapes they are run-time facts:
//! a section starts with `dyn_charge`, which checks the base against every instruction's
//! stack requirement and, if one fails, reports out-of-gas or the stack error by
//! comparing the gas left with the section's gas up to the failing instruction.

mod builder;
mod chains;
mod edges;
mod failing;
mod jumps;
mod ops;

use crate::analysis::cfg::Cfg;
use crate::analysis::jumps::JumpAnalysis;
use crate::analysis::jumps::Shape;
use crate::bytecode::Decoded;
use crate::error::Unsupported;
use crate::ir::{Block, Function, Height, Terminator};
use crate::profile::RanBlocks;
use crate::{InstructionResult, Limits, SpecId, TranslateError, U256};
use revm_interpreter::context_interface::cfg::GasParams;
use revm_interpreter::instructions::{GasTable, gas_table_spec};
use std::collections::HashMap;

/// Translates `code` for `spec` into a verified IR function, with the [`passes`](crate::passes)
/// applied.
pub fn translate(code: &[u8], spec: SpecId, limits: &Limits) -> Result<Function, TranslateError> {
    translate_profiled(code, spec, limits, None)
}

/// As [`translate`], leaving to the interpreter every block whose pc is not in `ran`
/// (`failing.rs`): the optimizing tier compiles what the first tier ran.
pub fn translate_profiled(
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
    ran: Option<&RanBlocks>,
) -> Result<Function, TranslateError> {
    if spec.is_enabled_in(SpecId::AMSTERDAM) {
        return Err(Unsupported::Spec(spec).into());
    }
    if code.len() > limits.max_code_len {
        return Err(TranslateError::LimitExceeded {
            what: "code length",
            limit: limits.max_code_len,
        });
    }
    let decoded = Decoded::new(code);
    let cfg = Cfg::compute(&decoded, spec);
    let analysis = JumpAnalysis::compute(&decoded, &cfg, spec, limits)?;
    let mut func = Translator::new(&decoded, &cfg, &analysis, spec, limits).run(ran)?;
    if cfg!(debug_assertions) {
        crate::verifier::verify(&func)?;
    }
    crate::passes::run(&mut func, ran.is_some())?;
    if crate::compile_cost(&func) > limits.max_compile_cost as u64 {
        let limit = limits.max_compile_cost;
        return Err(TranslateError::LimitExceeded { what: "estimated compile cost", limit });
    }
    Ok(func)
}

/// Spec-dependent gas constants the translator bakes in.
struct GasFacts {
    table: GasTable,
    exp_per_byte: u64,
}

struct Translator<'a> {
    code: &'a Decoded,
    cfg: &'a Cfg,
    analysis: &'a JumpAnalysis,
    limits: &'a Limits,
    gas: GasFacts,
    func: Function,
    /// IR block of each variant (entry height) of each EVM block.
    ir_blocks: Vec<Vec<Block>>,
    /// Shared halting exits.
    exits: HashMap<InstructionResult, Block>,
    /// Whether each EVM block continues its predecessor's IR block ([`chains`]).
    merged: Vec<bool>,
    /// Shape-converting edge blocks, by target and source shape.
    trampolines: HashMap<(Block, Shape), Block>,
    /// The shared dispatch blocks of unresolved jumps, by the shape they enter with.
    dispatch: HashMap<Shape, Block>,
    /// Number of suspension points so far.
    suspensions: u32,
    /// Total `switch` cases emitted so far.
    switch_cases: usize,
}

impl<'a> Translator<'a> {
    fn new(
        code: &'a Decoded,
        cfg: &'a Cfg,
        analysis: &'a JumpAnalysis,
        spec: SpecId,
        limits: &'a Limits,
    ) -> Self {
        let gas = GasFacts {
            table: gas_table_spec(spec),
            exp_per_byte: GasParams::new_spec(spec).exp_cost(U256::from(1)),
        };
        Self {
            code,
            cfg,
            analysis,
            limits,
            gas,
            func: Function::new(spec),
            ir_blocks: vec![Vec::new(); cfg.blocks.len()],
            merged: chains::merged_blocks(code, cfg, analysis, spec),
            exits: HashMap::new(),
            trampolines: HashMap::new(),
            dispatch: HashMap::new(),
            suspensions: 0,
            switch_cases: 0,
        }
    }

    fn run(mut self, ran: Option<&RanBlocks>) -> Result<Function, TranslateError> {
        for (b, facts) in self.analysis.blocks.iter().enumerate() {
            if self.merged[b] {
                continue;
            }
            let pc = self.code.instrs[self.cfg.blocks[b].start].pc;
            for variant in &facts.variants {
                let block = self.func.create_block(Some(pc));
                self.func.blocks[block.index()].dynamic = variant.shape.is_dynamic();
                self.ir_blocks[b].push(block);
            }
        }
        debug_assert_eq!(self.ir_blocks[0].first(), Some(&self.func.entry()));
        let live_cost: usize = (self.analysis.blocks.iter())
            .flat_map(|facts| &facts.variants)
            .map(|v| v.shape.slots() * v.shape.slots())
            .sum();
        if live_cost > self.limits.max_live_cost {
            let limit = self.limits.max_live_cost;
            return Err(TranslateError::LimitExceeded { what: "live stack cost", limit });
        }
        self.check_limits()?;
        for b in 0..self.cfg.blocks.len() {
            for v in 0..self.ir_blocks[b].len() {
                self.translate_block(b, v)?;
                self.check_limits()?;
            }
        }
        if self.limits.interpret_failing_paths || ran.is_some() {
            self.leave_to_interpreter(self.limits.interpret_failing_paths, ran);
            // A dynamic-shape exit loads and stores its slots: a few more instructions.
            self.check_limits()?;
        }
        Ok(self.func)
    }

    /// Fails once the function outgrows any of the size limits.
    fn check_limits(&self) -> Result<(), TranslateError> {
        let l = self.limits;
        let over = |what, n: usize, limit: usize| {
            if n > limit { Err(TranslateError::LimitExceeded { what, limit }) } else { Ok(()) }
        };
        over("IR instructions", self.func.insts.len(), l.max_insts)?;
        over("IR blocks", self.func.blocks.len(), l.max_blocks)?;
        over("switch cases", self.switch_cases, l.max_switch_cases)
    }

    /// A shared block that halts with `result`.
    fn exit_block(&mut self, result: InstructionResult) -> Block {
        if let Some(&b) = self.exits.get(&result) {
            return b;
        }
        let b = self.func.create_block(None);
        self.func.terminate(b, Terminator::Exit { result, stack_len: Height::Abs(0) });
        self.exits.insert(result, b);
        b
    }

    /// The IR block entered by a jump to `pc` with the stack in `shape`, if `pc` is a
    /// valid destination.
    fn jump_dest(&mut self, pc: usize, shape: Shape) -> Option<Block> {
        if !self.code.is_valid_jump(pc) {
            return None;
        }
        let i = self.code.instr_at(pc)?;
        self.try_edge(self.cfg.block_of_instr[i] as usize, shape)
    }
}
