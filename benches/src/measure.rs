//! Timing one program in the interpreter and the JIT: a differential check first, then
//! the median of batched samples, in nanoseconds per run.

use crate::programs::Program;
use anyhow::{Context, bail};
use revmc_llvm::JitCompiler;
use revmc_runtime::oracle::Oracle;
use revmc_runtime::store::{ArtifactKey, ArtifactStore, FsStore, Loaded};
use revmc_runtime::{
    CompiledProgram, ExecutionOutcome, InstructionResult, JitProgram, RuntimeCacheKey, SpecId,
    execute,
};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to warm up and sample each engine.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Warm-up time, also used to size the batches.
    pub warmup: Duration,
    /// Target duration of one sample (a batch of runs).
    pub sample: Duration,
    /// Number of samples; the median is reported.
    pub samples: usize,
}

impl Settings {
    /// About 0.8 s per program per engine.
    pub const FULL: Self =
        Self { warmup: Duration::from_millis(100), sample: Duration::from_millis(75), samples: 9 };
    /// A smoke run for CI: numbers are noisy.
    pub const QUICK: Self =
        Self { warmup: Duration::from_millis(5), sample: Duration::from_millis(10), samples: 3 };
}

/// AOT compilation for benchmarks: compile, link, store in a temporary artifact store, and
/// load back through the store's verification, as a node would.
#[derive(Debug)]
pub struct Aot {
    compiler: revmc_llvm::AotCompiler,
    store: FsStore,
    _dir: tempfile::TempDir,
    target: String,
}

impl Aot {
    /// An AOT compiler at `level` with an empty temporary store.
    pub fn new(level: revmc_llvm::OptLevel) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(Self {
            compiler: revmc_llvm::AotCompiler::new(level)?,
            store: FsStore::open(dir.path())?,
            _dir: dir,
            target: revmc_llvm::host_target_id(),
        })
    }

    /// Compiles `code` for `spec`, persists it and loads it back.
    pub fn load(&self, code: &[u8], spec: SpecId) -> anyhow::Result<CompiledProgram> {
        let key = RuntimeCacheKey::new(revm_interpreter::primitives::keccak256(code), spec);
        let artifact = ArtifactKey::current(key, &self.target, self.compiler.opt_level() as u8);
        let symbol = format!("bench_{}", artifact.id());
        let (library, _) = revmc_worker::compile_aot(
            &self.compiler,
            &symbol,
            code,
            spec,
            &revmc_ir::Limits::default(),
        )?;
        self.store.store(&artifact, &library.bytes, &library.symbol)?;
        match self.store.load(&artifact)? {
            Loaded::Hit(program) => Ok(program),
            other => bail!("the stored library did not load: {other:?}"),
        }
    }
}

/// Results for one program.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Program name.
    pub name: String,
    /// Interpreter time per run.
    pub interp_ns: f64,
    /// JIT time per run.
    pub jit_ns: f64,
    /// AOT time per run (a shared library loaded from the artifact store), when measured.
    pub aot_ns: Option<f64>,
    /// Backend compile time (lowering, passes, codegen), as reported by the JIT.
    pub compile_ms: f64,
    /// Gas used by one run.
    pub gas_used: u64,
}

/// Compiles `program`, checks that the JIT matches the interpreter, and times both.
///
/// Fails on a compile error, a mismatch, or a run that does not end in `RETURN`: no
/// numbers are reported for a program whose result is wrong.
pub fn measure(
    compiler: &mut JitCompiler,
    aot: &Aot,
    program: &Program,
    spec: SpecId,
    settings: Settings,
) -> anyhow::Result<Measurement> {
    let Program { name, ref code, ref calldata, gas_limit } = *program;
    let oracle = Oracle::new(code, spec);
    let jit = JitProgram::compile(compiler, code, spec)
        .with_context(|| format!("{name}: JIT compilation failed (code 0x{})", hex(code)))?;

    let expected = oracle.run(calldata, gas_limit);
    let got = jit.run(calldata, gas_limit);
    if got != expected {
        bail!(
            "{name}: JIT result differs from the interpreter\n{}",
            mismatch(program, &expected, &got)
        );
    }
    if expected.result != InstructionResult::Return {
        bail!("{name}: program ended with {:?}, expected Return", expected.result);
    }

    let interp_ns = ns_per_run(settings, || {
        black_box(oracle.run(black_box(calldata), black_box(gas_limit)));
    });
    let jit_ns = ns_per_run(settings, || {
        black_box(jit.run(black_box(calldata), black_box(gas_limit)));
    });
    let aot_program = aot.load(code, spec).with_context(|| format!("{name}: AOT"))?;
    // SAFETY: `aot_program` was compiled from `code` for `spec` and is alive below.
    let run_aot =
        |calldata, gas| unsafe { execute(aot_program.entry(), code, spec, calldata, gas) };
    let got = run_aot(calldata, gas_limit);
    if got != expected {
        bail!(
            "{name}: AOT result differs from the interpreter\n{}",
            mismatch(program, &expected, &got)
        );
    }
    let aot_ns = ns_per_run(settings, || {
        black_box(run_aot(black_box(calldata), black_box(gas_limit)));
    });
    Ok(Measurement {
        name: name.to_string(),
        interp_ns,
        jit_ns,
        aot_ns: Some(aot_ns),
        compile_ms: jit.compile_time().as_secs_f64() * 1e3,
        gas_used: gas_limit - expected.gas_remaining,
    })
}

/// Warms up, sizes a batch to last about `settings.sample`, and returns the median over
/// `settings.samples` batches of the time per run.
pub(crate) fn ns_per_run(settings: Settings, mut run: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut warm_runs = 0u64;
    while warm_runs == 0 || start.elapsed() < settings.warmup {
        run();
        warm_runs += 1;
    }
    let per_run = start.elapsed().as_secs_f64() / warm_runs as f64;
    let batch = ((settings.sample.as_secs_f64() / per_run).ceil() as u64).max(1);

    let mut samples: Vec<f64> = (0..settings.samples.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                run();
            }
            t.elapsed().as_secs_f64() * 1e9 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A field-by-field description of how `got` (JIT) differs from `expected` (interpreter),
/// with what is needed to reproduce it.
fn mismatch(program: &Program, expected: &ExecutionOutcome, got: &ExecutionOutcome) -> String {
    let mut s = String::new();
    let mut line = |field: &str, e: String, g: String| {
        if e != g {
            let _ = writeln!(s, "  {field}: interpreter {e}, jit {g}");
        }
    };
    line("result", format!("{:?}", expected.result), format!("{:?}", got.result));
    line("gas_remaining", expected.gas_remaining.to_string(), got.gas_remaining.to_string());
    line("stack", format!("{:?}", expected.stack), format!("{:?}", got.stack));
    line("output", format!("0x{}", hex(&expected.output)), format!("0x{}", hex(&got.output)));
    line("memory length", expected.memory.len().to_string(), got.memory.len().to_string());
    if let Some(i) = expected.memory.iter().zip(&got.memory).position(|(a, b)| a != b) {
        let _ = writeln!(
            s,
            "  memory: first difference at byte {i}: interpreter 0x{:02x}, jit 0x{:02x}",
            expected.memory[i], got.memory[i]
        );
    }
    let _ = writeln!(s, "  code: 0x{}", hex(&program.code));
    let _ = write!(s, "  calldata: 0x{}, gas limit {}", hex(&program.calldata), program.gas_limit);
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use revmc_runtime::U256;

    #[test]
    fn mismatch_names_differing_fields() {
        let program = Program { name: "t", code: vec![0x00], calldata: vec![0xab], gas_limit: 100 };
        let expected = ExecutionOutcome {
            result: InstructionResult::Return,
            gas_remaining: 7,
            gas_refunded: 0,
            stack: vec![U256::from(1)],
            memory: vec![0, 1, 2],
            output: vec![1],
        };
        let got = ExecutionOutcome { gas_remaining: 8, memory: vec![0, 1, 3], ..expected.clone() };
        let text = mismatch(&program, &expected, &got);
        assert!(text.contains("gas_remaining: interpreter 7, jit 8"), "{text}");
        assert!(text.contains("first difference at byte 2"), "{text}");
        assert!(text.contains("code: 0x00"), "{text}");
        assert!(!text.contains("result:"), "{text}");
        assert!(!text.contains("stack:"), "{text}");
    }
}
