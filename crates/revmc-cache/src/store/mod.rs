//! The persistent artifact store: AOT shared libraries on disk, keyed by everything that
//! makes one valid for this process, verified before they are loaded.

mod fs;
mod gc;
mod key;
mod manifest;
mod trust;

pub use fs::FsStore;
pub use gc::GcReport;
pub use key::{ArtifactBuild, ArtifactKey, options_hash};
pub use manifest::Manifest;

use crate::CompiledProgram;

/// The result of looking an artifact up.
#[derive(Debug)]
pub enum Loaded {
    /// A verified, loaded program.
    Hit(CompiledProgram),
    /// No artifact for the key.
    Miss,
    /// An artifact was there but failed verification (corrupt, truncated, stale, wrong
    /// key or ABI); it was moved aside and must be recompiled. An artifact that is only
    /// unauthenticated (a store with an HMAC key) is refused and left in place.
    Discarded(String),
}

/// Why the store failed (I/O, not bad artifacts: those are [`Loaded::Discarded`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The path it was applied to.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The store directory may be written by someone else, who would choose the code
    /// this process runs.
    #[error("untrusted artifact store {path}: {why}")]
    Untrusted {
        /// The directory.
        path: std::path::PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// Where AOT artifacts live. Implementations must make a write all-or-nothing under the
/// key's name and verify an artifact (key, size, checksum, ABI) before loading it.
pub trait ArtifactStore: Send + Sync + std::fmt::Debug {
    /// Loads the artifact of `key`, verifying it first.
    fn load(&self, key: &ArtifactKey) -> Result<Loaded, StoreError>;
    /// Stores `library` (exporting `symbol`) under `key`.
    fn store(&self, key: &ArtifactKey, library: &[u8], symbol: &str) -> Result<(), StoreError>;
    /// Keys of every artifact whose manifest parses (for preloading).
    fn keys(&self) -> Result<Vec<ArtifactKey>, StoreError>;
    /// Deletes debris and least recently used artifacts until the store holds at most
    /// `budget` bytes. Stores without a size to manage do nothing.
    fn gc(&self, budget: u64) -> Result<GcReport, StoreError> {
        let _ = budget;
        Ok(GcReport::default())
    }
}
