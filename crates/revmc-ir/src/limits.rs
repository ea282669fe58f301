//! Bounds that keep translation of hostile bytecode linear and small, and the estimated
//! compile costs past which a tier refuses it.

use crate::TranslateError;

/// Default of [`Limits::max_variants`] (measurements in `docs/compute-core.md`).
pub const DEFAULT_MAX_VARIANTS: usize = 4;

/// Default of [`Limits::first_tier_chunk_cost`]: about 40 ms of first-tier compilation.
/// From 10,000 to 80,000 the ten largest contracts of the corpus compile in the same
/// time within this VM's noise, twice as fast as whole (`docs/compile-cost.md`,
/// "Splitting large programs").
pub const DEFAULT_FIRST_TIER_CHUNK_COST: usize = 40_000;

/// Resource bounds for [`translate`](crate::translate()). The defaults admit every contract
/// that fits the EIP-170/EIP-3860 size limits and real compilers produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest bytecode accepted, in bytes.
    pub max_code_len: usize,
    /// Upper bound on block visits during jump/stack-height analysis, as a multiple of
    /// the number of blocks.
    pub max_analysis_visits_per_block: usize,
    /// Largest number of IR instructions emitted.
    pub max_insts: usize,
    /// Largest number of IR blocks (block variants multiply EVM blocks).
    pub max_blocks: usize,
    /// Largest total number of `switch` cases (dynamic jumps fan out to every JUMPDEST;
    /// LLVM's cost grows faster than linearly in such CFG edges).
    pub max_switch_cases: usize,
    /// Largest sum over IR blocks of the square of their entry stack height. Every entry
    /// slot of a block becomes an SSA value live across its edges, and the backend's
    /// register allocation grows with blocks × simultaneously live 256-bit values; a few
    /// hundred bytes that keep a thousand values live across a hundred blocks took LLVM
    /// over a minute (found by fuzzing). Real contracts stay far below this.
    pub max_live_cost: usize,
    /// Largest [`compile_cost`](crate::compile_cost()) accepted: the estimated first-tier
    /// compile time in microseconds of the reference machine. Past it the program is
    /// refused as soon as it is translated, instead of when the compile deadline expires.
    pub max_compile_cost: usize,
    /// Largest [`optimizing_cost`](crate::optimizing_cost()) compiled at O2 or O3 (the
    /// optimizing tier, AOT): the estimated O2 compile time in microseconds of the
    /// reference machine. Past it the compilation is refused: LLVM cannot be interrupted,
    /// and its optimizing pipeline is superlinear in shapes that real programs do not
    /// have. A tiered JIT keeps the program's first-tier code; without a first tier, or
    /// for AOT, it runs in the interpreter.
    pub max_optimizing_cost: usize,
    /// Most entry shapes (variants) one block is translated for before it collapses into
    /// one dynamic-stack variant (`analysis::jumps`). Each variant is a copy of the block.
    pub max_variants: usize,
    /// Loop-free code that runs fewer instructions than this per call is not worth
    /// compiling (`analysis::work`): its entry costs more than it saves. 0 compiles
    /// everything.
    pub min_loop_free_instructions: usize,
    /// A program whose [`compile_cost`](crate::compile_cost()) exceeds this is compiled
    /// by the first tier as several functions of about this cost each: LLVM's O0 code
    /// generation costs more per instruction in larger functions. Not a bound: nothing
    /// is refused for it.
    pub first_tier_chunk_cost: usize,
    /// Code from which every path fails (REVERT, INVALID, any other halt but STOP,
    /// RETURN and SELFDESTRUCT) is not compiled: compiled code leaves the frame to revm's
    /// interpreter where it starts (`translate/failing.rs`). It runs once per call at
    /// most, and was a fifth to a third of a contract's compile time.
    pub interpret_failing_paths: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_code_len: 64 * 1024,
            max_analysis_visits_per_block: 64,
            max_insts: 1 << 20,
            max_blocks: 64 * 1024,
            max_switch_cases: 64 * 1024,
            max_live_cost: 4 << 20,
            // 1 s estimated: at most about 1.5 s measured on the reference VM at its
            // slowest (the estimate was 0.68× the time at worst), under the first tier's
            // 2 s deadline; the largest real contract is estimated at 0.52 s.
            max_compile_cost: 1_000_000,
            // 8 s estimated: the corpus's largest estimate is 5.7 s
            // (NonfungiblePositionManager, measured 5.5 s), the board's 6.5 s
            // (memory_grow_mstore, measured 12.1 s). Measured times were at most 1.4×
            // their estimate on the corpus, 1.5× on hostile shapes, 2.1× on the board's
            // memory_grow programs (docs/compile-cost.md, "Bounding the optimizing tier").
            max_optimizing_cost: 8_000_000,
            max_variants: DEFAULT_MAX_VARIANTS,
            min_loop_free_instructions: 0,
            first_tier_chunk_cost: DEFAULT_FIRST_TIER_CHUNK_COST,
            interpret_failing_paths: true,
        }
    }
}

impl Limits {
    /// Refuses `func` for a compilation at `level` when that is an optimizing level (O2 or
    /// O3; the estimate is calibrated at O2, and O3 costs about 1.5× more) and its
    /// estimated cost ([`optimizing_cost`](crate::optimizing_cost())) exceeds
    /// [`max_optimizing_cost`](Self::max_optimizing_cost). Cheaper levels, such as a first
    /// tier at O0 or O1, are bounded by [`max_compile_cost`](Self::max_compile_cost) alone.
    pub fn admit_optimizing(
        &self,
        func: &crate::ir::Function,
        level: crate::OptLevel,
    ) -> Result<(), TranslateError> {
        if level >= crate::OptLevel::O2
            && crate::optimizing_cost(func) > self.max_optimizing_cost as u64
        {
            let limit = self.max_optimizing_cost;
            return Err(TranslateError::LimitExceeded { what: "estimated optimizing cost", limit });
        }
        Ok(())
    }
}
