//! Compile threads yield to execution: a lower CPU priority.
//!
//! A node compiles in the background on the cores it also executes blocks on. When cores
//! are short, a compile thread at the executor's priority takes half a core from it for
//! as long as LLVM runs (up to seconds). Worker and compile threads therefore run at a
//! higher nice value ([`lowered_from_current`], set by [`set_current_thread_nice`]): the
//! scheduler gives them what execution leaves, and their deadlines do not count the time
//! they wait for a core (`work_clock.rs`).
//!
//! Nice values are per thread on Linux only; elsewhere threads keep the process's.

/// The nice value `increment` above the calling thread's (at most 19, the lowest
/// priority), for the threads it starts: `None` if that is its own, or where threads have
/// no nice value of their own.
pub(crate) fn lowered_from_current(increment: u8) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let current = current_thread_nice();
        Some((current + i32::from(increment)).min(19)).filter(|&n| n != current)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = increment;
        None
    }
}

/// Sets the calling thread's nice value (`None`: keeps it). Failing that (a sandbox may
/// refuse it), the thread keeps its priority.
pub(crate) fn set_current_thread_nice(nice: Option<i32>) {
    #[cfg(target_os = "linux")]
    if let Some(nice) = nice {
        // On Linux `PRIO_PROCESS` with id 0 is the calling thread, not the whole process.
        // SAFETY: `setpriority` takes integers and touches no memory.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
            tracing::warn!(nice, "could not lower a compile thread's CPU priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The nice value of the calling thread.
#[cfg(target_os = "linux")]
fn current_thread_nice() -> i32 {
    // SAFETY: `getpriority` takes integers and touches no memory.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_lowered_thread_runs_at_a_higher_nice_value() {
        let before = current_thread_nice();
        let lowered = lowered_from_current(5);
        assert_eq!(lowered, Some((before + 5).min(19)).filter(|&n| n != before));
        assert_eq!(lowered_from_current(0), None);
        // A thread started by a lowered one is set to the same value, not lowered again.
        let nested = std::thread::spawn(move || {
            set_current_thread_nice(lowered);
            std::thread::spawn(move || {
                set_current_thread_nice(lowered);
                current_thread_nice()
            })
            .join()
        })
        .join()
        .expect("the thread ends")
        .expect("the thread ends");
        assert_eq!(nested, (before + 5).min(19));
        // Other threads keep theirs.
        assert_eq!(current_thread_nice(), before);
    }
}
