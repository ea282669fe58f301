//! Where compilations write their IR, LLVM IR and assembly for debugging: the directory
//! set for the calling thread with [`with_dump_dir`] (the worker does, from
//! `Tuning::dump_dir`), else `$REVMC_DUMP_DIR`, else nowhere.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    static DUMP_DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Runs `f` with compilations on this thread dumping into `dir` (`None`: the environment
/// decides), then restores the previous setting.
pub fn with_dump_dir<R>(dir: Option<&Path>, f: impl FnOnce() -> R) -> R {
    let previous = DUMP_DIR.with(|d| d.replace(dir.map(Path::to_path_buf)));
    // Restored on unwind too: a compile panic is caught further up the same thread.
    struct Restore(Option<PathBuf>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DUMP_DIR.with(|d| *d.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The directory compilations on this thread dump into, if any. Created on first use;
/// failures are logged, and nothing is dumped then.
pub(crate) fn dump_dir() -> Option<PathBuf> {
    let dir = DUMP_DIR
        .with(|d| d.borrow().clone())
        .or_else(|| std::env::var_os("REVMC_DUMP_DIR").map(PathBuf::from))?;
    match std::fs::create_dir_all(&dir) {
        Ok(()) => Some(dir),
        Err(e) => {
            tracing::warn!("dump directory {}: {e}", dir.display());
            None
        }
    }
}
