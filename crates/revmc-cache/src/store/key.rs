//! What an artifact is valid for.

use crate::RuntimeCacheKey;
use alloy_primitives::{B256, keccak256};
use revmc_ir::SpecId;
use serde::{Deserialize, Serialize};

/// Everything that must match for an artifact to be loaded: the code and spec, the
/// compiler and ABI versions, the target (triple, CPU, features), the optimization level
/// and a hash of any other compile options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// Keccak-256 of the bytecode.
    pub code_hash: B256,
    /// The spec, as its `u8` value.
    pub spec_id: u8,
    /// `revmc` version that compiled it.
    pub compiler_version: String,
    /// `revmc_ir::abi::ABI_VERSION` it was compiled against.
    pub abi_version: u32,
    /// Target triple, CPU and features.
    pub target: String,
    /// LLVM optimization level.
    pub opt_level: u8,
    /// Hash of other options that change the code.
    pub options_hash: u64,
}

impl ArtifactKey {
    /// The key of `key`'s code compiled by this build for `target` at `opt_level`.
    pub fn current(key: RuntimeCacheKey, target: &str, opt_level: u8) -> Self {
        Self {
            code_hash: key.code_hash,
            spec_id: key.spec_id as u8,
            compiler_version: env!("CARGO_PKG_VERSION").to_string(),
            abi_version: revmc_ir::abi::ABI_VERSION,
            target: target.to_string(),
            opt_level,
            options_hash: 0,
        }
    }

    /// A file-name-safe digest of the whole key.
    pub fn id(&self) -> String {
        let canonical = serde_json::to_string(self).expect("keys serialize");
        keccak256(canonical.as_bytes()).to_string()[2..34].to_string()
    }

    /// The resident-cache key (code hash and spec), if the spec is known.
    pub fn runtime_key(&self) -> Option<RuntimeCacheKey> {
        Some(RuntimeCacheKey::new(self.code_hash, SpecId::try_from_u8(self.spec_id)?))
    }
}
