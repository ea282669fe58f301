//! `revmc compile`: one stage of compiling bytecode — revmc's IR, LLVM IR (optimized),
//! assembly, an object file or a shared library (what the AOT store holds).

use crate::code;
use anyhow::Context;
use clap::{Args, ValueEnum};
use revmc_ir::{Limits, TranslateError, translate};
use revmc_llvm::{AotCompiler, OptLevel};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// What to print or write.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// revmc's IR, after translation and its passes.
    Ir,
    /// LLVM IR after optimization.
    Llvm,
    /// Assembly.
    Asm,
    /// An ELF object.
    Obj,
    /// A shared library exporting the function, as the AOT store holds it.
    So,
}

#[derive(Args)]
pub struct CompileArgs {
    /// The bytecode: a file of hex or raw bytes (`-` for standard input's hex).
    file: String,
    #[arg(long, value_enum, default_value = "ir")]
    emit: Emit,
    /// The fork (cancun, prague, osaka, …).
    #[arg(long, default_value = "osaka")]
    spec: String,
    /// Optimization level, 0–3.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=3))]
    opt_level: u8,
    /// Write here instead of standard output (required for `obj` and `so` on a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Compile whatever the estimated compile time. By default code estimated past the
    /// limits (`Limits::max_compile_cost`, and `max_optimizing_cost` at levels 2 and 3) is
    /// refused, as the runtime refuses it.
    #[arg(long)]
    no_cost_limit: bool,
}

const SYMBOL: &str = "revmc_main";

pub fn compile(args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let code = if args.file == "-" {
        let mut text = String::new();
        std::io::stdin().read_line(&mut text)?;
        code::bytes(text.trim())?
    } else {
        code::bytes(&format!("@{}", args.file))?
    };
    let spec = code::spec(&args.spec)?;
    let level = [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3][args.opt_level as usize];
    let mut limits = Limits::default();
    if args.no_cost_limit {
        limits.max_compile_cost = usize::MAX;
        limits.max_optimizing_cost = usize::MAX;
    }
    // A refusal by an estimate, which the flag lifts, names it; the other bounds stay.
    let hint = |e: TranslateError| match e {
        TranslateError::LimitExceeded { what, .. } if what.starts_with("estimated") => {
            anyhow::Error::new(e).context("pass --no-cost-limit to compile it anyway")
        }
        e => e.into(),
    };
    let ir = translate(&code, spec, &limits).map_err(hint)?;
    if args.emit != Emit::Ir {
        limits.admit_optimizing(&ir, level).map_err(hint)?;
    }
    let bytes: Vec<u8> = match args.emit {
        Emit::Ir => ir.to_string().into_bytes(),
        Emit::Obj => AotCompiler::new(level)?.compile_object(&ir, SYMBOL)?,
        Emit::So => AotCompiler::new(level)?.compile(&ir, SYMBOL)?.bytes,
        Emit::Llvm | Emit::Asm => {
            // The compiler writes these stages to a dump directory; compile into one.
            let dir = tempfile::tempdir()?;
            let compiler = AotCompiler::new(level)?;
            revmc_llvm::with_dump_dir(Some(dir.path()), || compiler.compile_object(&ir, SYMBOL))?;
            let ext = if args.emit == Emit::Llvm { "opt.ll" } else { "opt.s" };
            let path = dir.path().join(format!("{SYMBOL}.{ext}"));
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes).with_context(|| crate::shown(path))?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
