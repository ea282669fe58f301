//! Entity references of the IR.
//!
//! Blocks, instructions and values are `u32` indices into the [`Function`]'s tables
//! rather than pointers: they are `Copy`, compare and hash cheaply, serialize trivially,
//! and a dangling reference is an out-of-range index the verifier can detect.
//!
//! [`Function`]: super::Function

use core::fmt;

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// Creates a reference from a table index.
            pub fn new(index: usize) -> Self {
                Self(u32::try_from(index).expect(concat!(stringify!($name), " index overflow")))
            }

            /// The table index.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

entity!(
    /// A basic block.
    Block,
    "block"
);
entity!(
    /// An instruction.
    Inst,
    "i"
);
entity!(
    /// An SSA value: the result of exactly one instruction.
    Value,
    "v"
);
