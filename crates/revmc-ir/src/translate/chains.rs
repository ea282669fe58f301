//! Chains: an EVM block that only its predecessor's fall-through can enter continues
//! that predecessor's IR block instead of starting its own.
//!
//! The CFG splits at every JUMPDEST, but a JUMPDEST no jump can reach (no resolved jump
//! names its pc, and there are no unresolved jumps) is just one more instruction: merging
//! keeps the gas section open across it (one charge instead of one per block) and spares
//! the backend a block. Programs of thousands of straight-line JUMPDESTs compile as one
//! block.

use crate::SpecId;
use crate::analysis::cfg::Cfg;
use crate::analysis::jumps::{JumpAnalysis, JumpTarget};
use crate::analysis::opcodes::is_suspending;
use crate::bytecode::Decoded;
use revm_interpreter::bytecode::opcode;
use std::collections::HashSet;

/// Whether each EVM block continues the IR block of the one before it.
pub(super) fn merged_blocks(
    code: &Decoded,
    cfg: &Cfg,
    analysis: &JumpAnalysis,
    spec: SpecId,
) -> Vec<bool> {
    let targets: HashSet<u32> = (analysis.blocks.iter())
        .flat_map(|f| &f.variants)
        .filter_map(|v| match &v.jump {
            JumpTarget::Static(pcs) => Some(pcs.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    let any_dynamic = !analysis.dispatch_shapes.is_empty();
    let mut merged = vec![false; cfg.blocks.len()];
    for (b, merged) in merged.iter_mut().enumerate().skip(1) {
        let first = &code.instrs[cfg.blocks[b].start];
        let prev_last = code.instrs[cfg.blocks[b - 1].end - 1].op;
        let jumpable = first.op == opcode::JUMPDEST && (any_dynamic || targets.contains(&first.pc));
        *merged = !jumpable
            && !analysis.blocks[b].variants.is_empty()
            && !analysis.blocks[b].collapsed
            && !analysis.blocks[b - 1].variants.is_empty()
            && prev_last != opcode::JUMPI
            && !is_suspending(prev_last)
            && cfg.falls_through(code, spec, b - 1);
    }
    merged
}
