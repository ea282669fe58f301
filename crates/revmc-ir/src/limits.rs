//! Bounds that keep translation of hostile bytecode linear and small.

/// Resource bounds for [`translate`](crate::translate). The defaults admit every contract
/// that fits the EIP-170/EIP-3860 size limits and real compilers produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bytecode accepted, in bytes.
    pub max_code_len: usize,
    /// Upper bound on block visits during jump/stack-height analysis, as a multiple of
    /// the number of blocks.
    pub max_analysis_visits_per_block: usize,
    /// Largest number of IR instructions emitted.
    pub max_insts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_code_len: 64 * 1024, max_analysis_visits_per_block: 64, max_insts: 1 << 20 }
    }
}
