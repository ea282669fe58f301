//! What an artifact is valid for.

use crate::RuntimeCacheKey;
use alloy_primitives::{B256, keccak256};
use revmc_ir::SpecId;
use serde::{Deserialize, Serialize};

/// Everything that must match for an artifact to be loaded: the code and spec, the
/// compiler's build (a hash of its sources and LLVM's version) and ABI version, the target
/// (triple, CPU, features), the optimization level and a hash of the other compile
/// options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// Keccak-256 of the bytecode.
    pub code_hash: B256,
    /// The spec, as its `u8` value.
    pub spec_id: u8,
    /// `revmc` version that compiled it.
    pub compiler_version: String,
    /// The compiler's build: `revmc_llvm::build_id()`.
    pub build_id: String,
    /// `revmc_ir::abi::ABI_VERSION` it was compiled against.
    pub abi_version: u32,
    /// Target triple, CPU and features.
    pub target: String,
    /// LLVM optimization level.
    pub opt_level: u8,
    /// Hash of other options that change the code.
    pub options_hash: u64,
}

/// How this process compiles AOT code: the parts of an [`ArtifactKey`] that do not
/// depend on the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactBuild {
    /// Target triple, CPU and features (`revmc_llvm::host_target_id()`).
    pub target: String,
    /// The compiler's build (`revmc_llvm::build_id()`).
    pub build_id: String,
    /// LLVM optimization level.
    pub opt_level: u8,
    /// Hash of the other options that change the code ([`options_hash`]).
    pub options_hash: u64,
}

/// A stable hash (FNV-1a, 64-bit) of a description of compile options, e.g. the `Debug`
/// form of the translator's limits.
pub fn options_hash(description: &str) -> u64 {
    description
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

impl ArtifactKey {
    /// The key of `key`'s code compiled by `build`.
    pub fn new(key: RuntimeCacheKey, build: &ArtifactBuild) -> Self {
        Self {
            code_hash: key.code_hash,
            spec_id: key.spec_id as u8,
            compiler_version: env!("CARGO_PKG_VERSION").to_string(),
            build_id: build.build_id.clone(),
            abi_version: revmc_ir::abi::ABI_VERSION,
            target: build.target.clone(),
            opt_level: build.opt_level,
            options_hash: build.options_hash,
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
