//! What the store tests share: this build's AOT settings, artifact keys for code, and
//! real libraries compiled from code.

#![allow(dead_code, reason = "each test binary uses a subset")]

use alloy_primitives::keccak256;
use revmc_cache::RuntimeCacheKey;
use revmc_cache::store::{ArtifactBuild, ArtifactKey};
use revmc_ir::{Limits, SpecId, translate};
use revmc_llvm::{AotCompiler, OptLevel, build_id, host_target_id};

/// This build's AOT settings at O1.
pub fn build() -> ArtifactBuild {
    ArtifactBuild { target: host_target_id(), build_id: build_id(), opt_level: 1, options_hash: 0 }
}

/// The artifact key of `code` (Cancun) under [`build`].
pub fn key_of(code: &[u8]) -> ArtifactKey {
    ArtifactKey::new(RuntimeCacheKey::new(keccak256(code), SpecId::CANCUN), &build())
}

/// A real library compiled from `code`, exporting `symbol`: its bytes and symbol.
pub fn library(code: &[u8], symbol: &str) -> (Vec<u8>, String) {
    let ir = translate(code, SpecId::CANCUN, &Limits::default()).unwrap();
    let lib = AotCompiler::new(OptLevel::O1).unwrap().compile(&ir, symbol).unwrap();
    (lib.bytes, lib.symbol)
}
