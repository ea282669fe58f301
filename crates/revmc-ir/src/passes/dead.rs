//! Dead-value removal: an instruction without side effects whose result nothing uses is
//! removed, and so, in turn, are the operands it alone used.
//!
//! Side-effect free here means [`InstData::is_pure`], or a read of the gas counter. One
//! worklist over use counts: linear in the function.

use crate::ir::{Function, Inst, InstData};

/// Removes every unused side-effect-free instruction; returns how many.
pub fn remove_dead_values(func: &mut Function) -> usize {
    let mut uses = vec![0u32; func.values.len()];
    for b in func.block_ids() {
        let data = func.block(b);
        let operands = data.insts.iter().flat_map(|&i| func.inst(i).operands());
        for v in operands.chain(data.term.operands()) {
            uses[v.index()] += 1;
        }
    }
    let mut dead = vec![false; func.insts.len()];
    let mut work: Vec<Inst> = (func.block_ids().flat_map(|b| func.block(b).insts.iter().copied()))
        .filter(|&i| removable(func, i, &uses))
        .collect();
    let mut removed = 0;
    while let Some(inst) = work.pop() {
        if std::mem::replace(&mut dead[inst.index()], true) {
            continue;
        }
        removed += 1;
        for v in func.inst(inst).operands() {
            uses[v.index()] -= 1;
            let def = func.value_def(v);
            if !dead[def.index()] && removable(func, def, &uses) {
                work.push(def);
            }
        }
    }
    if removed > 0 {
        for block in &mut func.blocks {
            block.insts.retain(|i| !dead[i.index()]);
        }
    }
    removed
}

/// Whether `inst` has a result nothing uses and no side effect. Reading the gas counter
/// has none either.
fn removable(func: &Function, inst: Inst, uses: &[u32]) -> bool {
    let Some(result) = func.inst_result(inst) else { return false };
    let data = func.inst(inst);
    uses[result.index()] == 0 && (data.is_pure() || matches!(data, InstData::Gas))
}
