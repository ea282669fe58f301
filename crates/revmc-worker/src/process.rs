//! Compilations in a child process: LLVM's work for a JIT job runs in a process of its own,
//! which the worker kills at the job's deadline, and whose crash (an LLVM abort on some
//! input, a stack overflow) fails one compilation instead of the node.
//!
//! The worker translates the code itself, so refusals (`TooLarge`, `Unprofitable`,
//! `LimitExceeded`) are decided and typed here as always. The child gets the bytecode and
//! the settings on standard input, translates again (translation is deterministic), and
//! writes back one header line and the relocatable object ([`JitCompiler::emit_object`]);
//! the worker links the object into its own compiler's dylib
//! ([`JitCompiler::link_object`]). The child is [`serve`], run by an executable the
//! embedder names ([`CompileProcess`]); the `revmc` binary's is `revmc compile-job`.

use crate::CompileError;
use revmc_ir::{Limits, OptLevel, SpecId, translate};
use revmc_llvm::{JitCompiler, JitFunction, PhaseTimes};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The executable that compiles in a child process: it must call [`serve`] on its standard
/// input and output when run with `args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileProcess {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
}

/// What the child compiles.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    code: alloy_primitives::Bytes,
    spec: u8,
    level: OptLevel,
    limits: Limits,
    symbol: String,
}

/// The child's header line: the object's length and the backend's phase times, or why
/// it failed. The object's bytes follow the line.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Object { len: usize, lower_ns: u64, optimize_ns: u64, codegen_ns: u64 },
    Failed(String),
}

/// The longest header line read from a child, and its largest object: a 24 KiB contract's
/// is under 1 MiB.
const MAX_HEADER: u64 = 4096;
const MAX_OBJECT: usize = 64 << 20;

/// Compiles `func` (translated from `code`) in a child process of `process` and links the
/// object into `compiler`. Past `deadline` the child is killed: [`CompileError::Timeout`].
pub(crate) fn compile_in_child(
    process: &CompileProcess,
    compiler: &mut JitCompiler,
    symbol_name: &str,
    code: &[u8],
    spec: SpecId,
    limits: &Limits,
    deadline: Option<Duration>,
) -> Result<JitFunction, CompileError> {
    let symbol = compiler.reserve_symbol(symbol_name);
    let request = Request {
        code: code.to_vec().into(),
        spec: spec as u8,
        level: compiler.opt_level(),
        limits: *limits,
        symbol: symbol.clone(),
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        CompileError::Backend(format!("compile process: {what}: {e}").into())
    };
    let child = Command::new(&process.program)
        .args(&process.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(&format!("starting {}", process.program.display()), &e))?;
    let mut child = KillOnDrop(Some(child));
    let running = child.0.as_mut().expect("set above");
    let (Some(mut stdin), Some(stdout)) = (running.stdin.take(), running.stdout.take()) else {
        return Err(failed("pipes", &"not opened"));
    };
    let request = serde_json::to_vec(&request).map_err(|e| failed("request", &e))?;
    // The request is written and the reply read on a thread of their own, so that the
    // deadline holds however the child behaves (one that never reads its input blocks a
    // write past the pipe's buffer): killing it closes the pipes and ends both.
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
    let reply = match deadline {
        Some(after) => rx.recv_timeout(after).map_err(|_| CompileError::Timeout { after }),
        None => rx.recv().map_err(|e| failed("reply", &e)),
    };
    // Done with the child either way: a complete reply needs nothing more from it, so it is
    // killed (if it has not exited) and reaped rather than waited on.
    let status = child.end();
    let _ = io.join();
    match reply? {
        Ok((object, phases)) => Ok(compiler.link_object(&object, &symbol, phases)?),
        Err(message) => {
            let status = status.map_or_else(|| "unknown status".to_owned(), |s| s.to_string());
            Err(CompileError::Backend(format!("compile process ({status}): {message}").into()))
        }
    }
}

/// Kills and reaps the child when ended or dropped: no path leaves a compiling process
/// behind, running or unreaped.
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    /// Kills the child if it still runs, reaps it, and returns how it ended.
    fn end(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.0.take()?;
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.end();
    }
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

/// The child's side: reads one request from `input`, compiles it, and writes the reply
/// and the object to `output`. Errors of the compilation are replies; an `Err` means
/// `output` could not be written.
pub fn serve(input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let reply = match compile_request(input) {
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
    serde_json::to_writer(&mut output, &reply.0)?;
    output.write_all(b"\n")?;
    output.write_all(&reply.1)?;
    output.flush()
}

fn compile_request(mut input: impl Read) -> Result<(Vec<u8>, PhaseTimes), String> {
    let mut request = Vec::new();
    // The request holds at most the longest bytecode the limits admit, in hex.
    (&mut input).take(1 << 24).read_to_end(&mut request).map_err(|e| e.to_string())?;
    let request: Request = serde_json::from_slice(&request).map_err(|e| e.to_string())?;
    let spec = SpecId::try_from_u8(request.spec).ok_or("unknown spec")?;
    let func = translate(&request.code, spec, &request.limits).map_err(|e| e.to_string())?;
    let mut compiler = JitCompiler::new(request.level).map_err(|e| e.to_string())?;
    compiler.set_chunk_cost(request.limits.first_tier_chunk_cost);
    crate::catch_compile_panic(|| Ok(compiler.emit_object(&func, &request.symbol)?))
        .map_err(|e| e.to_string())
}
