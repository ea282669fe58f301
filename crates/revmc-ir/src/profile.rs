//! Which blocks of a program ran: what the first tier records, and what the optimizing
//! tier compiles.
//!
//! A tiered runtime compiles code cheaply first and optimizes it once it has run a while.
//! By then the first tier's code has recorded the pc of every IR block it entered, and
//! [`translate_profiled`](crate::translate::translate_profiled) leaves the blocks that
//! never ran to the interpreter, as it does paths that can only fail: on real contracts
//! most of the code is administration, other entry points, and error handling that a
//! node's workload may never run, and the optimizing tier's cost grows faster than its
//! code (`docs/compile-cost.md`, "Compiling what ran").

use serde::{Deserialize, Serialize};

/// A set of EVM pcs: those at which a block ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RanBlocks {
    /// One bit per pc of the code.
    bits: Vec<u64>,
}

impl RanBlocks {
    /// The pcs `i` for which `ran(i)` holds, among `0..len`.
    pub fn from_fn(len: usize, mut ran: impl FnMut(usize) -> bool) -> Self {
        let mut bits = vec![0u64; len.div_ceil(64)];
        for pc in (0..len).filter(|&pc| ran(pc)) {
            bits[pc / 64] |= 1 << (pc % 64);
        }
        Self { bits }
    }

    /// The set of `pcs`.
    pub fn from_pcs(pcs: impl IntoIterator<Item = usize>) -> Self {
        let mut bits = Vec::new();
        for pc in pcs {
            if bits.len() <= pc / 64 {
                bits.resize(pc / 64 + 1, 0);
            }
            bits[pc / 64] |= 1u64 << (pc % 64);
        }
        Self { bits }
    }

    /// Whether a block at `pc` ran.
    pub fn contains(&self, pc: usize) -> bool {
        self.bits.get(pc / 64).is_some_and(|w| w >> (pc % 64) & 1 == 1)
    }

    /// The pcs, in increasing order.
    pub fn pcs(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.bits.len() * 64).filter(|&pc| self.contains(pc))
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
    }
}
