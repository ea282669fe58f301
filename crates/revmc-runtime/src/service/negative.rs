//! The negative cache: keys whose compilation failed, with the error, so that code which
//! cannot be compiled is not compiled again and again.
//!
//! Bounded in entries (`Tuning::max_negative_entries`), least recently used evicted first:
//! a flood of distinct failing code cannot grow it, and keys still being executed stay.
//! Lookups on the execution path only peek (a read lock, no recency update); the
//! coordinator's checks, made whenever the code runs interpreted, refresh recency.
//! Failures that may not recur — the backend, a compiler panic (either can be a lack of
//! memory), a deadline missed on a busy machine — expire after [`TRANSIENT_REFUSAL`]; the translator's verdicts stay until
//! `clear`.

use lru::LruCache;
use revmc_cache::RuntimeCacheKey;
use revmc_worker::CompileError;
use std::num::NonZeroUsize;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// How long a failure that may be transient keeps its key from being compiled.
pub(crate) const TRANSIENT_REFUSAL: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Entry {
    error: CompileError,
    /// When the refusal lapses (`None`: never).
    expires: Option<Instant>,
}

impl Entry {
    fn live(&self) -> Option<CompileError> {
        self.expires.is_none_or(|t| Instant::now() < t).then(|| self.error.clone())
    }
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct NegativeCache {
    entries: RwLock<LruCache<RuntimeCacheKey, Entry>>,
}

impl NegativeCache {
    /// An empty cache holding at most `capacity` keys (0: unbounded).
    pub fn new(capacity: usize) -> Self {
        let entries = match NonZeroUsize::new(capacity) {
            Some(capacity) => LruCache::new(capacity),
            None => LruCache::unbounded(),
        };
        Self { entries: RwLock::new(entries) }
    }

    fn read(&self) -> RwLockReadGuard<'_, LruCache<RuntimeCacheKey, Entry>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, LruCache<RuntimeCacheKey, Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The live failure of `key`, without touching its recency (the execution path).
    pub fn peek(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.read().peek(key).and_then(Entry::live)
    }

    /// The live failure of `key`, marking it used (the coordinator).
    pub fn get(&self, key: &RuntimeCacheKey) -> Option<CompileError> {
        self.write().get(key).and_then(Entry::live)
    }

    /// Remembers that `key` failed with `error`, evicting the least recently used key if
    /// the cache is full.
    pub fn insert(&self, key: RuntimeCacheKey, error: CompileError) {
        let transient = matches!(
            error,
            CompileError::Backend(_) | CompileError::Panicked(_) | CompileError::Timeout { .. }
        );
        let expires = transient.then(|| Instant::now() + TRANSIENT_REFUSAL);
        self.write().put(key, Entry { error, expires });
    }

    /// Forgets every failure.
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::primitives::B256;
    use revmc_ir::SpecId;

    fn key(n: u64) -> RuntimeCacheKey {
        RuntimeCacheKey::new(B256::left_padding_from(&n.to_be_bytes()), SpecId::CANCUN)
    }

    #[test]
    fn bounded_and_the_recently_checked_key_survives() {
        let cache = NegativeCache::new(100);
        cache.insert(key(0), CompileError::CodeMismatch);
        for n in 1..10_000 {
            cache.insert(key(n), CompileError::CodeMismatch);
            if n % 50 == 0 {
                assert!(cache.get(&key(0)).is_some(), "key 0 evicted by {n}");
            }
        }
        assert_eq!(cache.len(), 100);
        assert!(cache.peek(&key(1)).is_none(), "old, never checked: evicted");
    }

    #[test]
    fn a_panic_refusal_expires_and_a_translator_verdict_does_not() {
        let cache = NegativeCache::new(10);
        cache.insert(key(1), CompileError::Panicked("bug".into()));
        cache.insert(key(2), CompileError::CodeMismatch);
        // Age the entry instead of waiting ten minutes.
        let past = Instant::now() - Duration::from_secs(1);
        cache.write().get_mut(&key(1)).unwrap().expires = Some(past);
        assert!(cache.peek(&key(1)).is_none());
        assert!(cache.peek(&key(2)).is_some());
        let fresh = cache.write().peek(&key(2)).unwrap().expires;
        assert_eq!(fresh, None);
    }
}
