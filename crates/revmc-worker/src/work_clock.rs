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
//! with the target blocked counts whole (so a blocked target that also waited for a core
//! in that interval is charged that wait); one that ends with it runnable counts its CPU
//! time. A target that has exited (a child whose reply is being read) no longer counts:
//! the rest of the deadline is wall time. This is Linux's (`pthread_getcpuclockid`,
//! `clock_getcpuclockid`, procfs); elsewhere, or if either cannot be read, the deadline is
//! wall time. (The kernel's run-queue wait per task, `/proc/<tid>/schedstat`, would be
//! exact, but it reads zero where scheduler statistics are off, as on the VMs here.)

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often a deadline's target is sampled.
const POLL: Duration = Duration::from_millis(50);

/// What a compile thread or process has worked: its CPU clock and its state in procfs.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "made on Linux only"))]
pub(crate) struct WorkClock {
    #[cfg(target_os = "linux")]
    clock: libc::clockid_t,
    /// Its `stat` file in procfs.
    stat: PathBuf,
}

/// A target's state in procfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "read on Linux only"))]
enum State {
    /// Running, or waiting for a core (`R`).
    Runnable,
    /// Asleep, or waiting for I/O or a signal: neither running nor wanting a core.
    Blocked,
    /// Exited (`Z`, `X`): its work is done.
    Exited,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "made on Linux only"))]
impl WorkClock {
    /// The calling thread's, to be read from other threads while it lives.
    pub(crate) fn current_thread() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let mut clock: libc::clockid_t = 0;
            // SAFETY: `clock` is a valid place for the id; `pthread_self` is this thread.
            let found = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
            // `gettid` through `syscall`: the libc wrapper needs glibc 2.30.
            // SAFETY: `SYS_gettid` takes no argument and touches no memory.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
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
        return read_clock(self.clock);
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The target's state, or `None` if it cannot be read.
    fn state(&self) -> Option<State> {
        let stat = std::fs::read_to_string(&self.stat).ok()?;
        // The state follows the command, which is in parentheses and may contain any.
        Some(match stat.get(stat.rfind(')')? + 2..)?.chars().next()? {
            'R' => State::Runnable,
            'Z' | 'X' | 'x' => State::Exited,
            _ => State::Blocked,
        })
    }
}

/// The time on clock `clock`, or `None` if it cannot be read (a thread or process gone).
#[cfg(target_os = "linux")]
fn read_clock(clock: libc::clockid_t) -> Option<Duration> {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid place for the time. A stale clock id makes the call fail
    // (EINVAL) or, were a thread id reused, read another thread's clock; neither touches
    // other memory.
    let read = unsafe { libc::clock_gettime(clock, &mut t) };
    let (secs, nanos) = (u64::try_from(t.tv_sec).ok()?, u32::try_from(t.tv_nsec).ok()?);
    (read == 0).then(|| Duration::new(secs, nanos))
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
    return read_clock(libc::CLOCK_THREAD_CPUTIME_ID);
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
            // A reply sent since the last wait (the target then blocked, waiting for its
            // next job) is taken, not timed out.
            return rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            });
        }
        let interval = Instant::now();
        match rx.recv_timeout(left.min(POLL)) {
            Err(RecvTimeoutError::Timeout) => {}
            done => return done,
        }
        let (Some(now), Some(state)) = (clock.cpu(), clock.state()) else {
            // The target is gone (its reply is on its way, or never comes): wall time.
            return rx.recv_timeout(left.saturating_sub(interval.elapsed()));
        };
        worked += match state {
            State::Runnable => now.saturating_sub(cpu),
            State::Blocked => interval.elapsed(),
            // Its reply is being read: the rest of the deadline, in wall time.
            State::Exited => return rx.recv_timeout(left),
        };
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

    /// Computes until this thread has used `cpu` of CPU time (at most a minute of wall
    /// time), whatever its share of a core.
    fn spin(cpu: Duration) {
        let clock = WorkClock::current_thread().expect("a clock on Linux");
        let (start, wall) = (clock.cpu().expect("readable"), Instant::now());
        while clock.cpu().expect("readable") - start < cpu
            && wall.elapsed() < Duration::from_secs(60)
        {
            for _ in 0..1000 {
                std::hint::spin_loop();
            }
        }
    }

    #[test]
    fn a_thread_that_computes_past_the_deadline_times_out() {
        // Had it not timed out, the wait would have lasted the thread's 2 s of CPU.
        let (took, timed_out) = watch(Duration::from_millis(150), || spin(Duration::from_secs(2)));
        assert!(timed_out && took >= Duration::from_millis(150), "{took:?}");
    }

    #[test]
    fn a_blocked_thread_times_out_too() {
        let (took, timed_out) =
            watch(Duration::from_millis(150), || std::thread::sleep(Duration::from_secs(2)));
        assert!(timed_out && took >= Duration::from_millis(150), "{took:?}");
        assert!(took < Duration::from_secs(2), "waited for the sleep to end: {took:?}");
    }

    #[test]
    fn a_reply_waiting_at_the_deadline_is_taken() {
        // The target replied and blocked again: past the deadline, the reply still counts.
        let (tx, rx) = bounded(1);
        tx.send(7).unwrap();
        let clock = WorkClock::current_thread().expect("a clock on Linux");
        assert_eq!(recv_within(&rx, Duration::ZERO, Some(&clock)), Ok(7));
        assert_eq!(recv_within(&rx, Duration::ZERO, Some(&clock)), Err(RecvTimeoutError::Timeout));
    }

    #[test]
    fn the_cpu_of_a_computation_is_measured_and_sleep_is_not() {
        let ((), spun) = cpu_of(|| spin(Duration::from_millis(50)));
        let ((), slept) = cpu_of(|| std::thread::sleep(Duration::from_millis(100)));
        assert!(spun >= Duration::from_millis(50) && spun < Duration::from_secs(1), "{spun:?}");
        assert!(slept < Duration::from_millis(20), "{slept:?}");
        // A child's CPU time counts in the measurement it happened in, and only there.
        let ((), with_child) = cpu_of(|| add_child_cpu(Duration::from_secs(3)));
        assert!(with_child >= Duration::from_secs(3), "{with_child:?}");
        let ((), after) = cpu_of(|| ());
        assert!(after < Duration::from_millis(20), "{after:?}");
    }

    #[test]
    fn a_thread_that_ends_in_time_is_waited_for() {
        let (took, timed_out) = watch(Duration::from_secs(5), || spin(Duration::from_millis(50)));
        assert!(!timed_out, "{took:?}");
    }
}
