//! Processes, not only threads: writer processes store one key while another process
//! keeps replacing its manifest with garbage and loading it (so it quarantines). They end
//! with one valid artifact, no library quarantined, and no temporary left behind.

mod common;

use revmc_cache::store::{ArtifactKey, ArtifactStore, FsStore, Loaded};
use std::path::Path;
use std::time::{Duration, Instant};

const ROLE: &str = "REVMC_STORE_PROCESS_ROLE";
const TEST: &str = "processes_storing_and_quarantining_one_key_end_with_one_valid_artifact";
const CODE: &[u8] = &[0x60, 1, 0x60, 2, 0x01, 0x00];

fn key() -> ArtifactKey {
    common::key_of(CODE)
}

/// One child: `writer` stores and loads; `garbler` garbles the manifest and loads it.
fn child(role: &str, dir: &Path) {
    let store = FsStore::open(dir.join("store")).unwrap();
    let library = std::fs::read(dir.join("library")).unwrap();
    let done = dir.join("garbler-done");
    for i in 0..150 {
        if role == "garbler" {
            let tmp = dir.join("store").join(format!(".garbled-{i}"));
            std::fs::write(&tmp, b"{ garbage").unwrap();
            std::fs::rename(&tmp, store.manifest_path(&key())).unwrap();
        } else {
            store.store(&key(), &library, "evm_processes").unwrap();
        }
        match store.load(&key()).unwrap() {
            Loaded::Hit(_) | Loaded::Miss | Loaded::Discarded(_) => {}
        }
    }
    if role == "garbler" {
        std::fs::write(&done, b"").unwrap();
        return;
    }
    // The last word is a writer's: once the garbler has stopped, store and load.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done.exists() {
        assert!(Instant::now() < deadline, "the garbler never finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    store.store(&key(), &library, "evm_processes").unwrap();
    assert!(matches!(store.load(&key()).unwrap(), Loaded::Hit(_)));
}

#[test]
fn processes_storing_and_quarantining_one_key_end_with_one_valid_artifact() {
    if let Ok(role) = std::env::var(ROLE) {
        let (role, dir) = role.split_once(':').expect("role:dir");
        return child(role, Path::new(dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path().join("store")).unwrap();
    let (library, _) = common::library(CODE, "evm_processes");
    std::fs::write(dir.path().join("library"), &library).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["writer", "writer", "writer", "garbler"]
        .iter()
        .map(|role| {
            std::process::Command::new(&exe)
                .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
                .env(ROLE, format!("{role}:{}", dir.path().display()))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child process failed");
    }
    assert!(matches!(store.load(&key()).unwrap(), Loaded::Hit(_)), "one valid artifact");
    let quarantined: Vec<_> = std::fs::read_dir(store.root().join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        quarantined.iter().all(|n| !n.ends_with(".so")),
        "no library quarantined: {quarantined:?}"
    );
    let left: Vec<_> = std::fs::read_dir(store.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(left.is_empty(), "temporaries left: {left:?}");
}
