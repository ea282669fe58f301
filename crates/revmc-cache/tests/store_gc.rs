//! `FsStore::gc`: the store, its orphans and `quarantine/` under a byte budget; old debris
//! goes first, then the least recently used artifacts; a live writer's young files stay.

mod common;

use revmc_cache::store::{ArtifactKey, ArtifactStore, FsStore, Loaded, Manifest};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

fn key(n: u8) -> ArtifactKey {
    common::key_of(&[0x60, n, 0x00])
}

fn store_one(store: &FsStore, n: u8) {
    let (bytes, symbol) = common::library(&[0x60, n, 0x00], &format!("gc_{n}"));
    store.store(&key(n), &bytes, &symbol).unwrap();
}

fn artifact_files(store: &FsStore, n: u8) -> (PathBuf, PathBuf) {
    let manifest = store.manifest_path(&key(n));
    let m: Manifest = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    (manifest, store.root().join(m.library))
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn age(p: &Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

#[test]
fn debris_then_the_least_recently_used_artifact_go_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    for n in 1..=3 {
        store_one(&store, n);
    }
    let hour = Duration::from_secs(3600);
    // Artifact 2 is the least recently used; 1 is older than 3 but is loaded now.
    age(&artifact_files(&store, 2).0, 2 * hour);
    age(&artifact_files(&store, 1).0, hour);
    assert!(matches!(store.load(&key(1)).unwrap(), Loaded::Hit(_)));
    // Debris: an old orphan library, a young one (a writer mid-way), a quarantined file.
    let (old_orphan, young_orphan) = (dir.path().join("old.so"), dir.path().join("young.so"));
    let quarantined = dir.path().join("quarantine").join("1-x.so");
    for p in [&old_orphan, &young_orphan, &quarantined] {
        std::fs::write(p, vec![0u8; 1000]).unwrap();
    }
    age(&old_orphan, hour);
    age(&quarantined, hour);

    let everything = store.gc(u64::MAX).unwrap();
    assert_eq!((everything.artifacts_removed, everything.debris_removed), (0, 0));
    let (m2, l2) = artifact_files(&store, 2);
    let budget = everything.bytes_before - 2000 - size(&m2) - size(&l2);
    let report = store.gc(budget).unwrap();
    assert_eq!((report.artifacts_removed, report.debris_removed), (1, 2), "{report:?}");
    assert!(report.bytes_after <= budget, "{report:?}");
    assert!(!old_orphan.exists() && !quarantined.exists() && young_orphan.exists());
    assert!(matches!(store.load(&key(2)).unwrap(), Loaded::Miss));
    for n in [1, 3] {
        assert!(matches!(store.load(&key(n)).unwrap(), Loaded::Hit(_)), "artifact {n} kept");
    }
    assert!(!l2.exists(), "the library went with its manifest");
}
