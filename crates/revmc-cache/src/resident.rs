//! The resident map: compiled programs in memory under a byte budget.
//!
//! Hits take a read lock and stamp the entry's last use atomically, so lookups from many
//! threads do not serialize; inserts and evictions take the write lock. Eviction scans for
//! the least recently used entry, which is linear in the number of entries but happens
//! only when an insert goes over budget or on an idle sweep.

use crate::{CompiledProgram, RuntimeCacheKey};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

struct Entry {
    program: Arc<CompiledProgram>,
    /// Nanoseconds since the cache's epoch at the last hit or insert.
    last_used: AtomicU64,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insert {
    /// Whether the program is now resident; `false` when it alone exceeds the budget.
    pub stored: bool,
    /// Entries evicted to make room.
    pub evicted: usize,
}

/// Compiled programs by key, at most `budget` bytes of code in total.
#[derive(Debug)]
pub struct ResidentCache {
    entries: RwLock<HashMap<RuntimeCacheKey, Entry>>,
    budget: usize,
    bytes: AtomicUsize,
    evictions: AtomicU64,
    epoch: Instant,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("program", &self.program).finish_non_exhaustive()
    }
}

impl ResidentCache {
    /// An empty cache holding at most `budget` bytes of code.
    pub fn new(budget: usize) -> Self {
        Self {
            entries: RwLock::default(),
            budget,
            bytes: AtomicUsize::new(0),
            evictions: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    // A panic while holding the lock cannot leave the map inconsistent (every mutation is
    // one map operation plus a counter), so a poisoned lock is used as is.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<RuntimeCacheKey, Entry>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<RuntimeCacheKey, Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The program stored under `key`, marking it used.
    pub fn get(&self, key: &RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        let entries = self.read();
        let entry = entries.get(key)?;
        entry.last_used.store(self.now(), Ordering::Relaxed);
        Some(entry.program.clone())
    }

    /// Whether `key` is resident, without marking it used.
    pub fn contains(&self, key: &RuntimeCacheKey) -> bool {
        self.read().contains_key(key)
    }

    /// Stores `program` under `key` (replacing any program there), then evicts least
    /// recently used entries until the total is within budget again.
    pub fn insert(&self, key: RuntimeCacheKey, program: Arc<CompiledProgram>) -> Insert {
        let size = program.code_bytes();
        if size > self.budget {
            return Insert { stored: false, evicted: 0 };
        }
        // Evicted programs are dropped after the lock is released: freeing code takes the
        // JIT's or the loader's locks, which lookups must not wait behind.
        let mut dropped = Vec::new();
        let mut evicted = 0;
        {
            let mut entries = self.write();
            let entry = Entry { program, last_used: AtomicU64::new(self.now()) };
            if let Some(old) = entries.insert(key, entry) {
                self.bytes.fetch_sub(old.program.code_bytes(), Ordering::Relaxed);
                dropped.push(old.program);
            }
            self.bytes.fetch_add(size, Ordering::Relaxed);
            while self.bytes.load(Ordering::Relaxed) > self.budget {
                let lru = entries
                    .iter()
                    .filter(|(k, _)| **k != key)
                    .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                    .map(|(k, _)| *k);
                let Some(lru) = lru else { break };
                dropped.extend(self.remove_locked(&mut entries, &lru));
                evicted += 1;
            }
        }
        drop(dropped);
        Insert { stored: true, evicted }
    }

    fn remove_locked(
        &self,
        entries: &mut HashMap<RuntimeCacheKey, Entry>,
        key: &RuntimeCacheKey,
    ) -> Option<Arc<CompiledProgram>> {
        let entry = entries.remove(key)?;
        self.bytes.fetch_sub(entry.program.code_bytes(), Ordering::Relaxed);
        self.evictions.fetch_add(1, Ordering::Relaxed);
        Some(entry.program)
    }

    /// Removes `key`; the program's code is freed once no other `Arc` holds it.
    pub fn remove(&self, key: &RuntimeCacheKey) -> Option<Arc<CompiledProgram>> {
        self.remove_locked(&mut self.write(), key)
    }

    /// Evicts every entry unused for longer than `max_idle`; returns how many.
    pub fn evict_idle(&self, max_idle: Duration) -> usize {
        let cutoff = self.now().saturating_sub(max_idle.as_nanos() as u64);
        let dropped: Vec<_> = {
            let mut entries = self.write();
            let idle: Vec<_> = entries
                .iter()
                .filter(|(_, e)| e.last_used.load(Ordering::Relaxed) < cutoff)
                .map(|(k, _)| *k)
                .collect();
            idle.iter().filter_map(|key| self.remove_locked(&mut entries, key)).collect()
        };
        // Freed outside the lock, as in `insert`.
        dropped.len()
    }

    /// Drops every entry (not counted as evictions).
    pub fn clear(&self) {
        let dropped: Vec<_> = {
            let mut entries = self.write();
            self.bytes.store(0, Ordering::Relaxed);
            entries.drain().map(|(_, e)| e.program).collect()
        };
        drop(dropped);
    }

    /// Number of resident programs.
    pub fn len(&self) -> usize {
        self.read().len()
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
