//! The blocks a program's frames have run: recorded by a first-tier program's own code,
//! and, for a program compiled from such a record, by the interpreter where its frames
//! leave it at code that had not run.

use revmc_ir::RanBlocks;
use revmc_ir::profile::key;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Two bytes per byte of a program's code, one for the static-shape blocks at that pc and
/// one for its dynamic-shape block (indexed by [`key`]), set to 1 when such a block runs:
/// by a first-tier program's code as it enters the block
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
        let ran = (0..key(len, false)).map(|_| AtomicU8::new(0)).collect();
        Self { ran, grown: AtomicBool::new(false) }
    }

    /// A profile of code `len` bytes long in which the blocks of `ran` have run: that of
    /// a program compiled from `ran`, whose code stores nothing here. Its frames that
    /// leave to the interpreter at a block outside `ran` [`mark`](Self::mark) what they run
    /// there.
    pub fn from_ran(len: usize, ran: &RanBlocks) -> Self {
        let ran = (0..key(len, false))
            .map(|k| AtomicU8::new(u8::from(ran.contains_block(k / 2, k % 2 == 1))))
            .collect();
        Self { ran, grown: AtomicBool::new(false) }
    }

    /// Records that the instruction at `pc` ran (any pc outside the code: nothing), as
    /// blocks of both kinds: the interpreter has no shapes, and compiled code may enter
    /// the pc in either. A block ran when its first instruction did.
    #[inline]
    pub fn mark(&self, pc: usize) {
        let Some(pair) = self.ran.get(key(pc, false)..key(pc + 1, false)) else { return };
        for byte in pair {
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

    /// Its bytes: two per byte of code.
    pub fn len(&self) -> usize {
        self.ran.len()
    }

    /// Whether it covers no code.
    pub fn is_empty(&self) -> bool {
        self.ran.is_empty()
    }

    /// The blocks that have run so far.
    pub fn snapshot(&self) -> RanBlocks {
        RanBlocks::from_keys(self.ran.len(), |k| self.ran[k].load(Ordering::Relaxed) != 0)
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

    #[test]
    fn a_profile_keeps_the_kinds_of_blocks_apart_and_the_interpreter_marks_both() {
        let ran = RanBlocks::from_kinds([0, 4], [4, 6]);
        let profile = BlockProfile::from_ran(10, &ran);
        assert_eq!(profile.len(), 20, "two bytes per byte of code");
        assert_eq!(profile.ran(), Some(ran));
        profile.mark(6);
        assert!(profile.has_grown(), "the static kind at 6 is new");
        assert_eq!(profile.ran(), Some(RanBlocks::from_kinds([0, 4, 6], [4, 6])));
        // What the code stores: the byte of a block's key.
        let recorded = BlockProfile::new(10);
        // SAFETY: within the profile's 20 bytes, which outlive the write.
        unsafe { recorded.as_mut_ptr().add(key(3, true)).write(1) };
        assert_eq!(recorded.snapshot(), RanBlocks::from_kinds([], [3]));
    }
}
