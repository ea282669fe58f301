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
    /// HMAC-SHA256, hex, of the manifest without this field (which covers the library
    /// through its checksum), written by a store that has a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl Manifest {
    /// The MAC of this manifest (its `mac` field aside) under `key`.
    pub fn authenticator(&self, key: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let unsigned = Manifest { mac: None, ..self.clone() };
        let bytes = serde_json::to_vec(&unsigned).expect("manifests serialize");
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(&bytes);
        mac
    }
}
