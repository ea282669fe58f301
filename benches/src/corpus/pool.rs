//! Child processes that compile contracts: `jobs` workers (this binary re-executed with
//! `--worker`), each given one contract at a time. A worker that does not answer within the
//! time bound is killed and its contract reported `timeout`; one that dies is reported
//! `crashed: <status>`; either way the next contract gets a fresh worker.

use super::eval::{Outcome, READY, REPLY};
use anyhow::Context;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How to start a worker and how long to wait for each answer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Arguments after `--worker`.
    pub worker_args: Vec<String>,
    pub timeout: Duration,
    pub jobs: usize,
}

/// How long a new worker may take to create its compiler.
const STARTUP: Duration = Duration::from_secs(60);

/// A running worker: its stdin, and its reply lines (read by a thread of their own).
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
}

impl Worker {
    fn spawn(args: &[String]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut child = Command::new(&exe)
            .arg("--worker")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting worker {}", exe.display()))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line.strip_prefix(REPLY) {
                    Some(reply) => {
                        if tx.send(reply.to_string()).is_err() {
                            break;
                        }
                    }
                    None => eprintln!("{line}"),
                }
            }
        });
        let mut worker = Self { child, stdin, replies };
        match worker.replies.recv_timeout(STARTUP) {
            Ok(ready) if ready == READY => Ok(worker),
            other => {
                worker.kill();
                anyhow::bail!("worker {} did not start: {other:?}", exe.display())
            }
        }
    }

    /// Sends `code` and waits up to `timeout` for the answer, and says whether the worker is still
    /// alive; if not (killed after the timeout, or dead), the outcome says why.
    fn evaluate(&mut self, code: &[u8], timeout: Duration) -> (Outcome, bool) {
        let start = Instant::now();
        let line = revm_interpreter::primitives::hex::encode(code);
        let sent = writeln!(self.stdin, "{line}").and_then(|()| self.stdin.flush());
        let reply = match sent {
            Ok(()) => self.replies.recv_timeout(timeout),
            Err(_) => Err(RecvTimeoutError::Disconnected),
        };
        let reason = match reply {
            Ok(reply) => match serde_json::from_str(&reply) {
                Ok(outcome) => return (outcome, true),
                Err(e) => {
                    self.kill();
                    format!("bad worker reply: {e}")
                }
            },
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                "timeout".to_string()
            }
            Err(RecvTimeoutError::Disconnected) => match self.child.wait() {
                Ok(status) => format!("crashed: {}", describe(status)),
                Err(e) => format!("crashed: {e}"),
            },
        };
        (Outcome::refused(reason, start.elapsed()), false)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes stdin, which ends the worker, and reaps it.
    fn finish(self) {
        let Self { mut child, stdin, replies } = self;
        drop(stdin);
        let _ = child.wait();
        drop(replies);
    }
}

/// `signal 11 (SIGSEGV)` or `exit status 3`.
fn describe(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            4 => " (SIGILL)",
            5 => " (SIGTRAP)",
            6 => " (SIGABRT)",
            7 => " (SIGBUS)",
            8 => " (SIGFPE)",
            9 => " (SIGKILL)",
            11 => " (SIGSEGV)",
            15 => " (SIGTERM)",
            _ => "",
        };
        return format!("signal {sig}{name}");
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// Evaluates every code in child processes, calling `done(index, outcome)` on this thread as
/// each finishes. Fails only if a worker cannot be started at all.
pub fn run(
    codes: &[&[u8]],
    settings: &Settings,
    mut done: impl FnMut(usize, Outcome),
) -> anyhow::Result<()> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for _ in 0..settings.jobs.min(codes.len()) {
            let tx = tx.clone();
            let next = &next;
            handles.push(scope.spawn(move || -> anyhow::Result<()> {
                let mut worker: Option<Worker> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(code) = codes.get(i) else { break };
                    let w = match worker.as_mut() {
                        Some(w) => w,
                        None => worker.insert(Worker::spawn(&settings.worker_args)?),
                    };
                    let (outcome, alive) = w.evaluate(code, settings.timeout);
                    if !alive {
                        worker = None;
                    }
                    if tx.send((i, outcome)).is_err() {
                        break;
                    }
                }
                if let Some(w) = worker {
                    w.finish();
                }
                Ok(())
            }));
        }
        drop(tx);
        for (i, outcome) in rx {
            done(i, outcome);
        }
        handles.into_iter().try_for_each(|h| h.join().expect("pool thread panicked"))
    })
}
