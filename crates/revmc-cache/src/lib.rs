//! `revmc-cache`: where compiled programs live.
//!
//! [`RuntimeCacheKey`] names a program (code hash and spec), [`CompiledProgram`] is one:
//! an entry point and an opaque backing whose drop frees the native code.
//! [`ResidentCache`] keeps programs in memory under a byte budget, evicting the least
//! recently used and the idle ones. [`store`] keeps AOT libraries on disk ([`store::FsStore`]),
//! verified by key, size, checksum and ABI version before they are loaded.
//!
//! Architecture invariant: this crate knows nothing about how code is compiled. A program
//! is shared as `Arc<CompiledProgram>`, so evicting one that another thread is running is
//! safe: the code is freed when the last `Arc` drops, never before.

mod key;
mod profile;
mod program;
mod resident;
pub mod store;

pub use key::RuntimeCacheKey;
pub use profile::BlockProfile;
pub use program::{CompiledProgram, ProgramKind, Tier};
pub use resident::{Insert, ResidentCache};
