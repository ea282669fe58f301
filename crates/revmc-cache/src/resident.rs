//! The resident map: compiled programs in memory under a byte budget.
//!
//! Lookups take the read lock of one of 64 shards (picked by the code hash, which is
//! uniformly distributed) and stamp the entry's last use atomically: threads looking up
//! different code share no lock word, and no lookup waits for another. Inserts, removals
//! and evictions are serialized by the eviction index, an ordered set of
//! `(stamp, key)`. Hits do not touch the index; eviction pops its oldest item and gives an
//! entry used since its stamp a second chance with its current stamp, so choosing the
//! least recently used entry costs O(log n) amortized instead of a scan.

use crate::{CompiledProgram, RuntimeCacheKey};
use alloy_primitives::map::HashMap;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// Number of shards (a power of two).
const SHARDS: usize = 64;

/// How stale a hit's stamp may be left (for idle eviction), in nanoseconds.
const STAMP_RESOLUTION_NS: u64 = 1_000_000;

struct Entry {
    program: Arc<CompiledProgram>,
    /// Nanoseconds since the cache's epoch at the last hit or insert.
    last_used: AtomicU64,
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
    /// The stamp of the latest insert.
    newest_insert: AtomicU64,
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
    /// The entry is resident and unused since the item's stamp.
    Evict(RuntimeCacheKey),
    /// Stale or refreshed: looked at, nothing to evict.
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
            newest_insert: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
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
        // Stamp only when it matters — an insert came after the stamp (recency against the
        // newcomer), or it is older than the stamp resolution (idleness) — so that threads
        // hitting one hot program do not keep writing its line.
        let now = self.now();
        let last = entry.last_used.load(Ordering::Relaxed);
        if last < self.newest_insert.load(Ordering::Relaxed) || now - last > STAMP_RESOLUTION_NS {
            entry.last_used.store(now, Ordering::Relaxed);
        }
        Some(entry.program.clone())
    }

    /// Whether `key` is resident, without marking it used.
    pub fn contains(&self, key: &RuntimeCacheKey) -> bool {
        self.read(key).contains_key(key)
    }

    /// Looks at the oldest index item older than `cutoff` (any, with `u64::MAX`) not of
    /// `keep`: pops it, and re-files it under its entry's current stamp if the entry was
    /// used since.
    fn oldest(
        &self,
        order: &mut BTreeSet<(u64, RuntimeCacheKey)>,
        cutoff: u64,
        keep: Option<RuntimeCacheKey>,
    ) -> Oldest {
        let Some(&(stamp, key)) = order.iter().find(|item| Some(item.1) != keep) else {
            return Oldest::None;
        };
        if stamp >= cutoff {
            return Oldest::None;
        }
        order.remove(&(stamp, key));
        let current = self.read(&key).get(&key).map(|e| e.last_used.load(Ordering::Relaxed));
        match current {
            None => Oldest::Skipped,
            Some(used) if used > stamp => {
                order.insert((used, key));
                Oldest::Skipped
            }
            Some(_) => Oldest::Evict(key),
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
            let stamp = self.now();
            self.newest_insert.store(stamp, Ordering::Relaxed);
            // Room first, then the insert: the total never exceeds the budget, even for a
            // moment (mutations are serialized by the index lock).
            let replaced = self.read(&key).get(&key).map_or(0, |e| e.program.code_bytes());
            while self.bytes.load(Ordering::Relaxed) - replaced + size > self.budget {
                match self.oldest(&mut order, u64::MAX, Some(key)) {
                    Oldest::Evict(lru) => {
                        dropped.extend(self.remove_entry(&lru));
                        evicted += 1;
                    }
                    Oldest::Skipped => {}
                    Oldest::None => break,
                }
            }
            let entry = Entry { program, last_used: AtomicU64::new(stamp) };
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
            order.extend(entries.iter().map(|(k, e)| (e.last_used.load(Ordering::Relaxed), *k)));
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
        let cutoff = self.now().saturating_sub(max_idle.as_nanos() as u64);
        let mut dropped = Vec::new();
        {
            let mut order = self.order();
            loop {
                match self.oldest(&mut order, cutoff, None) {
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
