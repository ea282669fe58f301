//! Compile threads yield to execution: a lower CPU priority, and deadlines in CPU time.
//!
//! A node compiles in the background on the cores it also executes blocks on. When cores
//! are short, a compile thread at the executor's priority takes half a core from it for
//! as long as LLVM runs (up to seconds). Worker and compile threads therefore run at a
//! higher nice value ([`lowered_from_current`], set by [`set_current_thread_nice`]): the
//! scheduler gives them what execution leaves. Their deadlines then count the compile thread's own CPU time
//! ([`ThreadClock`]), not the wall clock: a compilation that waited for a core did no
//! work, and timing it out would refuse code for a busy machine rather than for costly
//! code.
//!
//! Both are Linux's (per-thread nice values, `pthread_getcpuclockid`). Elsewhere threads
//! keep the process's priority and deadlines are wall time.

use std::time::Duration;

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
    let Some(nice) = nice else { return };
    #[cfg(target_os = "linux")]
    {
        // On Linux `PRIO_PROCESS` with id 0 is the calling thread, not the whole process.
        // SAFETY: `setpriority` takes integers and touches no memory.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
            tracing::warn!(nice, "could not lower a compile thread's CPU priority");
        }
    }
}

/// The nice value of the calling thread.
#[cfg(target_os = "linux")]
fn current_thread_nice() -> i32 {
    // SAFETY: `getpriority` takes integers and touches no memory.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

/// The CPU-time clock of one thread, readable from any other while it lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadClock {
    #[cfg(target_os = "linux")]
    id: libc::clockid_t,
}

impl ThreadClock {
    /// The calling thread's clock, or `None` where threads have none.
    pub(crate) fn current() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let mut id: libc::clockid_t = 0;
            // SAFETY: `id` is a valid place for the clock id; `pthread_self` is this thread.
            let found = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
            (found == 0).then_some(Self { id })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// CPU time the thread has used, or `None` once it has exited.
    pub(crate) fn used(&self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `t` is a valid place for the time; a stale clock id makes the call
            // fail (EINVAL), not touch memory.
            let read = unsafe { libc::clock_gettime(self.id, &mut t) };
            (read == 0).then(|| Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_thread_clock_counts_cpu_time_not_waiting() {
        let used = std::thread::spawn(|| {
            let clock = ThreadClock::current().expect("a clock on Linux");
            let start = clock.used().expect("readable");
            std::thread::sleep(Duration::from_millis(200));
            let slept = clock.used().expect("readable") - start;
            let spin = Instant::now();
            while spin.elapsed() < Duration::from_millis(100) {
                std::hint::black_box(0u64);
            }
            let spun = clock.used().expect("readable") - start - slept;
            (slept, spun)
        })
        .join()
        .expect("the thread ends");
        let (slept, spun) = used;
        assert!(slept < Duration::from_millis(50), "200 ms asleep counted {slept:?}");
        // Spinning for 100 ms of wall time uses at most that much CPU time, and some.
        assert!(spun <= Duration::from_millis(105) && spun > Duration::ZERO, "spun {spun:?}");
    }

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
