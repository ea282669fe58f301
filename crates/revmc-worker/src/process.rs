//! Compilations in a child process: LLVM's work for a JIT job runs in a process of its own,
//! which the worker kills at the job's deadline, and whose crash (an LLVM abort on some
//! input, a stack overflow) fails one compilation instead of the node.
//!
//! The worker translates the code first (`compile.rs`), so refusals (`TooLarge`,
//! `Unprofitable`, `LimitExceeded`) are decided and typed as always. The child gets the
//! bytecode and the settings on standard input, translates again (translation is
//! deterministic), and writes back one header line and the relocatable object
//! ([`JitCompiler::emit_object`]); the worker links the object into its own compiler's
//! dylib ([`JitCompiler::link_object`]). The child is [`serve`], run by an executable the
//! embedder names ([`CompileProcess`]); the `revmc` binary's is `revmc compile-job`. A
//! child of another build refuses the request: its code could assume another ABI.

use crate::CompileError;
use revmc_ir::{Limits, OptLevel, RanBlocks, SpecId, translate_profiled};
use revmc_llvm::{JitCompiler, JitFunction, PhaseTimes};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The executable that compiles in a child process: it must call [`serve`] on its standard
/// input and output when run with `args`, and be of this build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileProcess {
    /// The executable; a bare name is looked up in `PATH`.
    pub program: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
}

/// Where a job compiles in a child: the executable, the deadline past which the child is
/// killed (`None`: none), and the directory it dumps its stages to (`Tuning::dump_dir`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct InChild<'a> {
    pub process: &'a CompileProcess,
    pub deadline: Option<Duration>,
    pub dump_dir: Option<&'a Path>,
}

/// What the child compiles.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    /// The parent's `revmc_llvm::build_id()`: the child refuses another.
    build: String,
    code: alloy_primitives::Bytes,
    spec: u8,
    level: OptLevel,
    limits: Limits,
    /// The blocks to compile, if not all (`Profiling::Compile`).
    ran: Option<RanBlocks>,
    symbol: String,
    /// Where the parent's compilations dump their stages, if anywhere.
    dump_dir: Option<PathBuf>,
}

/// The child's header line: the object's length and the backend's phase times, or why
/// it failed. The object's bytes follow the line.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Object { len: usize, lower_ns: u64, optimize_ns: u64, codegen_ns: u64 },
    Failed(String),
}

/// The longest header line read from a child.
const MAX_HEADER: u64 = 4096;
/// The largest object read from a child: a 24 KiB contract's is under 1 MiB.
const MAX_OBJECT: usize = 64 << 20;
/// The most of a child's standard error kept for the error message.
const STDERR_TAIL: usize = 2048;

/// Compiles `code` for `spec` in a child process and links the object into `compiler` as
/// a function named after `symbol_name`. Once the child has worked the deadline (time it
/// waits for a core left out: `work_clock.rs`), it and everything it started are killed:
/// [`CompileError::Timeout`].
pub(crate) fn compile_in_child(
    child: InChild<'_>,
    compiler: &mut JitCompiler,
    symbol_name: &str,
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
    ran: Option<&RanBlocks>,
) -> Result<JitFunction, CompileError> {
    let symbol = compiler.reserve_symbol(symbol_name);
    let request = Request {
        build: revmc_llvm::build_id(),
        code: code.to_vec().into(),
        spec: spec as u8,
        level: compiler.opt_level(),
        limits: *limits,
        ran: ran.cloned(),
        symbol: symbol.clone(),
        dump_dir: child.dump_dir.map(Path::to_path_buf),
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        CompileError::Backend(format!("compile process: {what}: {e}").into())
    };
    let request = serde_json::to_vec(&request).map_err(|e| failed("request", &e))?;
    let program = child.process.program.display();
    let spawned = Command::new(&child.process.program)
        .args(&child.process.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own, killed whole: nothing it starts outlives the deadline or
        // holds its pipes open.
        .process_group(0)
        .spawn()
        .map_err(|e| failed(&format!("starting {program}"), &e))?;
    let mut running = Running(Some(spawned));
    let process = running.0.as_mut().expect("set above");
    let pipes = (process.stdin.take(), process.stdout.take(), process.stderr.take());
    let (Some(mut stdin), Some(stdout), Some(stderr)) = pipes else {
        return Err(failed("pipes", &"not opened"));
    };
    // The request is written and the reply read on threads of their own, so that the
    // deadline holds however the child behaves (one that never reads its input blocks a
    // write past the pipe's buffer): killing the group closes the pipes and ends both.
    let (tx, rx) = crossbeam_channel::bounded(1);
    let io = std::thread::Builder::new()
        .name("revmc-compile-child".into())
        .spawn(move || {
            // A child that stops reading early is reported by its reply.
            let _ = stdin.write_all(&request).and_then(|()| stdin.flush());
            drop(stdin);
            let _ = tx.send(read_reply(stdout));
        })
        .map_err(|e| failed("thread", &e))?;
    let errors = std::thread::Builder::new()
        .name("revmc-compile-stderr".into())
        .spawn(move || stderr_tail(stderr))
        .map_err(|e| failed("thread", &e))?;
    // The child's work, as a compile thread's: waiting for a core does not count.
    let clock = crate::work_clock::WorkClock::of_process(process.id());
    let reply = match child.deadline {
        Some(after) => {
            crate::work_clock::recv_within(&rx, after, clock.as_ref()).map_err(|e| match e {
                crossbeam_channel::RecvTimeoutError::Timeout => CompileError::Timeout { after },
                crossbeam_channel::RecvTimeoutError::Disconnected => failed("reply", &e),
            })
        }
        None => rx.recv().map_err(|e| failed("reply", &e)),
    };
    // Done with the child either way: a complete reply needs nothing more from it. Its CPU
    // time counts in the compilation's (read before it is killed and reaped).
    if let Some(cpu) = clock.as_ref().and_then(crate::work_clock::WorkClock::cpu) {
        crate::work_clock::add_child_cpu(cpu);
    }
    let status = running.end();
    let _ = io.join();
    let stderr = errors.join().unwrap_or_default();
    match reply? {
        Ok((object, phases)) => {
            // SAFETY: the object was emitted by a child of this build (it checks
            // `build_id`) for this compiler's level, from this code's translation.
            Ok(unsafe { compiler.link_object(&object, &symbol, phases) }?)
        }
        Err(message) => {
            let status = status.map_or_else(|| "status unknown".to_owned(), |s| s.to_string());
            let stderr = stderr.trim();
            let stderr = if stderr.is_empty() { String::new() } else { format!("; {stderr}") };
            Err(CompileError::Backend(
                format!("compile process ({status}): {message}{stderr}").into(),
            ))
        }
    }
}

/// The child while it may run: killed with its group and reaped when ended or dropped, so
/// that no path leaves a compiling process behind, running or unreaped.
struct Running(Option<Child>);

impl Running {
    /// Kills the child's group and reaps the child; how it ended (its own exit status if
    /// it had already exited).
    fn end(&mut self) -> Option<ExitStatus> {
        let mut child = self.0.take()?;
        // The group before reaping: until then the child's pid, which names the group,
        // cannot be reused by another process.
        if !kill_group(&child) {
            let _ = child.kill();
        }
        child.wait().ok()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.end();
    }
}

/// Kills every process of `child`'s group (it leads one of its own); whether the signal
/// was sent.
fn kill_group(child: &Child) -> bool {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else { return false };
    // SAFETY: `kill` with a negative pid signals that process group and touches no memory.
    // The group is the child's own (`process_group(0)`), so only its processes are hit.
    unsafe { libc::kill(-pid, libc::SIGKILL) == 0 }
}

/// Reads the header line and the object it announces.
fn read_reply(stdout: impl Read) -> Result<(Vec<u8>, PhaseTimes), String> {
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    (&mut stdout).take(MAX_HEADER).read_line(&mut line).map_err(|e| e.to_string())?;
    let reply: Reply = serde_json::from_str(line.trim_end())
        .map_err(|e| format!("no reply ({e}): the process ended or wrote something else"))?;
    match reply {
        Reply::Object { len, lower_ns, optimize_ns, codegen_ns } => {
            if len > MAX_OBJECT {
                return Err(format!("an object of {len} bytes"));
            }
            let mut object = vec![0; len];
            stdout.read_exact(&mut object).map_err(|e| format!("object: {e}"))?;
            let phases = PhaseTimes {
                lower: Duration::from_nanos(lower_ns),
                optimize: Duration::from_nanos(optimize_ns),
                codegen: Duration::from_nanos(codegen_ns),
                ..PhaseTimes::default()
            };
            Ok((object, phases))
        }
        Reply::Failed(message) => Err(message),
    }
}

/// The last [`STDERR_TAIL`] bytes the child wrote to its standard error (an LLVM abort's
/// message, a panic), read to its end so that the child never blocks on a full pipe.
fn stderr_tail(mut stderr: impl Read) -> String {
    let mut tail = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stderr.read(&mut buf) {
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// The child's side: reads one request from `input`, compiles it, and writes the reply
/// and the object to `output`. Errors of the compilation are replies; an `Err` means
/// `output` could not be written.
pub fn serve(input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let (header, object) = match compile_request(input) {
        Ok((object, phases)) => {
            let nanos = |d: Duration| d.as_nanos().min(u64::MAX as u128) as u64;
            let header = Reply::Object {
                len: object.len(),
                lower_ns: nanos(phases.lower),
                optimize_ns: nanos(phases.optimize),
                codegen_ns: nanos(phases.codegen),
            };
            (header, object)
        }
        Err(message) => (Reply::Failed(message), Vec::new()),
    };
    serde_json::to_writer(&mut output, &header)?;
    output.write_all(b"\n")?;
    output.write_all(&object)?;
    output.flush()
}

/// Reads, checks and compiles one request: the object and the backend's phase times.
fn compile_request(mut input: impl Read) -> Result<(Vec<u8>, PhaseTimes), String> {
    let mut request = Vec::new();
    // Far more than any request: the bytecode is bounded by the parent's limits, and a
    // 24 KiB contract's request is about 50 KB.
    (&mut input).take(1 << 24).read_to_end(&mut request).map_err(|e| e.to_string())?;
    let request: Request = serde_json::from_slice(&request).map_err(|e| e.to_string())?;
    let build = revmc_llvm::build_id();
    if request.build != build {
        return Err(format!("the compile process is build {build}, the worker {}", request.build));
    }
    let spec = SpecId::try_from_u8(request.spec).ok_or("unknown spec")?;
    let func = translate_profiled(&request.code, spec, &request.limits, request.ran.as_ref())
        .map_err(|e| e.to_string())?;
    let mut compiler = JitCompiler::new(request.level).map_err(|e| e.to_string())?;
    compiler.set_chunk_cost(request.limits.first_tier_chunk_cost);
    revmc_llvm::with_dump_dir(request.dump_dir.as_deref(), || {
        crate::catch_compile_panic(|| Ok(compiler.emit_object(&func, &request.symbol)?))
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(build: String) -> Vec<u8> {
        let request = Request {
            build,
            code: vec![0x5f, 0x5f, 0xf3].into(),
            spec: SpecId::CANCUN as u8,
            level: OptLevel::O1,
            limits: Limits::default(),
            ran: None,
            symbol: "f_0".into(),
            dump_dir: None,
        };
        serde_json::to_vec(&request).unwrap()
    }

    /// What [`serve`] answers to `input`.
    fn served(input: &[u8]) -> Result<(Vec<u8>, PhaseTimes), String> {
        let mut output = Vec::new();
        serve(input, &mut output).unwrap();
        read_reply(&output[..])
    }

    #[test]
    fn the_child_compiles_a_request_of_its_build_and_refuses_another() {
        let (object, phases) = served(&request(revmc_llvm::build_id())).expect("an object");
        assert_eq!(&object[..4], b"\x7fELF", "a relocatable object");
        assert!(phases.codegen > Duration::ZERO);
        let refused = served(&request("another build".into())).unwrap_err();
        assert!(refused.contains("another build"), "{refused}");
        let garbage = served(b"{ not json").unwrap_err();
        assert!(!garbage.is_empty());
    }
}
