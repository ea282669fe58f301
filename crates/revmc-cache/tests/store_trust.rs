//! The store trusts only what it has checked: a directory others may write is refused at
//! open; a symlinked, group-writable or oversized file is never loaded; a FIFO never
//! blocks a load or the key listing; stale temporaries are swept; two libraries loaded at
//! once stay distinct (each through its own descriptor).

mod common;

use revmc_cache::store::{ArtifactKey, ArtifactStore, FsStore, Loaded, Manifest, StoreError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn code(n: u8) -> Vec<u8> {
    vec![0x60, n, 0x60, 2, 0x01, 0x00]
}

fn key(n: u8) -> ArtifactKey {
    common::key_of(&code(n))
}

fn store_one(store: &FsStore, n: u8) {
    let (bytes, symbol) = common::library(&code(n), &format!("evm_{n}"));
    store.store(&key(n), &bytes, &symbol).unwrap();
}

fn stored() -> (tempfile::TempDir, FsStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path().join("store")).unwrap();
    store_one(&store, 1);
    (dir, store)
}

fn library_path(store: &FsStore, n: u8) -> PathBuf {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(store.manifest_path(&key(n))).unwrap()).unwrap();
    store.root().join(manifest.library)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn discarded_because(store: &FsStore, why: &str) {
    match store.load(&key(1)).unwrap() {
        Loaded::Discarded(reason) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[test]
fn a_directory_others_can_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    FsStore::open(&root).unwrap();
    for mode in [0o777, 0o775, 0o757] {
        chmod(&root, mode);
        let err = FsStore::open(&root).unwrap_err();
        assert!(
            matches!(&err, StoreError::Untrusted { why, .. } if why.contains("writable")),
            "{err}"
        );
    }
    chmod(&root, 0o755);
    FsStore::open(&root).unwrap();
    // The quarantine directory is checked too.
    chmod(&root.join("quarantine"), 0o777);
    assert!(matches!(FsStore::open(&root), Err(StoreError::Untrusted { .. })));
}

#[test]
fn a_directory_of_another_user_is_refused() {
    // SAFETY: no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    let dir = tempfile::tempdir().unwrap();
    let path = if root_user {
        // As root, give a directory away; otherwise any root-owned one is another user's.
        let p = dir.path().join("theirs");
        std::fs::create_dir(&p).unwrap();
        chmod(&p, 0o755);
        std::os::unix::fs::chown(&p, Some(12345), Some(12345)).unwrap();
        p
    } else {
        PathBuf::from("/")
    };
    let err = FsStore::open(&path).unwrap_err();
    assert!(matches!(&err, StoreError::Untrusted { why, .. } if why.contains("owned by")), "{err}");
}

#[test]
fn a_symlink_to_a_valid_library_is_not_followed() {
    let (_dir, store) = stored();
    let lib = library_path(&store, 1);
    // The very same bytes, reached through a symlink: still refused.
    let elsewhere = store.root().join("elsewhere.bin");
    std::fs::rename(&lib, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &lib).unwrap();
    discarded_because(&store, "symbolic link");
}

#[test]
fn a_group_writable_library_is_not_loaded() {
    let (_dir, store) = stored();
    chmod(&library_path(&store, 1), 0o664);
    discarded_because(&store, "writable by others");
}

#[test]
fn an_oversized_manifest_is_refused_without_reading_it() {
    let (_dir, store) = stored();
    let f = std::fs::OpenOptions::new().write(true).open(store.manifest_path(&key(1))).unwrap();
    f.set_len(1 << 30).unwrap(); // sparse: a gigabyte that is never read
    discarded_because(&store, "over");
}

#[test]
fn a_fifo_in_place_of_a_manifest_never_blocks() {
    let (_dir, store) = stored();
    let manifest = store.manifest_path(&key(1));
    std::fs::remove_file(&manifest).unwrap();
    let c = std::ffi::CString::new(manifest.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    let s = store.clone();
    std::thread::spawn(move || {
        let keys = s.keys().map(|k| k.len());
        let _ = tx.send((format!("{:?}", s.load(&key(1))), keys.ok()));
    });
    // Opening a FIFO for reading blocks until a writer comes; the store must not.
    let (loaded, keys) = rx.recv_timeout(Duration::from_secs(10)).expect("load returned");
    assert!(loaded.contains("not a regular file"), "{loaded}");
    assert_eq!(keys, Some(0));
}

#[test]
fn stale_temporaries_are_swept_at_open() {
    let (_dir, store) = stored();
    let (old, new) = (store.root().join(".tmp-crashed"), store.root().join(".tmp-live"));
    for p in [&old, &new] {
        std::fs::write(p, b"partial").unwrap();
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(hour_ago).unwrap();
    FsStore::open(store.root()).unwrap();
    assert!(!old.exists(), "a crashed writer's temporary is removed");
    assert!(new.exists(), "a live writer's is kept");
}

#[test]
fn two_libraries_loaded_at_once_stay_distinct() {
    let (_dir, store) = stored();
    store_one(&store, 2);
    let Loaded::Hit(one) = store.load(&key(1)).unwrap() else { panic!("1 not loaded") };
    let Loaded::Hit(two) = store.load(&key(2)).unwrap() else { panic!("2 not loaded") };
    assert_ne!(one.entry() as usize, two.entry() as usize);
    drop(one);
    let Loaded::Hit(again) = store.load(&key(1)).unwrap() else { panic!("1 not reloaded") };
    assert_ne!(again.entry() as usize, two.entry() as usize);
}
