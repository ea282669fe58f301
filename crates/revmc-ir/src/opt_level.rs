//! How hard the backend optimizes: a level the translator's callers choose and the LLVM
//! backend maps to its pass pipeline and code generation (`revmc-llvm`'s `opt`). It lives
//! here, beside the IR, so that crates above the backend name levels without depending on
//! LLVM.

/// Optimization level, 0–3 (in configuration files: `"O0"` … `"O3"`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum OptLevel {
    /// No IR passes; fastest compile, for debugging and differential testing.
    O0,
    /// SSA construction and cheap local cleanups: near-linear in function size.
    O1,
    /// revmc's pipeline: O1 plus constant propagation, reassociation, dead-store and
    /// dead-code elimination, each linear or near-linear in function size. The default.
    #[default]
    O2,
    /// LLVM's `default<O3>` pipeline: the fastest code on small programs, but its cost can
    /// grow far faster than function size (minutes on 24 KiB of JUMPDESTs).
    O3,
}

impl OptLevel {
    /// From a number; values above 3 mean 3.
    pub fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::O0,
            1 => Self::O1,
            2 => Self::O2,
            _ => Self::O3,
        }
    }
}
