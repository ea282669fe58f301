//! An estimate of what compiling a function costs, computed from its instructions before
//! any backend runs, so that a program too expensive to compile is refused in the
//! translator's time (milliseconds) rather than at the compile deadline (seconds).
//!
//! The unit is a microsecond of first-tier (O0) compilation on the 2-core VM the weights
//! were measured on (`docs/compile-cost.md`, "Refusing before compiling"): each weight is
//! what one instruction of its kind cost there, from 24 KiB programs that repeat one kind
//! and from the 144 contracts of the corpus. The estimate is within 0.7–2.4× of the
//! measured time for every one of them; the default budget
//! ([`Limits::max_compile_cost`](crate::Limits)) leaves room for that error under the first
//! tier's 2 s deadline, and admits the largest real contract more than twice over.

use crate::ir::{Block, Function, InstData, Terminator};

/// Estimated first-tier compile time of `func`, in microseconds of the reference machine.
pub fn compile_cost(func: &Function) -> u64 {
    func.block_ids().map(|b| block_cost(func, b)).sum()
}

/// Block `b`'s share of [`compile_cost`].
pub fn block_cost(func: &Function, b: Block) -> u64 {
    let data = func.block(b);
    let insts: u64 = data.insts.iter().map(|&i| inst_cost(func.inst(i))).sum();
    let values = (data.insts.iter())
        .filter(|&&i| func.inst_result(i).is_some() && !matches!(func.inst(i), InstData::Const(_)))
        .count() as u64;
    BLOCK + insts + values * values / VALUES_SQUARED_PER_US + term_cost(&data.term)
}

/// A block's computed values cost more than linearly once there are thousands of them: 48
/// KiB of `DUP1 MUL` (one block of 24,000 products) took three times as long as 24 KiB.
const VALUES_SQUARED_PER_US: u64 = 1024;

/// Every block: its label, its gas check's branch, its place in the layout.
const BLOCK: u64 = 15;

fn inst_cost(data: &InstData) -> u64 {
    match data {
        InstData::Const(_) | InstData::AdjustBase(_) => 5,
        InstData::SlotGet(_)
        | InstData::SlotSet(..)
        | InstData::StackLoad(_)
        | InstData::StackStore(..) => 10,
        InstData::ChargeGas(_) => 20,
        InstData::DynCharge { checks, .. } => 40 + 10 * checks.len() as u64,
        InstData::Call(..) => 50,
        InstData::Host { args, .. } => 70 + 5 * args.len() as u64,
        // Word operations, builtins of pure arithmetic, memory accesses, context reads.
        _ => 40,
    }
}

fn term_cost(term: &Terminator) -> u64 {
    match term {
        Terminator::Unset | Terminator::Jump(_) => 5,
        Terminator::Branch { .. } => 15,
        Terminator::Switch { cases, .. } => 15 + 10 * cases.len() as u64,
        Terminator::Exit { .. } => 20,
        Terminator::Suspend { args, .. } => 150 + 5 * args.len() as u64,
    }
}
