//! A `ResourceTracker` for one compiled module.

use super::check;
use super::dylib::DylibGuard;
use llvm_sys::orc2::{
    LLVMOrcJITDylibCreateResourceTracker, LLVMOrcReleaseResourceTracker, LLVMOrcResourceTrackerRef,
    LLVMOrcResourceTrackerRemove,
};

/// Owns a resource tracker; dropping it frees everything added under it.
#[derive(Debug)]
pub(crate) struct Tracker(pub(crate) LLVMOrcResourceTrackerRef);

// SAFETY: resource trackers are operated on through the thread-safe ExecutionSession.
unsafe impl Send for Tracker {}
// SAFETY: as above.
unsafe impl Sync for Tracker {}

impl Tracker {
    pub(crate) fn new(dylib: &DylibGuard) -> Self {
        // SAFETY: the dylib is live while its guard is.
        Self(unsafe { LLVMOrcJITDylibCreateResourceTracker(dylib.dylib) })
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        // SAFETY: the tracker is live; after removal our reference is released once.
        unsafe {
            if let Err(e) = check(LLVMOrcResourceTrackerRemove(self.0)) {
                tracing::warn!("removing JIT code failed: {e}");
            }
            LLVMOrcReleaseResourceTracker(self.0);
        }
    }
}
