//! Deadlines that do not count the time a compilation waits for a core.
//!
//! Compile threads run at a lower priority (`priority.rs`): where cores are short, a
//! compilation that takes 100 ms of CPU may take seconds of wall time, and timing it out
//! then would refuse code for a busy machine rather than for costly code. A deadline
//! therefore counts the compilation's *work*: the CPU time of the compile thread (or
//! compile process), plus the time it spends blocked, neither running nor runnable, so
//! that one that hangs (a child that never reads its request) is still stopped at the
//! deadline. Time spent runnable but waiting for a core is what is left out.
//!
//! [`recv_within`] samples the target every [`POLL`]: the CPU time it used since the last
//! sample, and whether it is blocked now (its state in procfs). An interval that ends
//! with the target blocked counts whole; one that ends with it runnable counts its CPU
//! time. This is Linux's (`pthread_getcpuclockid`, `clock_getcpuclockid`, procfs);
//! elsewhere, or if either cannot be read, the deadline is wall time.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often a deadline's target is sampled.
const POLL: Duration = Duration::from_millis(50);

/// What a compile thread or process has worked: its CPU clock and its state in procfs.
#[derive(Debug, Clone)]
pub(crate) struct WorkClock {
    #[cfg(target_os = "linux")]
    clock: libc::clockid_t,
    /// Its `stat` file in procfs.
    stat: PathBuf,
}

impl WorkClock {
    /// The calling thread's, to be read from other threads while it lives.
    pub(crate) fn current_thread() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let mut clock: libc::clockid_t = 0;
            // SAFETY: `clock` is a valid place for the id; `pthread_self` is this thread.
            let found = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
            // SAFETY: `gettid` takes nothing and touches no memory.
            let tid = unsafe { libc::gettid() };
            let stat = PathBuf::from(format!("/proc/self/task/{tid}/stat"));
            (found == 0).then_some(Self { clock, stat })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Process `pid`'s (all its threads' CPU time; its main thread's state).
    pub(crate) fn of_process(pid: u32) -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let pid = libc::pid_t::try_from(pid).ok()?;
            let mut clock: libc::clockid_t = 0;
            // SAFETY: `clock` is a valid place for the id; `pid` is only a number here.
            let found = unsafe { libc::clock_getcpuclockid(pid, &mut clock) };
            let stat = PathBuf::from(format!("/proc/{pid}/stat"));
            (found == 0).then_some(Self { clock, stat })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = pid;
            None
        }
    }

    /// CPU time used so far, or `None` once the target is gone.
    pub(crate) fn cpu(&self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `t` is a valid place for the time; a stale clock id makes the call
            // fail (EINVAL), not touch memory.
            let read = unsafe { libc::clock_gettime(self.clock, &mut t) };
            let (secs, nanos) = (u64::try_from(t.tv_sec).ok()?, u32::try_from(t.tv_nsec).ok()?);
            (read == 0).then(|| Duration::new(secs, nanos))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Whether the target is running or waiting for a core (state `R`), or `None` if its
    /// state cannot be read.
    fn runnable(&self) -> Option<bool> {
        let stat = std::fs::read_to_string(&self.stat).ok()?;
        // The state follows the command, which is in parentheses and may contain any.
        let state = stat.get(stat.rfind(')')? + 2..)?.chars().next()?;
        Some(state == 'R')
    }
}

thread_local! {
    /// CPU time of the compile child processes this thread waited for, since the last
    /// [`cpu_of`] began.
    static CHILD_CPU: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Counts `cpu`, a compile child process's CPU time, in the [`cpu_of`] running on this
/// thread.
pub(crate) fn add_child_cpu(cpu: Duration) {
    CHILD_CPU.with(|c| c.set(c.get() + cpu));
}

/// Runs `f`; with the CPU time it used: the calling thread's, and that of the compile child
/// processes it waited for (zero where threads have no CPU clock).
pub(crate) fn cpu_of<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    CHILD_CPU.with(|c| c.set(Duration::ZERO));
    let before = current_thread_cpu();
    let value = f();
    let own = current_thread_cpu().zip(before).map_or(Duration::ZERO, |(a, b)| a.saturating_sub(b));
    (value, own + CHILD_CPU.with(|c| c.replace(Duration::ZERO)))
}

/// CPU time the calling thread has used, or `None` where threads have no clock.
fn current_thread_cpu() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid place for the time.
        let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        let (secs, nanos) = (u64::try_from(t.tv_sec).ok()?, u32::try_from(t.tv_nsec).ok()?);
        (read == 0).then(|| Duration::new(secs, nanos))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Waits for `rx` until the target of `clock` has worked `deadline` (see the module's
/// doc), or `deadline` of wall time without a clock or once it cannot be read.
pub(crate) fn recv_within<T>(
    rx: &Receiver<T>,
    deadline: Duration,
    clock: Option<&WorkClock>,
) -> Result<T, RecvTimeoutError> {
    let Some((clock, mut cpu)) = clock.and_then(|c| Some((c, c.cpu()?))) else {
        return rx.recv_timeout(deadline);
    };
    let mut worked = Duration::ZERO;
    loop {
        let left = deadline.saturating_sub(worked);
        if left.is_zero() {
            return Err(RecvTimeoutError::Timeout);
        }
        let interval = Instant::now();
        match rx.recv_timeout(left.min(POLL)) {
            Err(RecvTimeoutError::Timeout) => {}
            done => return done,
        }
        let (Some(now), Some(runnable)) = (clock.cpu(), clock.runnable()) else {
            // The target is gone (its reply is on its way, or never comes): wall time.
            return rx.recv_timeout(left.saturating_sub(interval.elapsed()));
        };
        worked += if runnable { now.saturating_sub(cpu) } else { interval.elapsed() };
        cpu = now;
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crossbeam_channel::bounded;

    /// Runs `work` on a thread whose clock a deadline of `deadline` watches; how long the
    /// wait took and whether it timed out.
    fn watch(deadline: Duration, work: fn()) -> (Duration, bool) {
        let (clock_tx, clock_rx) = bounded(1);
        let (done_tx, done_rx) = bounded::<()>(1);
        let thread = std::thread::spawn(move || {
            clock_tx.send(WorkClock::current_thread()).unwrap();
            work();
            let _ = done_tx.send(());
        });
        let clock = clock_rx.recv().unwrap().expect("a clock on Linux");
        let start = Instant::now();
        let waited = recv_within(&done_rx, deadline, Some(&clock));
        let took = start.elapsed();
        thread.join().unwrap();
        (took, waited.is_err())
    }

    fn spin(for_: Duration) {
        let start = Instant::now();
        while start.elapsed() < for_ {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_thread_that_computes_past_the_deadline_times_out() {
        let (took, timed_out) = watch(Duration::from_millis(150), || spin(Duration::from_secs(2)));
        assert!(timed_out);
        assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(1), "{took:?}");
    }

    #[test]
    fn a_blocked_thread_times_out_too() {
        let (took, timed_out) =
            watch(Duration::from_millis(150), || std::thread::sleep(Duration::from_secs(2)));
        assert!(timed_out);
        assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(1), "{took:?}");
    }

    #[test]
    fn the_cpu_of_a_computation_is_measured_and_sleep_is_not() {
        let ((), spun) = cpu_of(|| spin(Duration::from_millis(100)));
        let ((), slept) = cpu_of(|| std::thread::sleep(Duration::from_millis(100)));
        assert!(spun > Duration::from_millis(20) && spun <= Duration::from_millis(105), "{spun:?}");
        assert!(slept < Duration::from_millis(20), "{slept:?}");
        // A child's CPU time counts in the measurement it happened in, and only there.
        let ((), with_child) = cpu_of(|| add_child_cpu(Duration::from_secs(3)));
        assert!(with_child >= Duration::from_secs(3), "{with_child:?}");
        let ((), after) = cpu_of(|| ());
        assert!(after < Duration::from_millis(20), "{after:?}");
    }

    #[test]
    fn a_thread_that_ends_in_time_is_waited_for() {
        let (took, timed_out) = watch(Duration::from_secs(5), || spin(Duration::from_millis(100)));
        assert!(!timed_out && took < Duration::from_secs(5), "{took:?}");
    }
}
