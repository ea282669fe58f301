//! Jobs for the pool tests.

#![allow(dead_code, reason = "each test binary uses a subset")]

use alloy_primitives::B256;
use revmc_cache::{RuntimeCacheKey, Tier};
use revmc_ir::SpecId;
use revmc_llvm::OptLevel;
use revmc_worker::{CompileJob, CompileKind};

/// A job for `code`, keyed by `n`.
pub fn job(n: u8, code: Vec<u8>, level: OptLevel) -> CompileJob {
    CompileJob {
        kind: CompileKind::Jit,
        key: RuntimeCacheKey::new(B256::with_last_byte(n), SpecId::CANCUN),
        bytecode: code.into(),
        symbol: format!("test_{n}"),
        opt_level: level,
        tier: Tier::Optimized,
        profiling: Default::default(),
        notifier: None,
        generation: 0,
    }
}

/// A program of a few kilobytes of arithmetic: tens of milliseconds or more to compile.
pub fn slow_code() -> Vec<u8> {
    arithmetic(1500)
}

/// A program of `n` arithmetic instructions on constants.
pub fn arithmetic(n: u32) -> Vec<u8> {
    let mut code = vec![0x60, 1];
    for i in 0..n {
        code.extend([0x60, i as u8, [0x01, 0x02, 0x04, 0x06, 0x0a][i as usize % 5]]);
    }
    code.push(0x00);
    code
}

/// A tiny program.
pub fn small_code(n: u8) -> Vec<u8> {
    vec![0x60, n, 0x60, 1, 0x01, 0x00]
}
