//! Passes over the translated IR, run by [`translate`](crate::translate()) before any
//! backend sees the function. Each is one function in its own file that rewrites the
//! function in place and returns how many instructions it changed; the verifier runs after
//! each one in debug builds, so a pass that breaks an invariant fails at its own door.
//!
//! They do work both tiers would otherwise repeat: the first tier has no optimizer of its
//! own, and for the optimizing tier every instruction removed here is one LLVM neither
//! builds nor selects.

mod dead;
mod fold;
mod gas;
mod jump_exits;
mod memory;
mod stack_bounds;
mod strength;
mod unreachable;

pub use dead::remove_dead_values;
pub use fold::fold_constants;
pub use gas::merge_gas_sections;
pub use jump_exits::leave_jumps_to_interpreter;
pub use memory::drop_covered_expansions;
pub use stack_bounds::{GUARD_HEADROOM, drop_proven_stack_checks};
pub use strength::reduce_power_of_two_division;
pub use unreachable::remove_unreachable_blocks;

use crate::ir::Function;
use crate::{TranslateError, verifier};

/// What the passes changed, for dumps and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Dispatch cases that only left to the interpreter, dropped for one exit.
    pub interpreted_jump_cases: usize,
    /// Instructions of the blocks no path reaches.
    pub unreachable: usize,
    /// Instructions replaced by their constant value.
    pub folded: usize,
    /// Divisions and remainders by a power of two made a shift or a mask.
    pub reduced_divisions: usize,
    /// Memory expansions removed because memory was already at least that large.
    pub covered_expansions: usize,
    /// Gas charges merged into the section before them.
    pub merged_charges: usize,
    /// Stack checks that hold on every path reaching them, dropped, once the dispatches'
    /// guards test what each case checks.
    pub proven_stack_checks: usize,
    /// Unused side-effect-free instructions removed.
    pub dead: usize,
}

/// Runs every pass, in order: one exit for the jumps dispatch switches leave to the
/// interpreter, the removal of unreachable blocks (the dropped cases' blocks that nothing
/// else reaches among them), constant folding (which turns more expansion operands into
/// constants), divisions by powers of two as shifts (after folding, which would have
/// nothing left to fold in them), the removal of covered memory expansions, the merging
/// of the gas sections those expansions separated, the stack checks moved to the
/// dispatches and those then proven (after the merging, which gathers a block's checks
/// into its first section), and dead-value removal (which drops the operands folding left
/// unused). A `profiled` function (compiled from what ran) guards its dispatches further
/// ([`drop_proven_stack_checks`]).
pub fn run(func: &mut Function, profiled: bool) -> Result<PassStats, TranslateError> {
    let interpreted_jump_cases = checked(func, leave_jumps_to_interpreter)?;
    let unreachable = checked(func, remove_unreachable_blocks)?;
    let folded = checked(func, fold_constants)?;
    let reduced_divisions = checked(func, reduce_power_of_two_division)?;
    let covered_expansions = checked(func, drop_covered_expansions)?;
    let merged_charges = checked(func, merge_gas_sections)?;
    let proven_stack_checks = checked(func, |f| drop_proven_stack_checks(f, profiled))?;
    // The exits of guards no case needed.
    checked(func, remove_unreachable_blocks)?;
    let dead = checked(func, remove_dead_values)?;
    Ok(PassStats {
        interpreted_jump_cases,
        unreachable,
        folded,
        reduced_divisions,
        covered_expansions,
        merged_charges,
        proven_stack_checks,
        dead,
    })
}

/// Runs `pass`, then the verifier in debug builds.
fn checked(
    func: &mut Function,
    pass: impl FnOnce(&mut Function) -> usize,
) -> Result<usize, TranslateError> {
    let changed = pass(func);
    if cfg!(debug_assertions) {
        verifier::verify(func)?;
    }
    Ok(changed)
}
