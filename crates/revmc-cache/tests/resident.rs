//! The resident map's budget, LRU order, idle eviction and sharing rules, with programs
//! whose backings record when they are dropped.

use alloy_primitives::B256;
use revmc_cache::{CompiledProgram, ProgramKind, ResidentCache, RuntimeCacheKey};
use revmc_ir::SpecId;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts live backings, standing in for code that a drop frees.
struct Backing(Arc<AtomicUsize>);

impl Drop for Backing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

unsafe extern "C" fn never_called(
    _: *mut revmc_ir::abi::EvmContext,
    _: *mut revmc_ir::abi::Word,
    _: *mut usize,
) -> u8 {
    unreachable!()
}

fn program(live: &Arc<AtomicUsize>, size: usize) -> Arc<CompiledProgram> {
    live.fetch_add(1, Ordering::SeqCst);
    let backing = Box::new(Backing(live.clone()));
    // SAFETY: the entry is never called in these tests.
    Arc::new(unsafe { CompiledProgram::new(never_called, ProgramKind::Jit, size, backing) })
}

fn key(n: u8) -> RuntimeCacheKey {
    RuntimeCacheKey::new(B256::with_last_byte(n), SpecId::CANCUN)
}

#[test]
fn over_budget_evicts_the_least_recently_used() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(300);
    for n in 0..3 {
        assert_eq!(cache.insert(key(n), program(&live, 100)).evicted, 0);
    }
    assert!(cache.get(&key(0)).is_some()); // 1 is now the least recently used
    let insert = cache.insert(key(3), program(&live, 100));
    assert_eq!(insert, revmc_cache::Insert { stored: true, evicted: 1 });
    assert!(!cache.contains(&key(1)));
    assert!(cache.contains(&key(0)) && cache.contains(&key(2)) && cache.contains(&key(3)));
    assert_eq!(cache.code_bytes(), 300);
    assert_eq!(live.load(Ordering::SeqCst), 3, "the evicted program was freed");
    assert_eq!(cache.evictions(), 1);
}

#[test]
fn a_program_larger_than_the_budget_is_not_stored() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(100);
    cache.insert(key(0), program(&live, 60));
    assert!(!cache.insert(key(1), program(&live, 101)).stored);
    assert!(cache.contains(&key(0)), "nothing was evicted for it");
    assert_eq!(live.load(Ordering::SeqCst), 1);
}

#[test]
fn an_evicted_program_in_use_lives_until_its_last_user_drops_it() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(100);
    cache.insert(key(0), program(&live, 100));
    let running = cache.get(&key(0)).unwrap();
    cache.insert(key(1), program(&live, 100));
    assert!(!cache.contains(&key(0)));
    assert_eq!(live.load(Ordering::SeqCst), 2, "still held by the running frame");
    drop(running);
    assert_eq!(live.load(Ordering::SeqCst), 1, "freed with the last user");
}

#[test]
fn idle_entries_are_evicted_and_used_ones_kept() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(1000);
    cache.insert(key(0), program(&live, 10));
    cache.insert(key(1), program(&live, 10));
    std::thread::sleep(Duration::from_millis(30));
    cache.get(&key(1));
    assert_eq!(cache.evict_idle(Duration::from_millis(20)), 1);
    assert!(cache.contains(&key(1)) && !cache.contains(&key(0)));
    assert_eq!((cache.len(), cache.code_bytes()), (1, 10));
}

#[test]
fn replacing_a_key_keeps_the_byte_count_right() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(1000);
    cache.insert(key(0), program(&live, 10));
    cache.insert(key(0), program(&live, 30));
    assert_eq!((cache.len(), cache.code_bytes()), (1, 30));
    cache.clear();
    assert_eq!((cache.len(), cache.code_bytes(), live.load(Ordering::SeqCst)), (0, 0, 0));
}

#[test]
fn the_total_never_exceeds_the_budget_even_during_an_insert() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(1000);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let peak = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(cache.code_bytes());
            }
            peak
        });
        for n in 0..5000u32 {
            cache.insert(key((n % 200) as u8), program(&live, 100 + (n as usize % 7) * 10));
        }
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(peak <= 1000, "peaked at {peak}");
    assert!(cache.code_bytes() <= 1000);
}

#[test]
fn a_replaced_entry_is_as_recent_as_its_replacement() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(300);
    cache.insert(key(0), program(&live, 100));
    cache.insert(key(1), program(&live, 100));
    // Key 0's first filing is now the oldest item of the index, but stale.
    cache.insert(key(0), program(&live, 100));
    cache.insert(key(2), program(&live, 100));
    cache.insert(key(3), program(&live, 100));
    assert!(!cache.contains(&key(1)), "the least recently stored entry goes");
    assert!(cache.contains(&key(0)) && cache.contains(&key(2)) && cache.contains(&key(3)));
    assert_eq!(live.load(Ordering::SeqCst), 3);
}

#[test]
fn hits_keep_hot_entries_through_a_stream_of_inserts() {
    let live = Arc::new(AtomicUsize::new(0));
    let cache = ResidentCache::new(1000);
    cache.insert(key(0), program(&live, 100));
    for n in 1..200u8 {
        assert!(cache.get(&key(0)).is_some(), "hot entry evicted by insert {n}");
        cache.insert(key(n), program(&live, 100));
    }
    assert!(cache.code_bytes() <= 1000);
}
