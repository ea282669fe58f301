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
//!
//! [`optimizing_cost`] estimates the optimizing tier (LLVM O2) in the same unit. LLVM's
//! optimizing pipeline is superlinear in shapes a first-tier compilation takes in its
//! stride: long chains of 256-bit operations in one block, long runs of arithmetic
//! builtins, dynamic jumps fanning in and out of one dispatch block. Measured on 22 hostile
//! shapes of 6, 12 and 24 KiB and on the corpus (`docs/compile-cost.md`, "Bounding the
//! optimizing tier").

use crate::abi::Builtin;
use crate::ir::{BinaryOp, Block, Function, InstData, Terminator};
use crate::wide::{INLINE_WIDE_OPS, is_wide};

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
        Terminator::Exit { .. }
        | Terminator::Interpret { .. }
        | Terminator::InterpretJump { .. } => 20,
        Terminator::Suspend { args, .. } => 150 + 5 * args.len() as u64,
    }
}

/// The optimizing tier costs about this many times the first tier's estimate per
/// instruction: the corpus's median is 6, its most 15, and host calls in one function
/// (24 KiB of `SSTORE`) 10.
const OPTIMIZING_PER_FIRST_TIER: u64 = 10;

/// Microseconds per square of the wide operations expanded inline in a function, in
/// hundredths, for the costliest kind among them. 6 KiB chains (1,024 inline, 2,047
/// calls) of `SIGNEXTEND` took 12.8 s, `BYTE` 8.9 s, shifts 6.4–6.7 s, products 5.0 s;
/// the weights were fitted on runs that shared the machine and stand 1.1–1.7× above
/// those, on the safe side.
fn wide_squared_centi_us(op: BinaryOp) -> u64 {
    match op {
        BinaryOp::SignExtend => 1400,
        BinaryOp::Byte => 950,
        BinaryOp::Mul => 750,
        _ => 650,
    }
}

/// Per function, microseconds per square of the weighted arithmetic builtins, in
/// hundredths: 8,191 `ADDMOD`s took 17.4 s, 12,287 `DIV`s 12.7 s.
const ARITH_SQUARED_CENTI_US: u64 = 26;

/// An arithmetic builtin's weight in tenths: `ADDMOD`, `MULMOD` and `EXP` 10, division
/// and remainder 6 (their squared cost is a third of `ADDMOD`'s).
fn arith_weight_tenths(builtin: Builtin) -> u64 {
    match builtin {
        Builtin::Div | Builtin::SDiv | Builtin::Mod | Builtin::SMod => 6,
        _ => 10,
    }
}

/// Microseconds, in hundredths, per dynamic jump source times `switch` case: the dispatch
/// block's edges. 1,536 conditional dynamic jumps to 1,536 destinations took 3.2 s, 3,072
/// to 3,072 took 21.1 s.
const JUMP_FAN_CENTI_US: u64 = 250;

/// Estimated optimizing-tier (O2) compile time of `func`, in microseconds of the
/// reference machine. Within 0.3–1.4× of the measured time on the corpus, and within
/// 0.4–1.5× on hostile shapes that compile in more than a second.
pub fn optimizing_cost(func: &Function) -> u64 {
    let is_const = |v| func.constant(v).is_some();
    let mut budget = INLINE_WIDE_OPS as u64;
    let (mut wide, mut wide_centi) = (0u64, 0u64);
    let (mut arith_tenths, mut jump_sources, mut switch_cases) = (0u64, 0u64, 0u64);
    let mut first_tier = 0u64;
    for b in func.block_ids() {
        first_tier += block_cost(func, b);
        let data = func.block(b);
        for &i in &data.insts {
            match func.inst(i) {
                // Past the budget a wide operation is a call, costed as the first tier's.
                InstData::Binary(op, a, b)
                    if budget > 0 && is_wide(*op, is_const(*a), is_const(*b)) =>
                {
                    budget -= 1;
                    wide += 1;
                    wide_centi = wide_centi.max(wide_squared_centi_us(*op));
                }
                InstData::Arith(builtin, _) => arith_tenths += arith_weight_tenths(*builtin),
                InstData::SetJumpTarget(_) => jump_sources += 1,
                _ => {}
            }
        }
        if let Terminator::Switch { cases, .. } = &data.term {
            switch_cases += cases.len() as u64;
        }
    }
    // Squared over the function, not per block: a chain cut by static jumps is joined
    // again by LLVM (877 `SIGNEXTEND`s in as many blocks took 2.8 s, where the blocks
    // alone would estimate 0.9 s).
    let centi_us = wide_centi * wide * wide
        + ARITH_SQUARED_CENTI_US * arith_tenths * arith_tenths / 100
        + JUMP_FAN_CENTI_US * jump_sources * switch_cases;
    OPTIMIZING_PER_FIRST_TIER * first_tier + centi_us / 100
}
