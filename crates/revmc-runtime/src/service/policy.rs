//! The policy: what is compiled, when, and how. Every path that compiles — a promotion, a
//! tier-up, `compile_sync`, `prepare_aot` — asks [`Policy::admit`] whether the code may be
//! compiled and of which kind, and [`Policy::job`] for the symbol and level; the hotness
//! counts ([`Hotness`]) decide when.

use super::{CompileMode, Tuning};
use lru::LruCache;
use revmc_cache::{RuntimeCacheKey, Tier};
use revmc_worker::OptLevel;
use revmc_worker::{CompileError, CompileKind, Profiling};
use std::num::NonZeroUsize;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Policy {
    pub tuning: Tuning,
    pub mode: CompileMode,
}

/// How one job is compiled.
pub(crate) struct JobShape {
    pub symbol: String,
    pub opt_level: OptLevel,
    pub tier: Tier,
}

impl Policy {
    /// Whether code of `len` bytes may be compiled, and of which kind: AOT when asked for
    /// (`prepare_aot`) or in AOT mode, JIT otherwise.
    pub fn admit(&self, len: usize, aot: bool) -> Result<CompileKind, CompileError> {
        let max = self.tuning.max_bytecode_len;
        if max != 0 && len > max {
            return Err(CompileError::TooLarge { len, max });
        }
        Ok(if aot || self.mode == CompileMode::Aot { CompileKind::Aot } else { CompileKind::Jit })
    }

    /// The symbol, level and tier of a job of `kind` for `key` asked at `tier`. A JIT
    /// symbol names the tier, so that both tiers of one key can be alive at once; an AOT
    /// symbol is `artifact_id`'s, deterministic, so that concurrent writers of one key
    /// write the same bytes.
    pub fn job(
        &self,
        key: &RuntimeCacheKey,
        kind: CompileKind,
        tier: Tier,
        artifact_id: impl FnOnce() -> String,
    ) -> JobShape {
        match kind {
            CompileKind::Jit => {
                let (opt_level, tier, suffix) = match (tier, self.tuning.first_tier_opt_level) {
                    (Tier::First, Some(level)) => (level, Tier::First, "t1"),
                    _ => (self.tuning.jit_opt_level, Tier::Optimized, "t2"),
                };
                let hash = &key.code_hash.to_string()[2..18];
                let symbol = format!("revmc_{hash}_{}_{suffix}", key.spec_id as u8);
                JobShape { symbol, opt_level, tier }
            }
            CompileKind::Aot => JobShape {
                symbol: format!("revmc_aot_{}", artifact_id()),
                opt_level: self.tuning.aot_opt_level,
                tier: Tier::Optimized,
            },
        }
    }

    /// What a job of `kind` at `tier` does with block profiles: with
    /// `Tuning::compile_what_ran`, first-tier code records them, and an optimizing JIT
    /// compilation does what the caller asked (`Profiling::Compile` from a profile, else
    /// whole).
    pub fn profiling(&self, kind: CompileKind, tier: Tier, asked: Profiling) -> Profiling {
        if kind != CompileKind::Jit || !self.tuning.compile_what_ran {
            return Profiling::Off;
        }
        match tier {
            Tier::First => Profiling::Record,
            Tier::Optimized => asked,
        }
    }
}

/// Gas run per key: interpreted (towards the first compilation), as first-tier code
/// (towards the optimizing one), and by optimized frames that left to the interpreter at
/// code their profile said was cold (towards compiling the program again). Each is
/// bounded by `Tuning::max_tracked_keys`; the least recently executed key goes first, so
/// a flood of distinct cold code cannot push out code that keeps running.
#[derive(Debug)]
pub(crate) struct Hotness {
    pub interpreted: LruCache<RuntimeCacheKey, u64>,
    pub first_tier: LruCache<RuntimeCacheKey, u64>,
    pub cold: LruCache<RuntimeCacheKey, u64>,
}

impl Hotness {
    /// Counts for at most `capacity` keys each (0: unbounded).
    pub fn new(capacity: usize) -> Self {
        let counts = || match NonZeroUsize::new(capacity) {
            Some(capacity) => LruCache::new(capacity),
            None => LruCache::unbounded(),
        };
        Self { interpreted: counts(), first_tier: counts(), cold: counts() }
    }

    pub fn clear(&mut self) {
        self.interpreted.clear();
        self.first_tier.clear();
        self.cold.clear();
    }

    pub fn len(&self) -> usize {
        self.interpreted.len() + self.first_tier.len() + self.cold.len()
    }
}

/// Adds `gas` to `key`'s count, marking it recently executed; returns the new total.
pub(crate) fn add_gas(
    counts: &mut LruCache<RuntimeCacheKey, u64>,
    key: RuntimeCacheKey,
    gas: u64,
) -> u64 {
    match counts.get_mut(&key) {
        Some(total) => {
            *total = total.saturating_add(gas);
            *total
        }
        None => {
            counts.put(key, gas);
            gas
        }
    }
}
