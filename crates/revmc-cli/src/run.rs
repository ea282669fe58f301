//! `revmc run`: one frame, in the interpreter, the JIT, or from (and into) an AOT store.

use crate::code;
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use revm::primitives::keccak256;
use revmc_runtime::harness::Oracle;
use revmc_runtime::harness::{ExecutionOutcome, execute};
use revmc_runtime::store::FsStore;
use revmc_runtime::{
    CompileMode, JitProgram, OptLevel, Runtime, RuntimeCacheKey, RuntimeConfig, SyncCompiler,
    Tuning,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the frame runs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// revm's interpreter.
    Interp,
    /// Compiled in this process.
    Jit,
    /// From the AOT store at `--store`, compiled and stored there first if missing.
    Aot,
}

#[derive(Args)]
pub struct RunArgs {
    /// The bytecode: hex, or @FILE.
    #[arg(long)]
    code: String,
    /// Call data: hex, or @FILE.
    #[arg(long, default_value = "")]
    calldata: String,
    #[arg(long, value_enum, default_value = "jit")]
    mode: Mode,
    /// The fork (cancun, prague, osaka, …).
    #[arg(long, default_value = "osaka")]
    spec: String,
    /// The AOT store (created if missing); required with `--mode aot`.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Gas limit of the frame.
    #[arg(long, default_value_t = 30_000_000)]
    gas: u64,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let code = code::bytes(&args.code)?;
    let calldata = if args.calldata.is_empty() { Vec::new() } else { code::bytes(&args.calldata)? };
    let spec = code::spec(&args.spec)?;
    let (outcome, compile, elapsed, note) = match args.mode {
        Mode::Interp => {
            let t = Instant::now();
            let out = Oracle::new(&code, spec).run(&calldata, args.gas);
            (out, Duration::ZERO, t.elapsed(), String::new())
        }
        Mode::Jit => {
            let mut compiler = SyncCompiler::new(OptLevel::O2)?;
            let t = Instant::now();
            let program = JitProgram::compile(&mut compiler, &code, spec)?;
            let compile = t.elapsed();
            let t = Instant::now();
            let out = program.run(&calldata, args.gas);
            (out, compile, t.elapsed(), String::new())
        }
        Mode::Aot => {
            let Some(dir) = &args.store else { bail!("--mode aot needs --store DIR") };
            let store = Arc::new(FsStore::open(dir).with_context(|| crate::shown(dir))?);
            let config = RuntimeConfig {
                mode: CompileMode::Aot,
                store: Some(store),
                preload: false,
                tuning: Tuning { min_loop_free_instructions: 0, ..Tuning::default() },
                ..RuntimeConfig::default()
            };
            let rt = Runtime::new(config)?;
            let key = RuntimeCacheKey::new(keccak256(&code), spec);
            let t = Instant::now();
            let mut prepared = rt.prepare_aot(&[(key, code.clone().into())]);
            let program = prepared.remove(0)?;
            let compile = t.elapsed();
            let s = rt.stats();
            let note = if s.aot_loaded > s.aot_stored {
                "loaded from the store"
            } else {
                "compiled and stored"
            };
            let t = Instant::now();
            // SAFETY: the store's program was compiled from `code` for `spec` (the key
            // names both), and `program` keeps it loaded for the call.
            let out = unsafe { execute(program.entry(), &code, spec, &calldata, args.gas) };
            (out, compile, t.elapsed(), format!(" ({note})"))
        }
    };
    print(&outcome, args.gas, compile, elapsed, &note);
    Ok(ExitCode::SUCCESS)
}

fn print(out: &ExecutionOutcome, gas: u64, compile: Duration, elapsed: Duration, note: &str) {
    println!("status:   {:?}", out.result);
    println!("gas used: {}", gas - out.gas_remaining);
    if out.gas_refunded != 0 {
        println!("refunded: {}", out.gas_refunded);
    }
    println!("output:   0x{}", revm::primitives::hex::encode(&out.output));
    if !compile.is_zero() {
        println!("compile:  {compile:.1?}{note}");
    }
    println!("time:     {elapsed:.1?}");
}
