//! The resident map: compiled programs in memory under a byte budget.
//!
//! Lookups take the read lock of one of 64 shards (picked by the code hash, which is
//! uniformly distributed) and set the entry's `used` flag if it is clear: threads looking
//! up different code share no lock word, no lookup waits for another, a hit reads no
//! clock, and threads hitting one hot program do not keep writing its line.
//!
//! Inserts, removals and evictions are serialized by the eviction index, an ordered set of
//! `(stamp, key)` (the time the entry was filed). Hits do not touch the index. Eviction
//! pops the oldest item and gives an entry used since it was filed a second chance — its
//! flag cleared, re-filed at the current time — so choosing the entry to evict costs
//! O(log n) amortized instead of a scan (the CLOCK approximation of LRU). Idle eviction
//! does the same with items older than the idle bound: an entry is evicted once it has
//! gone unused for between `max_idle` and twice that.

use crate::{CompiledProgram, RuntimeCacheKey};
use alloy_primitives::map::HashMap;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// Number of shards (a power of two).
const SHARDS: usize = 64;

struct Entry {
    program: Arc<CompiledProgram>,
    /// The stamp of the entry's live index item (nanoseconds since the cache's epoch);
    /// written only under the index lock. An item with another stamp is stale.
    filed: AtomicU64,
    /// Whether a hit came since the entry was filed.
    used: AtomicBool,
}

/// One shard, alone on its cache lines so that shards do not share a lock word's line.
#[repr(align(128))]
#[derive(Default)]
struct Shard(RwLock<HashMap<RuntimeCacheKey, Entry>>);

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insert {
    /// Whether the program is now resident; `false` when it alone exceeds the budget.
    pub stored: bool,
    /// Entries evicted to make room.
    pub evicted: usize,
}

/// Compiled programs by key, at most `budget` bytes of code in total.
pub struct ResidentCache {
    shards: Box<[Shard]>,
    /// `(stamp, key)` of resident entries, oldest first; an item may be stale (its entry
    /// was used since, replaced or removed), which eviction sorts out lazily.
    order: Mutex<BTreeSet<(u64, RuntimeCacheKey)>>,
    budget: usize,
    bytes: AtomicUsize,
    evictions: AtomicU64,
    epoch: Instant,
}

impl std::fmt::Debug for ResidentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidentCache")
            .field("entries", &self.len())
            .field("bytes", &self.code_bytes())
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// What the eviction index says of its oldest item.
enum Oldest {
    /// The entry is resident and unused since it was filed.
    Evict(RuntimeCacheKey),
    /// Stale, or used and re-filed: looked at, nothing to evict.
    Skipped,
    /// The index is empty, or its oldest item is at least the cutoff.
    None,
}

impl ResidentCache {
    /// An empty cache holding at most `budget` bytes of code.
    pub fn new(budget: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            order: Mutex::default(),
            budget,
            bytes: AtomicUsize::new(0),
            evictions: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The current time as a stamp later than every item of `order`, so that an entry
    /// re-filed or replaced now makes its earlier item stale.
    fn stamp(&self, order: &BTreeSet<(u64, RuntimeCacheKey)>) -> u64 {
        let now = self.epoch.elapsed().as_nanos() as u64;
        now.max(order.last().map_or(0, |item| item.0 + 1))
    }

    fn shard(&self, key: &RuntimeCacheKey) -> &Shard {
        &self.shards[key.code_hash[0] as usize % SHARDS]
    }

    // A panic while holding a lock cannot leave a map inconsistent (every mutation is one
    // map operation plus a counter), so a poisoned lock is used as is.
    fn read(&self, key: &RuntimeCacheKey) -> RwLockReadGuard<'_, HashMap<RuntimeCacheKey, Entry>> {
        self.shard(key).0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(
        &self,
        key: &RuntimeCacheKey,
    ) -> RwLockWriteGuard<'_, HashMap<RuntimeCacheKey, Entry>> {
        self.shard(key).0.write().unwrap_or_else(|e| e.into_inner())
    }

    fn order(&self) -> MutexGuard<'_, BTreeSet<(u64, RuntimeCacheKey)>> {
        self.order.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The program stored under `key`, marking it used.
    pub fn get(&self, key: &RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        let entries = self.read(key);
        let entry = entries.get(key)?;
        // Written once per filing, not per hit: the line stays shared between readers.
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(entry.program.clone())
    }

    /// Whether `key` is resident, without marking it used.
    pub fn contains(&self, key: &RuntimeCacheKey) -> bool {
        self.read(key).contains_key(key)
    }

    /// Looks at the oldest index item older than `cutoff` (any, with `u64::MAX`) not of
    /// `keep`: pops it, and re-files its entry at `now` (clearing its flag) if the entry
    /// was used since it was filed.
    fn oldest(
        &self,
        order: &mut BTreeSet<(u64, RuntimeCacheKey)>,
        cutoff: u64,
        now: u64,
        keep: Option<RuntimeCacheKey>,
    ) -> Oldest {
        let Some(&(stamp, key)) = order.iter().find(|item| Some(item.1) != keep) else {
            return Oldest::None;
        };
        if stamp >= cutoff {
            return Oldest::None;
        }
        order.remove(&(stamp, key));
        let entries = self.read(&key);
        match entries.get(&key) {
            Some(e) if e.filed.load(Ordering::Relaxed) == stamp => {
                if e.used.swap(false, Ordering::Relaxed) {
                    e.filed.store(now, Ordering::Relaxed);
                    order.insert((now, key));
                    Oldest::Skipped
                } else {
                    Oldest::Evict(key)
                }
            }
            // Removed or replaced since this item was filed.
            _ => Oldest::Skipped,
        }
    }

    /// Stores `program` under `key` (replacing any program there), then evicts least
    /// recently used entries until the total is within budget again.
    pub fn insert(&self, key: RuntimeCacheKey, program: Arc<CompiledProgram>) -> Insert {
        let size = program.code_bytes();
        if size > self.budget {
            return Insert { stored: false, evicted: 0 };
        }
        // Evicted programs are dropped after the locks are released: freeing code takes
        // the JIT's or the loader's locks, which lookups must not wait behind.
        let mut dropped = Vec::new();
        let mut evicted = 0;
        {
            let mut order = self.order();
            let stamp = self.stamp(&order);
            // Room first, then the insert: the total never exceeds the budget, even for a
            // moment (mutations are serialized by the index lock).
            let replaced = self.read(&key).get(&key).map_or(0, |e| e.program.code_bytes());
            while self.bytes.load(Ordering::Relaxed) - replaced + size > self.budget {
                match self.oldest(&mut order, u64::MAX, stamp, Some(key)) {
                    Oldest::Evict(lru) => {
                        dropped.extend(self.remove_entry(&lru));
                        evicted += 1;
                    }
                    Oldest::Skipped => {}
                    Oldest::None => break,
                }
            }
            let entry =
                Entry { program, filed: AtomicU64::new(stamp), used: AtomicBool::new(false) };
            if let Some(old) = self.write(&key).insert(key, entry) {
                self.bytes.fetch_sub(old.program.code_bytes(), Ordering::Relaxed);
                dropped.push(old.program);
            }
            self.bytes.fetch_add(size, Ordering::Relaxed);
            order.insert((stamp, key));
            self.compact(&mut order);
        }
        drop(dropped);
        Insert { stored: true, evicted }
    }

    /// Rebuilds the index when stale items (from replaced or removed entries) outnumber
    /// the resident ones, so that it stays within twice the entries.
    fn compact(&self, order: &mut BTreeSet<(u64, RuntimeCacheKey)>) {
        let len = self.len();
        if order.len() <= 2 * len + 64 {
            return;
        }
        order.clear();
        for shard in self.shards.iter() {
            let entries = shard.0.read().unwrap_or_else(|e| e.into_inner());
            order.extend(entries.iter().map(|(k, e)| (e.filed.load(Ordering::Relaxed), *k)));
        }
    }

    /// Removes `key`'s entry, counting an eviction. The index item is left stale.
    fn remove_entry(&self, key: &RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        let entry = self.write(key).remove(key)?;
        self.bytes.fetch_sub(entry.program.code_bytes(), Ordering::Relaxed);
        self.evictions.fetch_add(1, Ordering::Relaxed);
        Some(entry.program)
    }

    /// Removes `key`; the program's code is freed once no other `Arc` holds it.
    pub fn remove(&self, key: &RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        let _order = self.order();
        self.remove_entry(key)
    }

    /// Evicts every entry unused for longer than `max_idle`; returns how many.
    pub fn evict_idle(&self, max_idle: Duration) -> usize {
        let mut dropped = Vec::new();
        {
            let mut order = self.order();
            let now = self.stamp(&order);
            let cutoff = now.saturating_sub(max_idle.as_nanos() as u64);
            loop {
                match self.oldest(&mut order, cutoff, now, None) {
                    Oldest::Evict(key) => dropped.extend(self.remove_entry(&key)),
                    Oldest::Skipped => {}
                    Oldest::None => break,
                }
            }
        }
        // Freed outside the locks, as in `insert`.
        dropped.len()
    }

    /// Drops every entry (not counted as evictions).
    pub fn clear(&self) {
        let mut dropped = Vec::new();
        {
            let mut order = self.order();
            for shard in self.shards.iter() {
                let mut entries = shard.0.write().unwrap_or_else(|e| e.into_inner());
                dropped.extend(entries.drain().map(|(_, e)| e.program));
            }
            order.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        drop(dropped);
    }

    /// Number of resident programs.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.read().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    /// Whether no program is resident.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Code bytes of the resident programs.
    pub fn code_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The byte budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Entries evicted so far (by budget, idleness or [`Self::remove`]).
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}
