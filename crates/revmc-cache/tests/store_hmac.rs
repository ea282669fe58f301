//! A store with an HMAC key loads only artifacts whose manifest it authenticates: not one
//! written without the key, nor under another key, nor one whose library an attacker
//! replaced (recomputing checksum and size, but not the MAC). Those are refused and left
//! in place.

mod common;

use alloy_primitives::keccak256;
use revmc_cache::store::{ArtifactKey, ArtifactStore, FsStore, Loaded, Manifest};

const CODE: &[u8] = &[0x60, 1, 0x60, 2, 0x01, 0x00];

fn key() -> ArtifactKey {
    common::key_of(CODE)
}

fn library(code: &[u8]) -> (Vec<u8>, String) {
    common::library(code, "evm_hmac")
}

fn refused(store: &FsStore) {
    match store.load(&key()).unwrap() {
        Loaded::Discarded(why) => assert!(why.contains("not authenticated"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(store.manifest_path(&key()).exists(), "left in place");
}

#[test]
fn only_authenticated_artifacts_load_under_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, symbol) = library(CODE);
    let plain = FsStore::open(dir.path()).unwrap();
    let keyed = plain.clone().with_hmac_key(b"shared secret".to_vec());
    let other = plain.clone().with_hmac_key(b"another secret".to_vec());

    plain.store(&key(), &bytes, &symbol).unwrap();
    refused(&keyed);
    keyed.store(&key(), &bytes, &symbol).unwrap();
    assert!(matches!(keyed.load(&key()).unwrap(), Loaded::Hit(_)));
    refused(&other);

    // An attacker with write access but no key swaps in another library and fixes the
    // manifest's checksum and size: the MAC no longer matches.
    let (evil, _) = library(&[0x60, 9, 0x00]);
    let path = keyed.manifest_path(&key());
    let mut m: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::write(keyed.root().join("evil.so"), &evil).unwrap();
    m.library = "evil.so".into();
    m.library_size = evil.len() as u64;
    m.checksum = keccak256(&evil).to_string();
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    refused(&keyed);
}
