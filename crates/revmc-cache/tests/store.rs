//! The filesystem artifact store: a stored library loads; every kind of damage (flipped
//! byte, truncation, a manifest for another key, a library of another ABI version) is
//! detected, moved aside and reported, never loaded; concurrent writers leave one valid
//! artifact.

mod common;

use alloy_primitives::keccak256;
use common::build;
use revmc_cache::store::{ArtifactBuild, ArtifactKey, ArtifactStore, FsStore, Loaded};
use revmc_cache::{ProgramKind, RuntimeCacheKey};
use revmc_ir::SpecId;
use revmc_llvm::build_id;

const CODE: &[u8] = &[0x60, 1, 0x60, 2, 0x01, 0x00];

fn key() -> ArtifactKey {
    common::key_of(CODE)
}

/// A real library compiled from `CODE`.
fn library() -> (Vec<u8>, String) {
    common::library(CODE, "evm_test")
}

fn stored() -> (tempfile::TempDir, FsStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let (bytes, symbol) = library();
    store.store(&key(), &bytes, &symbol).unwrap();
    (dir, store)
}

fn library_path(store: &FsStore) -> std::path::PathBuf {
    let manifest: revmc_cache::store::Manifest =
        serde_json::from_slice(&std::fs::read(store.manifest_path(&key())).unwrap()).unwrap();
    store.root().join(manifest.library)
}

fn quarantined(store: &FsStore) -> usize {
    std::fs::read_dir(store.root().join("quarantine")).unwrap().count()
}

/// Loading after damage: discarded with a reason mentioning `why`, moved aside, then a miss.
fn assert_discarded(store: &FsStore, why: &str) {
    match store.load(&key()).unwrap() {
        Loaded::Discarded(reason) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a discard, got {other:?}"),
    }
    assert!(quarantined(store) >= 1, "moved aside");
    assert!(matches!(store.load(&key()).unwrap(), Loaded::Miss), "and gone from its name");
}

#[test]
fn a_stored_library_loads() {
    let (_dir, store) = stored();
    let Loaded::Hit(program) = store.load(&key()).unwrap() else { panic!("not loaded") };
    assert_eq!(program.kind(), ProgramKind::Aot);
    assert_eq!(program.code_bytes() as u64, std::fs::metadata(library_path(&store)).unwrap().len());
    assert_eq!(store.keys().unwrap(), vec![key()]);
    // No temporary file is left behind.
    let names: Vec<_> =
        std::fs::read_dir(store.root()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(names.iter().all(|n| !n.to_string_lossy().starts_with(".tmp")), "{names:?}");
}

#[test]
fn a_missing_artifact_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    assert!(matches!(store.load(&key()).unwrap(), Loaded::Miss));
}

#[test]
fn a_flipped_byte_is_detected() {
    let (_dir, store) = stored();
    let path = library_path(&store);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    assert_discarded(&store, "checksum");
}

#[test]
fn a_truncated_library_is_detected() {
    let (_dir, store) = stored();
    let path = library_path(&store);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    assert_discarded(&store, "bytes");
}

#[test]
fn a_manifest_for_another_key_is_detected() {
    let (_dir, store) = stored();
    let path = store.manifest_path(&key());
    let text = std::fs::read_to_string(&path).unwrap();
    let abi = format!("\"abi_version\": {}", revmc_ir::abi::ABI_VERSION);
    assert!(text.contains(&abi), "{text}");
    std::fs::write(&path, text.replace(&abi, "\"abi_version\": 1")).unwrap();
    assert_discarded(&store, "another key");
}

#[test]
fn a_library_of_another_abi_version_is_detected() {
    // A well-formed library, correctly stored and checksummed, built for ABI version 1.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("old.c");
    std::fs::write(&src, "const unsigned revmc_abi_version = 1; void evm_test(void) {}\n").unwrap();
    let lib = dir.path().join("old.so");
    let ok = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap();
    assert!(ok.success());
    let store = FsStore::open(dir.path().join("store")).unwrap();
    store.store(&key(), &std::fs::read(&lib).unwrap(), "evm_test").unwrap();
    assert_discarded(&store, "ABI");
}

#[test]
fn a_garbled_manifest_is_detected() {
    let (_dir, store) = stored();
    std::fs::write(store.manifest_path(&key()), b"{ not json").unwrap();
    assert_discarded(&store, "manifest");
}

#[test]
fn concurrent_writers_leave_one_valid_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let (bytes, symbol) = library();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    store.store(&key(), &bytes, &symbol).unwrap();
                    // Readers racing writers see a whole artifact or none, never a bad one.
                    assert!(!matches!(store.load(&key()).unwrap(), Loaded::Discarded(_)));
                }
            });
        }
    });
    assert!(matches!(store.load(&key()).unwrap(), Loaded::Hit(_)));
    assert_eq!(quarantined(&store), 0);
}

#[test]
fn an_artifact_of_another_build_or_options_is_a_miss() {
    let (_dir, store) = stored();
    let k = RuntimeCacheKey::new(keccak256(CODE), SpecId::CANCUN);
    let id = build_id();
    // The id names the sources' hash and LLVM's version.
    let (hash, llvm) = id.split_once("-llvm").expect("hash-llvmX.Y.Z");
    assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert!(llvm.starts_with("22."), "{id}");
    let changed = [
        ArtifactBuild { build_id: format!("{:016x}-llvm{llvm}", 1), ..build() },
        ArtifactBuild { build_id: format!("{hash}-llvm21.1.0"), ..build() },
        ArtifactBuild { options_hash: 1, ..build() },
        ArtifactBuild { opt_level: 2, ..build() },
        ArtifactBuild { target: format!("{}+avx", build().target), ..build() },
    ];
    for b in changed {
        assert!(matches!(store.load(&ArtifactKey::new(k, &b)).unwrap(), Loaded::Miss), "{b:?}");
    }
    assert!(matches!(store.load(&ArtifactKey::new(k, &build())).unwrap(), Loaded::Hit(_)));
    assert_ne!(
        revmc_cache::store::options_hash("Limits { max_variants: 4 }"),
        revmc_cache::store::options_hash("Limits { max_variants: 5 }")
    );
}
