//! Generated transactions (calls into the generated contracts, creates, storage, logs)
//! give the same result and state compiled as interpreted. A small deterministic sample:
//! `cargo xtask fuzz jit_vs_interpreter` explores the same space at length.

use revmc_runtime::OptLevel;
use revmc_runtime::evm::JitCache;
use revmc_testkit::tx::{Case, check};

/// Deterministic pseudo-random bytes (xorshift64).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Whether `code` has blocks in the dynamic-stack mode.
fn is_dynamic(code: &[u8], spec: revmc_runtime::SpecId) -> bool {
    revmc_ir::translate(code, spec, &revmc_ir::Limits::default())
        .is_ok_and(|f| f.to_string().contains("base"))
}

#[test]
fn generated_transactions_match_the_interpreter() {
    let mut compiled_frames = 0;
    let mut dynamic = 0;
    for level in [OptLevel::O0, OptLevel::O2] {
        let mut cache = JitCache::new(level).unwrap();
        for seed in 0..48 {
            let case = Case::from_bytes(&bytes(seed, 40 + (seed as usize * 37) % 600)).unwrap();
            if level == OptLevel::O0 {
                dynamic += usize::from(is_dynamic(&case.code_a, case.spec));
                dynamic += usize::from(is_dynamic(&case.code_b, case.spec));
            }
            match check(&case, &mut cache) {
                Ok(stats) => compiled_frames += stats.compiled,
                Err(diff) => panic!("seed {seed} at {level:?}: {diff}\n{case:?}"),
            }
            cache.clear();
        }
    }
    // The sample must exercise compiled code, not only interpreter fallbacks, and the
    // dynamic-stack mode (internal functions called from many depths).
    assert!(compiled_frames > 48, "only {compiled_frames} compiled frames");
    eprintln!("{dynamic} of 96 generated contracts have dynamic-shape blocks");
    assert!(dynamic >= 3, "only {dynamic} of 96 generated contracts reach the dynamic mode");
}
