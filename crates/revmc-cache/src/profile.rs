//! The blocks a program's frames have run: recorded by a first-tier program's own code,
//! and, for a program compiled from such a record, by the interpreter where its frames
//! leave it at code that had not run.

use revmc_ir::RanBlocks;
use revmc_ir::profile::key;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

/// The blocks of a program's code that ran, two per pc: its static-shape blocks and its
/// dynamic-shape block (indexed by [`key`]). A first-tier program's code sets their
/// bytes to 1 as it enters them (`revmc_llvm::lower::LowerOptions::block_profile`; the
/// address is baked into the code, so the profile lives as long as the program holding
/// it); for a program compiled from a profile, whose code stores nothing, the runtime's
/// interpreter sets their bits for frames that left the code ([`mark`](Self::mark)).
///
/// The code's stores are plain, not atomic (an atomic store would take the block out of
/// LLVM's fast instruction selector), racing with this side's atomic loads: outside
/// Rust's memory model, but each is one byte store of the same value on the hardware.
/// Frames on several threads running the same hot block all store to its line; loading
/// first and storing only a 0 would keep the line shared, at a branch per block.
pub struct BlockProfile {
    marks: Marks,
    /// Whether [`mark`](Self::mark) has set a mark that was clear.
    grown: AtomicBool,
}

/// Where a profile's marks are.
enum Marks {
    /// A byte per key, which a first tier's code stores into: two per byte of code.
    Bytes(Box<[AtomicU8]>),
    /// A bit per key, which only the interpreter sets: a quarter of a byte per byte of
    /// code, kept by a program compiled from a profile for as long as it is resident.
    Bits {
        /// The words of a [`RanBlocks`] ([`RanBlocks::words`]).
        words: Box<[AtomicU64]>,
        /// How many keys there are.
        keys: usize,
    },
}

impl BlockProfile {
    /// A profile of code `len` bytes long, where nothing has run, for code to record
    /// into ([`buffer`](Self::buffer)).
    pub fn new(len: usize) -> Self {
        let bytes = (0..key(len, false)).map(|_| AtomicU8::new(0)).collect();
        Self { marks: Marks::Bytes(bytes), grown: AtomicBool::new(false) }
    }

    /// A profile of code `len` bytes long in which the blocks of `ran` have run: that of
    /// a program compiled from `ran`, whose code stores nothing here. Its frames that
    /// leave to the interpreter at a block outside `ran` [`mark`](Self::mark) what they run
    /// there.
    pub fn from_ran(len: usize, ran: &RanBlocks) -> Self {
        let keys = key(len, false);
        let mut words = ran.words().to_vec();
        words.resize(keys.div_ceil(64), 0);
        // Blocks past the code (none in a profile of this code) would be past the keys.
        if let Some(last) = words.last_mut().filter(|_| !keys.is_multiple_of(64)) {
            *last &= (1 << (keys % 64)) - 1;
        }
        let words = words.into_iter().map(AtomicU64::new).collect();
        Self { marks: Marks::Bits { words, keys }, grown: AtomicBool::new(false) }
    }

    /// Records that the instruction at `pc` ran (any pc outside the code: nothing), as
    /// blocks of both kinds: the interpreter has no shapes, and compiled code may enter
    /// the pc in either. A block ran when its first instruction did.
    #[inline]
    pub fn mark(&self, pc: usize) {
        // Loads first: a mark is set after a block's first run, and frames on other
        // threads then share its line instead of taking it from each other.
        match &self.marks {
            Marks::Bytes(bytes) => {
                let Some(pair) = bytes.get(key(pc, false)..key(pc + 1, false)) else { return };
                for byte in pair {
                    if byte.load(Ordering::Relaxed) == 0 {
                        byte.store(1, Ordering::Relaxed);
                        self.grown.store(true, Ordering::Release);
                    }
                }
            }
            Marks::Bits { words, keys } => {
                let k = key(pc, false);
                if k >= *keys {
                    return;
                }
                // Both keys of a pc are in one word: the first is even.
                let (word, both) = (&words[k / 64], 0b11 << (k % 64));
                if word.load(Ordering::Relaxed) & both != both {
                    word.fetch_or(both, Ordering::Relaxed);
                    self.grown.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Whether [`mark`](Self::mark) has added a block since the profile was made: frames
    /// that left the code ran something it was not compiled from. A snapshot taken after
    /// it says so holds what was added (the marks are stored before `grown`).
    pub fn has_grown(&self) -> bool {
        self.grown.load(Ordering::Acquire)
    }

    /// The bytes code records into, and how many there are: those of a profile made by
    /// [`new`](Self::new), `None` for one made [`from_ran`](Self::from_ran). Frames on
    /// other threads may store through it while this is read: the bytes are atomics, and
    /// the code only ever stores 1.
    pub fn buffer(&self) -> Option<(*mut u8, usize)> {
        match &self.marks {
            // `AtomicU8` has the layout of `u8`.
            Marks::Bytes(bytes) => Some((bytes.as_ptr() as *mut u8, bytes.len())),
            Marks::Bits { .. } => None,
        }
    }

    /// The memory it holds, counted in its program's size.
    pub fn size_bytes(&self) -> usize {
        match &self.marks {
            Marks::Bytes(bytes) => bytes.len(),
            Marks::Bits { words, .. } => std::mem::size_of_val(&**words),
        }
    }

    /// The blocks that have run so far.
    pub fn snapshot(&self) -> RanBlocks {
        match &self.marks {
            Marks::Bytes(bytes) => {
                RanBlocks::from_keys(bytes.len(), |k| bytes[k].load(Ordering::Relaxed) != 0)
            }
            Marks::Bits { words, .. } => {
                RanBlocks::from_words(words.iter().map(|w| w.load(Ordering::Relaxed)).collect())
            }
        }
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
        let size = self.size_bytes();
        f.debug_struct("BlockProfile").field("size_bytes", &size).finish_non_exhaustive()
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
        // Blocks past the code are not the code's.
        let past = BlockProfile::from_ran(10, &RanBlocks::from_pcs([0, 12, 100]));
        assert_eq!(past.snapshot(), RanBlocks::from_pcs([0]));
    }

    #[test]
    fn a_profile_keeps_the_kinds_of_blocks_apart_and_the_interpreter_marks_both() {
        let ran = RanBlocks::from_kinds([0, 4], [4, 6]);
        let profile = BlockProfile::from_ran(10, &ran);
        assert_eq!(profile.ran(), Some(ran));
        profile.mark(4);
        assert!(!profile.has_grown(), "both kinds at 4 were there");
        profile.mark(6);
        assert!(profile.has_grown(), "the static kind at 6 is new");
        assert_eq!(profile.ran(), Some(RanBlocks::from_kinds([0, 4, 6], [4, 6])));
        // What the code stores into a recording profile: the byte of a block's key.
        let recorded = BlockProfile::new(10);
        let (bytes, len) = recorded.buffer().expect("a recording profile");
        assert_eq!(len, 20, "two bytes per byte of code");
        // SAFETY: within the profile's 20 bytes, which outlive the write.
        unsafe { bytes.add(key(3, true)).write(1) };
        assert_eq!(recorded.snapshot(), RanBlocks::from_kinds([], [3]));
        recorded.mark(7);
        assert_eq!(recorded.snapshot(), RanBlocks::from_kinds([7], [3, 7]));
    }

    #[test]
    fn a_profile_only_the_interpreter_marks_holds_two_bits_per_byte_of_code() {
        let len = 24_576;
        let ran = RanBlocks::from_kinds([0, 100], [100, len - 1]);
        let profile = BlockProfile::from_ran(len, &ran);
        assert_eq!(profile.size_bytes(), len / 4);
        assert!(profile.buffer().is_none(), "no code stores into it");
        assert_eq!(profile.snapshot(), ran);
        profile.mark(len - 1);
        profile.mark(len); // past the code: nothing
        let widened = RanBlocks::from_kinds([0, 100, len - 1], [100, len - 1]);
        assert_eq!(profile.snapshot(), widened);
        assert_eq!(BlockProfile::new(len).size_bytes(), 2 * len);
    }
}
