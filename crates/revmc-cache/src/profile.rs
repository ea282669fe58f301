//! The blocks a program's frames have run: recorded by a first-tier program's own code,
//! and, for a program compiled from such a record, by the interpreter where its frames
//! leave it at code that had not run.

use revmc_ir::RanBlocks;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// One byte per byte of a program's code, set to 1 when a block starting at that pc
/// runs: by a first-tier program's code as it enters the block
/// (`revmc_llvm::lower::LowerOptions::block_profile`; the address is baked into the code,
/// so the profile lives as long as the program holding it), or by the runtime's
/// interpreter for frames that left code compiled from a profile ([`mark`](Self::mark)).
///
/// The code's stores are plain, not atomic (an atomic store would take the block out of
/// LLVM's fast instruction selector), racing with this side's atomic loads: outside
/// Rust's memory model, but each is one byte store of the same value on the hardware.
/// Frames on several threads running the same hot block all store to its line; loading
/// first and storing only a 0 would keep the line shared, at a branch per block.
pub struct BlockProfile {
    ran: Box<[AtomicU8]>,
    /// Whether [`mark`](Self::mark) has set a byte that was 0.
    grown: AtomicBool,
}

impl BlockProfile {
    /// A profile of code `len` bytes long, where nothing has run.
    pub fn new(len: usize) -> Self {
        Self { ran: (0..len).map(|_| AtomicU8::new(0)).collect(), grown: AtomicBool::new(false) }
    }

    /// A profile of code `len` bytes long in which the blocks of `ran` have run: that of
    /// a program compiled from `ran`, whose code stores nothing here. Its frames that
    /// leave to the interpreter at a block outside `ran` [`mark`](Self::mark) what they run
    /// there.
    pub fn from_ran(len: usize, ran: &RanBlocks) -> Self {
        let ran = (0..len).map(|pc| AtomicU8::new(u8::from(ran.contains(pc)))).collect();
        Self { ran, grown: AtomicBool::new(false) }
    }

    /// Records that the instruction at `pc` ran (any pc outside the code: nothing). A block
    /// ran when its first instruction did.
    #[inline]
    pub fn mark(&self, pc: usize) {
        if let Some(byte) = self.ran.get(pc) {
            // Loads first: the byte is set after a block's first run, and frames on other
            // threads then share its line instead of taking it from each other.
            if byte.load(Ordering::Relaxed) == 0 {
                byte.store(1, Ordering::Relaxed);
                self.grown.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Whether [`mark`](Self::mark) has added a pc since the profile was made: frames that
    /// left the code ran something it was not compiled from.
    pub fn has_grown(&self) -> bool {
        self.grown.load(Ordering::Relaxed)
    }

    /// The address the code stores to. Frames on other threads may store through it
    /// while this is read: the bytes are atomics, and the code only ever stores 1.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        // `AtomicU8` has the layout of `u8`.
        self.ran.as_ptr() as *mut u8
    }

    /// The bytes it covers.
    pub fn len(&self) -> usize {
        self.ran.len()
    }

    /// Whether it covers no code.
    pub fn is_empty(&self) -> bool {
        self.ran.is_empty()
    }

    /// The blocks that have run so far.
    pub fn snapshot(&self) -> RanBlocks {
        RanBlocks::from_fn(self.ran.len(), |pc| self.ran[pc].load(Ordering::Relaxed) != 0)
    }

    /// The blocks that have run so far, if the program ran at all: a profile without the
    /// entry block is of no run (its gas may have been reported without the code running
    /// it), and compiling from it would leave everything to the interpreter.
    pub fn ran(&self) -> Option<RanBlocks> {
        Some(self.snapshot()).filter(|ran| ran.contains(0))
    }
}

impl std::fmt::Debug for BlockProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockProfile").field("len", &self.ran.len()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_from_what_ran_holds_it_and_what_is_marked_later() {
        let profile = BlockProfile::from_ran(10, &RanBlocks::from_pcs([0, 4]));
        assert_eq!(profile.ran(), Some(RanBlocks::from_fn(10, |pc| pc == 0 || pc == 4)));
        profile.mark(4); // already there
        profile.mark(10); // past the code: nothing
        assert!(!profile.has_grown());
        profile.mark(7);
        profile.mark(7);
        assert!(profile.has_grown());
        assert_eq!(profile.ran(), Some(RanBlocks::from_fn(10, |pc| [0, 4, 7].contains(&pc))));
        // Without the entry block, no run.
        assert_eq!(BlockProfile::from_ran(10, &RanBlocks::from_pcs([4])).ran(), None);
    }
}
