//! Criterion bench of the hit path: `Runtime::lookup` (the enabled flag, the resident
//! cache's shard, the hit counter, the program's `Arc`) on resident JIT programs, from one thread and from several at once (`cargo bench -p revmc-bench
//! --bench lookup`). The bound is a p99 under 100 ns with one thread and flat up
//! to 8 threads; `cargo xtask soak` prints the percentiles, this bench the mean and its
//! confidence interval.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use revm::primitives::keccak256;
use revmc_runtime::{Lookup, Runtime, RuntimeCacheKey, RuntimeConfig, SpecId};
use std::hint::black_box;
use std::time::Duration;

/// Resident programs looked up round-robin, as a node's hot contracts would be.
const KEYS: usize = 64;

#[path = "../src/loop_contract.rs"]
mod loop_contract;
use loop_contract::contract;

fn resident_runtime() -> (Runtime, Vec<RuntimeCacheKey>) {
    let rt = Runtime::new(RuntimeConfig::default()).expect("runtime starts");
    let keys = (0..KEYS as u32)
        .map(|n| {
            let code = contract(n);
            let key = RuntimeCacheKey::new(keccak256(&code), SpecId::CANCUN);
            rt.compile_sync(key, &code).expect("the loop compiles");
            key
        })
        .collect();
    (rt, keys)
}

fn lookups(c: &mut Criterion) {
    let (rt, keys) = resident_runtime();
    let mut group = c.benchmark_group("hit");
    group.bench_function("runtime_lookup_1_thread", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % KEYS;
            let found = rt.lookup(keys[i]);
            assert!(matches!(found, Lookup::Compiled(_)));
            black_box(found)
        })
    });
    for threads in [2usize, 4, 8] {
        // Each iteration is one lookup on this thread while `threads - 1` others look up
        // the same programs nonstop: the cost of sharing the hit path.
        group.bench_function(format!("runtime_lookup_{threads}_threads"), |b| {
            let stop = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|s| {
                for t in 1..threads {
                    let (rt, keys, stop) = (&rt, &keys, &stop);
                    s.spawn(move || {
                        let mut i = t * 7;
                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            i = (i + 1) % KEYS;
                            black_box(rt.lookup(keys[i]));
                        }
                    });
                }
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % KEYS;
                    black_box(rt.lookup(keys[i]))
                });
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        });
    }
    group.finish();
    // Every timed lookup was a hit: the programs stayed resident throughout.
    assert!(keys.iter().all(|k| matches!(rt.lookup(*k), Lookup::Compiled(_))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = lookups
}
criterion_main!(benches);
