//! Code seen before, by a fast hash: whether code whose keccak hash is not known yet (a
//! creation frame's init code) is worth hashing. Hashing it costs a keccak over the whole
//! init code, which the interpreter never needs; init code that runs once (most
//! deployments) then runs interpreted without it, and init code that repeats (factories,
//! CREATE2 deployers) is looked up from its second run on.
//!
//! A direct-mapped table of 4,096 atomic slots: bounded, lock-free, and forgetful (two codes
//! sharing a slot evict each other, which only delays their compilation).

use revm::primitives::map::DefaultHashBuilder;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

const SLOTS: usize = 4096;

/// See the module documentation.
pub(crate) struct SeenFilter {
    slots: Box<[AtomicU64]>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for SeenFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenFilter").field("slots", &self.slots.len()).finish_non_exhaustive()
    }
}

impl SeenFilter {
    pub fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Whether `code` was seen before; marks it seen.
    pub fn seen_before(&self, code: &[u8]) -> bool {
        // Never 0, the empty slot.
        let h = self.hasher.hash_one(code) | 1;
        let slot = &self.slots[h as usize % SLOTS];
        if slot.load(Ordering::Relaxed) == h {
            return true;
        }
        slot.store(h, Ordering::Relaxed);
        false
    }
}
