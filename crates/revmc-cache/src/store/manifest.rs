//! The manifest written beside each library.

use super::ArtifactKey;
use serde::{Deserialize, Serialize};

/// Describes one stored library; written after the library, so its presence commits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// What the library is valid for.
    pub key: ArtifactKey,
    /// The exported EVM function.
    pub symbol: String,
    /// File name of the library, beside the manifest.
    pub library: String,
    /// Size of the library in bytes.
    pub library_size: u64,
    /// Keccak-256 of the library's bytes, hex.
    pub checksum: String,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
}
