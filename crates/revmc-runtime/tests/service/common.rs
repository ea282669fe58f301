//! Programs, keys and runtimes for the service tests.

#![allow(dead_code, reason = "each test binary uses a subset")]

use revm::primitives::keccak256;
use revmc_runtime::harness::Oracle;
use revmc_runtime::harness::{ExecutionOutcome, execute};
use revmc_runtime::{
    CompiledProgram, OptLevel, Runtime, RuntimeCacheKey, RuntimeConfig, SpecId, Tuning,
};
use std::time::{Duration, Instant};

pub const SPEC: SpecId = SpecId::CANCUN;
pub const GAS: u64 = 1_000_000;

/// A small program returning a value that depends on `n`: distinct code per `n`.
pub fn program(n: u32) -> Vec<u8> {
    let mut code = vec![0x63];
    code.extend(n.to_be_bytes()); // PUSH4 n
    // n * 3 + CALLDATASIZE, stored and returned
    code.extend([0x60, 3, 0x02, 0x36, 0x01, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3]);
    code
}

/// Thousands of arithmetic instructions: slow to compile at O2 (a second or more).
pub fn slow_program() -> Vec<u8> {
    let mut code = vec![0x60, 1];
    for i in 0..6000u32 {
        code.extend([0x60, i as u8, [0x01, 0x02, 0x04, 0x06, 0x0a, 0x1b][i as usize % 6]]);
    }
    code.push(0x00);
    code
}

pub fn key(code: &[u8]) -> RuntimeCacheKey {
    RuntimeCacheKey::new(keccak256(code), SPEC)
}

pub fn tuning() -> Tuning {
    Tuning {
        jit_worker_count: 1,
        hot_threshold_gas: 1_000,
        jit_opt_level: OptLevel::O1,
        idle_eviction: Duration::ZERO,
        // The tests' programs are tiny and loop-free; they must compile all the same.
        min_loop_free_instructions: 0,
        ..Tuning::default()
    }
}

pub fn runtime(tuning: Tuning) -> Runtime {
    Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() }).unwrap()
}

/// Runs `program` (compiled from `code`) and checks it against the interpreter.
pub fn run_checked(program: &CompiledProgram, code: &[u8], calldata: &[u8]) -> ExecutionOutcome {
    // SAFETY: the runtime compiled `program` from `code` for `SPEC`, and it is alive.
    let got = unsafe { execute(program.entry(), code, SPEC, calldata, GAS) };
    let want = Oracle::new(code, SPEC).run(calldata, GAS);
    assert_eq!(got, want, "compiled run differs from the interpreter");
    got
}

/// Polls `done` until it holds or `limit` passes (then fails the test).
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
