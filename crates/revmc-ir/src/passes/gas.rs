//! Merging of gas sections: a `charge_gas` or `dyn_charge` that only side-effect-free or
//! frame-local instructions separate from the previous charge of its block is added to it.
//!
//! Sections end where an instruction has dynamic gas; once
//! [`drop_covered_expansions`](super::drop_covered_expansions) has removed a memory
//! expansion, the sections on either side of it are one in all but name. Charging their
//! sum at the first is exact: the instructions in between cannot halt, read the gas
//! counter, or do anything visible after an out-of-gas halt (which discards the frame's
//! stack and memory and spends all its gas), so a program runs out of gas in the merged
//! section exactly when it would have in one of the two.
//!
//! A dynamic-shape section's stack checks merge the same way: the later section's checks
//! follow the earlier one's, their gas counted from the start of the merged section. The
//! first failing check and the gas up to it are then what they were, so the halt is.
//! Checks do not move across an `adjust_base` (their bounds are on the base they see; no
//! program of the corpus has a charge after one in the same block). Each merge spares
//! the backend a gas check and its branch.

use crate::ir::{Function, Inst, InstData, MAX_CHECK_GAS, StackCheck};

/// Merges every mergeable charge into the one before it; returns how many.
pub fn merge_gas_sections(func: &mut Function) -> usize {
    let mut merged = 0;
    for b in 0..func.blocks.len() {
        let mut insts = std::mem::take(&mut func.blocks[b].insts);
        // The charge that a later one may still be added to, and whether the base has
        // moved since it.
        let mut open: Option<(Inst, bool)> = None;
        insts.retain(|&inst| {
            let data = &func.insts[inst.index()];
            if let Some((o, moved)) = open
                && let Some(sum) = merge(&func.insts[o.index()], data, moved)
            {
                func.insts[o.index()] = sum;
                merged += 1;
                return false;
            }
            match data {
                InstData::ChargeGas(_) | InstData::DynCharge { .. } => open = Some((inst, false)),
                InstData::AdjustBase(_) => open = open.map(|(o, _)| (o, true)),
                data if transparent(data) => {}
                _ => open = None,
            }
            true
        });
        func.blocks[b].insts = insts;
    }
    merged
}

/// The charge `first` and `then`, a charge after it, as one charge at `first`'s place;
/// `None` if `then` is not a charge, has stack checks and the base `moved` in between, or
/// the sum does not fit (in a `u64`, or with checks in [`MAX_CHECK_GAS`]).
fn merge(first: &InstData, then: &InstData, moved: bool) -> Option<InstData> {
    let (gas1, checks1) = charge(first)?;
    let (gas2, checks2) = charge(then)?;
    let gas = gas1.checked_add(gas2)?;
    if checks1.is_empty() && checks2.is_empty() {
        return Some(InstData::ChargeGas(gas));
    }
    if !checks2.is_empty() && (moved || gas > MAX_CHECK_GAS) {
        return None;
    }
    // The translator keeps a check only if it is stricter than every earlier one of the
    // block, so the later section's checks need no filtering. A check's gas is at most its
    // section's, so the sum cannot overflow where `gas` did not.
    let later = checks2.iter().map(|c| StackCheck { gas: gas1 + c.gas, ..*c });
    let checks = checks1.iter().copied().chain(later).collect();
    Some(InstData::DynCharge { gas, checks })
}

/// The gas and stack checks of a charge.
fn charge(data: &InstData) -> Option<(u64, &[StackCheck])> {
    match data {
        InstData::ChargeGas(gas) => Some((*gas, &[])),
        InstData::DynCharge { gas, checks } => Some((*gas, checks)),
        _ => None,
    }
}

/// Whether a charge may move from after `data` to before it: a pure instruction other than
/// a gas read, or a write to the frame's own stack or memory.
fn transparent(data: &InstData) -> bool {
    data.is_pure()
        || matches!(
            data,
            InstData::SlotSet(..)
                | InstData::StackStore(..)
                | InstData::SetJumpTarget(_)
                | InstData::MStore { .. }
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InstructionResult::{StackOverflow, StackUnderflow};

    fn check(gas: u64) -> StackCheck {
        let (under, over) = (StackUnderflow, StackOverflow);
        StackCheck { gas, min_base: 1, max_base: 1023, under, over }
    }

    #[test]
    fn charges_merge_unless_a_check_would_count_more_than_max_check_gas() {
        let first = InstData::DynCharge { gas: MAX_CHECK_GAS - 10, checks: vec![check(5)] };
        let fits = InstData::DynCharge { gas: 10, checks: vec![check(3)] };
        let want = vec![check(5), check(MAX_CHECK_GAS - 7)];
        let merged = InstData::DynCharge { gas: MAX_CHECK_GAS, checks: want };
        assert_eq!(merge(&first, &fits, false), Some(merged));
        let past = InstData::DynCharge { gas: 11, checks: vec![check(3)] };
        assert_eq!(merge(&first, &past, false), None);
        // Without checks after it, the sum counts only in the section's gas.
        let merged = InstData::DynCharge { gas: MAX_CHECK_GAS + 1, checks: vec![check(5)] };
        assert_eq!(merge(&first, &InstData::ChargeGas(11), false), Some(merged));
    }
}
