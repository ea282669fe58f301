//! The identity of a compiled program.

use alloy_primitives::B256;
use revmc_ir::SpecId;

/// What a compiled program is compiled from: the same code under another spec compiles
/// differently (gas costs, available opcodes), so the spec is part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuntimeCacheKey {
    /// Keccak-256 of the bytecode.
    pub code_hash: B256,
    /// The fork the code was compiled for.
    pub spec_id: SpecId,
}

impl RuntimeCacheKey {
    /// The key of code with hash `code_hash` under `spec_id`.
    pub fn new(code_hash: B256, spec_id: SpecId) -> Self {
        Self { code_hash, spec_id }
    }
}
