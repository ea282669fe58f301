//! Which blocks of a program ran: what the first tier records, and what the optimizing
//! tier compiles.
//!
//! A tiered runtime compiles code cheaply first and optimizes it once it has run a while.
//! By then the first tier's code has recorded every IR block with a pc it entered, and
//! [`translate_profiled`](crate::translate::translate_profiled) leaves the blocks that
//! never ran to the interpreter, as it does paths that can only fail: on real contracts
//! most of the code is administration, other entry points, and error handling that a
//! node's workload may never run, and the optimizing tier's cost grows faster than its
//! code (`docs/compile-cost.md`, "Compiling what ran").

use serde::{Deserialize, Serialize};

/// A set of blocks that ran, each named by its pc and whether it is its EVM block's
/// dynamic-shape variant: a block reached at more stack heights than the translator keeps
/// apart runs as one variant whose base is a run-time value, and once unresolved jumps
/// leave in more shapes than the translator gives dispatches of their own, they enter
/// every JUMPDEST in one; so a pc can have both kinds. The optimizing tier compiles only
/// the kinds that ran ([`key`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RanBlocks {
    /// One bit per [`key`].
    bits: Vec<u64>,
}

/// The index of a block in a profile: `2 * pc`, plus one for a dynamic-shape variant. A
/// profile buffer has one byte per key, two per byte of code.
pub const fn key(pc: usize, dynamic: bool) -> usize {
    2 * pc + dynamic as usize
}

impl RanBlocks {
    /// The blocks of both kinds at the pcs `i` for which `ran(i)` holds, among `0..len`.
    pub fn from_fn(len: usize, mut ran: impl FnMut(usize) -> bool) -> Self {
        Self::from_pcs((0..len).filter(|&pc| ran(pc)))
    }

    /// The blocks whose [`key`] `k` satisfies `ran(k)`, among `0..keys`.
    pub fn from_keys(keys: usize, mut ran: impl FnMut(usize) -> bool) -> Self {
        Self::from_key_list((0..keys).filter(|&k| ran(k)))
    }

    /// The blocks of the set whose [`words`](Self::words) these are.
    pub fn from_words(mut bits: Vec<u64>) -> Self {
        // No zero word last, as `from_key_list` makes them: equal sets are equal values.
        while bits.last() == Some(&0) {
            bits.pop();
        }
        Self { bits }
    }

    /// The set as bits: key `k` is bit `k % 64` of word `k / 64`; no word past the last
    /// block's.
    pub fn words(&self) -> &[u64] {
        &self.bits
    }

    /// Adds the blocks of `other`.
    pub fn extend(&mut self, other: &RanBlocks) {
        if self.bits.len() < other.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (w, o) in self.bits.iter_mut().zip(&other.bits) {
            *w |= o;
        }
    }

    /// The blocks of both kinds at `pcs`.
    pub fn from_pcs(pcs: impl IntoIterator<Item = usize>) -> Self {
        Self::from_key_list(pcs.into_iter().flat_map(|pc| [key(pc, false), key(pc, true)]))
    }

    /// The blocks of the static kind at `statics` and of the dynamic kind at `dynamics`.
    pub fn from_kinds(
        statics: impl IntoIterator<Item = usize>,
        dynamics: impl IntoIterator<Item = usize>,
    ) -> Self {
        let statics = statics.into_iter().map(|pc| key(pc, false));
        Self::from_key_list(statics.chain(dynamics.into_iter().map(|pc| key(pc, true))))
    }

    fn from_key_list(keys: impl IntoIterator<Item = usize>) -> Self {
        let mut bits = Vec::new();
        for k in keys {
            if bits.len() <= k / 64 {
                bits.resize(k / 64 + 1, 0);
            }
            bits[k / 64] |= 1u64 << (k % 64);
        }
        Self { bits }
    }

    /// Whether the block at `pc` of the given kind ran.
    pub fn contains_block(&self, pc: usize, dynamic: bool) -> bool {
        self.contains_key(key(pc, dynamic))
    }

    /// Whether a block of either kind at `pc` ran.
    pub fn contains(&self, pc: usize) -> bool {
        self.contains_block(pc, false) || self.contains_block(pc, true)
    }

    fn contains_key(&self, k: usize) -> bool {
        self.bits.get(k / 64).is_some_and(|w| w >> (k % 64) & 1 == 1)
    }

    /// The pcs at which a block of either kind ran, in increasing order.
    pub fn pcs(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.bits.len() * 32).filter(|&pc| self.contains(pc))
    }

    /// The [`key`]s of the blocks that ran, in increasing order.
    pub fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.bits.len() * 64).filter(|&k| self.contains_key(k))
    }

    /// The pcs at which a block of the given kind ran, in increasing order.
    pub fn pcs_of_kind(&self, dynamic: bool) -> impl Iterator<Item = usize> + '_ {
        (0..self.bits.len() * 32).filter(move |&pc| self.contains_block(pc, dynamic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_the_pcs_it_was_made_of() {
        let a = RanBlocks::from_pcs([0, 5, 63, 64, 200]);
        let b = RanBlocks::from_fn(201, |pc| [0, 5, 63, 64, 200].contains(&pc));
        assert_eq!(a, b);
        assert_eq!(a.pcs().collect::<Vec<_>>(), [0, 5, 63, 64, 200]);
        assert_eq!(a.pcs().count(), 5);
        assert!(!a.contains(1) && !a.contains(199) && !a.contains(10_000));
        assert_eq!(RanBlocks::from_pcs([]).pcs().count(), 0);
        assert!(a.contains_block(5, false) && a.contains_block(5, true));
    }

    #[test]
    fn tells_the_kinds_of_blocks_at_one_pc_apart() {
        let ran = RanBlocks::from_kinds([0, 16], [16, 40]);
        assert!(ran.contains_block(0, false) && !ran.contains_block(0, true));
        assert!(ran.contains_block(16, false) && ran.contains_block(16, true));
        assert!(!ran.contains_block(40, false) && ran.contains_block(40, true));
        assert_eq!(ran.pcs().collect::<Vec<_>>(), [0, 16, 40]);
        assert_eq!(ran.pcs_of_kind(false).collect::<Vec<_>>(), [0, 16]);
        assert_eq!(ran.pcs_of_kind(true).collect::<Vec<_>>(), [16, 40]);
        let keys = RanBlocks::from_keys(key(41, false), |k| [0, 32, 33, 81].contains(&k));
        assert_eq!(keys, ran);
        assert_eq!(ran.keys().collect::<Vec<_>>(), [0, 32, 33, 81]);
        assert_eq!(RanBlocks::from_words(ran.words().to_vec()), ran);
        assert_eq!(RanBlocks::from_words(vec![0b1, 0, 0]), RanBlocks::from_kinds([0], []));
        let mut more = RanBlocks::from_kinds([500], [0]);
        more.extend(&ran);
        assert_eq!(more, RanBlocks::from_kinds([0, 16, 500], [0, 16, 40]));
    }
}
