//! Merging of gas sections: a `charge_gas` that only side-effect-free or frame-local
//! instructions separate from the previous `charge_gas` of its block is added to it.
//!
//! Sections end where an instruction has dynamic gas; once
//! [`drop_covered_expansions`](super::drop_covered_expansions) has removed a memory
//! expansion, the sections on either side of it are one in all but name. Charging their
//! sum at the first is exact: the instructions in between cannot halt, read the gas
//! counter, or do anything visible after an out-of-gas halt (which discards the frame's
//! stack and memory and spends all its gas), so a program runs out of gas in the merged
//! section exactly when it would have in one of the two.

use crate::ir::{Function, Inst, InstData};

/// Merges every mergeable `charge_gas` into the one before it; returns how many.
pub fn merge_gas_sections(func: &mut Function) -> usize {
    let mut merged = 0;
    for b in 0..func.blocks.len() {
        let mut insts = std::mem::take(&mut func.blocks[b].insts);
        // The charge that a later one may still be added to.
        let mut open: Option<Inst> = None;
        insts.retain(|&inst| match func.insts[inst.index()] {
            InstData::ChargeGas(gas) => {
                if let Some(o) = open
                    && let InstData::ChargeGas(first) = func.insts[o.index()]
                    && let Some(sum) = first.checked_add(gas)
                {
                    func.insts[o.index()] = InstData::ChargeGas(sum);
                    merged += 1;
                    false
                } else {
                    open = Some(inst);
                    true
                }
            }
            ref data => {
                if !transparent(data) {
                    open = None;
                }
                true
            }
        });
        func.blocks[b].insts = insts;
    }
    merged
}

/// Whether a charge may move from after `data` to before it: a pure instruction other than
/// a gas read, or a write to the frame's own stack or memory.
fn transparent(data: &InstData) -> bool {
    data.is_pure()
        || matches!(
            data,
            InstData::SlotSet(..)
                | InstData::StackStore(..)
                | InstData::AdjustBase(_)
                | InstData::SetJumpTarget(_)
                | InstData::MStore { .. }
        )
}
