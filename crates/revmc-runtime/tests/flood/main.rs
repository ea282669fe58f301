//! A node sees endless distinct code: the coordinator's hotness counts and the negative
//! cache stay bounded in entries and memory, and code that keeps running is still
//! promoted.
//!
//! A test binary of its own: it measures the process's resident memory, which tests
//! running beside it in one process would grow.

#[path = "../service/common.rs"]
mod common;

use common::*;
use revm::primitives::{B256, Bytes};
use revmc_runtime::{Lookup, RuntimeCacheKey, Tuning};
use std::time::Duration;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_million_distinct_code_hashes_stay_bounded_and_hot_code_is_still_promoted() {
    let cap = 4096;
    let rt = runtime(Tuning {
        hot_threshold_gas: 50_000,
        max_tracked_keys: cap,
        max_negative_entries: cap,
        max_bytecode_len: 64,
        ..tuning()
    });
    let hot = program(1);
    let (hot_key, hot_bytes) = (key(&hot), Bytes::from(hot.clone()));
    let cold = Bytes::from_static(&[0x60, 0, 0x00]);
    let too_large = [0u8; 65];
    let before = rss_kib();
    for n in 0..1_000_000u64 {
        let k = RuntimeCacheKey::new(B256::left_padding_from(&n.to_be_bytes()), SPEC);
        rt.record_interpreted(k, &cold, 1);
        if n % 4 == 0 {
            // Refused at once (too large) and remembered: a flood of the negative cache.
            assert!(rt.compile_sync(k, &too_large).is_err());
        }
        if n % 1000 == 0 {
            rt.record_interpreted(hot_key, &hot_bytes, 100);
        }
    }
    // Events dropped while the coordinator lagged are not waited for: the hot code, still
    // running, gets there.
    wait_until("the hot code is promoted", Duration::from_secs(60), || {
        rt.record_interpreted(hot_key, &hot_bytes, 100);
        matches!(rt.lookup(hot_key), Lookup::Compiled(_))
    });
    let s = rt.stats();
    assert!(s.tracked_keys <= 2 * cap as u64, "{s:?}");
    assert!(s.negative_entries <= cap as u64, "{s:?}");
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
}
