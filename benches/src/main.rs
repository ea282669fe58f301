//! `revmc-bench`: times host-free EVM programs in revm's interpreter and in revmc's JIT,
//! after checking that both produce identical outcomes.
//!
//! Usage: `revmc-bench [--json FILE] [--filter SUBSTR] [--quick] [--fixtures DIR [--fork NAME]]
//! [--compile-scaling]`. Exit codes: 0 on
//! success, 1 when a program fails to compile or the JIT disagrees with the interpreter,
//! 2 on a usage error.

mod asm;
mod fixtures;
mod measure;
mod programs;
mod scaling;

use measure::{Measurement, Settings};
use revmc_llvm::{JitCompiler, OptLevel};
use revmc_runtime::SpecId;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: revmc-bench [--json FILE] [--filter SUBSTR] [--quick] [--fixtures DIR [--fork NAME]]

  --json FILE      also write the results as JSON to FILE
  --filter SUBSTR  only run benchmarks whose name contains SUBSTR
  --quick          short warm-up and few samples (CI smoke run; noisy numbers)
  --fixtures DIR   state-test files in DIR as whole transactions (first test, index 0)
  --fork NAME      fork for fixture files without `post` (e.g. London)
  --compile-scaling  compile time against code size (1-24 KiB) at every opt level
  --max-variants N with --fixtures: the translator's variant bound (for tuning)";

const OPT_LEVEL: OptLevel = OptLevel::O2;
const SPEC: SpecId = SpecId::CANCUN;

/// Command-line options.
#[derive(Debug, Default)]
struct Args {
    json: Option<PathBuf>,
    filter: Option<String>,
    quick: bool,
    compile_scaling: bool,
    fixtures: Option<PathBuf>,
    fork: Option<String>,
    max_variants: Option<usize>,
}

impl Args {
    /// Parses `--flag VALUE` and `--flag=VALUE` forms. `Ok(None)` means `--help`.
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut args = Self::default();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg, None),
            };
            let mut value = |name: &str| {
                inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--json" => args.json = Some(value("--json")?.into()),
                "--filter" => args.filter = Some(value("--filter")?),
                "--quick" if inline.is_none() => args.quick = true,
                "--compile-scaling" if inline.is_none() => args.compile_scaling = true,
                "-h" | "--help" => return Ok(None),
                "--fixtures" => args.fixtures = Some(value("--fixtures")?.into()),
                "--fork" => args.fork = Some(value("--fork")?),
                "--max-variants" => {
                    let n = value("--max-variants")?.parse().ok().filter(|n: &usize| *n >= 1);
                    args.max_variants = Some(n.ok_or("--max-variants takes a positive number")?);
                }
                _ => return Err(format!("unknown argument `{flag}`")),
            }
        }
        Ok(Some(args))
    }
}

/// One row of the JSON report.
#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    interp_ns: f64,
    jit_ns: f64,
    aot_ns: Option<f64>,
    compile_ms: f64,
    gas_used: u64,
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("revmc-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.compile_scaling {
        return match scaling::run() {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("revmc-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(dir) = args.fixtures.clone() {
        return match run_fixtures(&args, &dir) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("revmc-bench: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let programs: Vec<_> = programs::all(None)
        .into_iter()
        .filter(|p| args.filter.as_deref().is_none_or(|f| p.name.contains(f)))
        .collect();
    if programs.is_empty() {
        eprintln!("revmc-bench: no benchmark matches the filter");
        return ExitCode::from(2);
    }
    match run(&args, &programs) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("revmc-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Measures `programs`, printing the table as it goes. Returns whether all succeeded.
fn run(args: &Args, programs: &[programs::Program]) -> anyhow::Result<bool> {
    let settings = if args.quick { Settings::QUICK } else { Settings::FULL };
    let mut compiler = JitCompiler::new(OPT_LEVEL)?;
    let aot = measure::Aot::new(OPT_LEVEL)?;
    let width = programs.iter().map(|p| p.name.len()).max().unwrap_or(0).max("benchmark".len());

    println!("revmc-bench: LLVM opt level {OPT_LEVEL:?}, spec {SPEC:?}{}", quick_note(args.quick));
    println!(
        "{:<width$} {:>11} {:>11} {:>9} {:>11} {:>9} {:>9} {:>15}",
        "benchmark", "interp", "jit", "speedup", "aot", "speedup", "compile", "gas used"
    );
    let mut results = Vec::new();
    let mut ok = true;
    for program in programs {
        match measure::measure(&mut compiler, &aot, program, SPEC, settings) {
            Ok(m) => {
                println!("{}", row(&m, width));
                results.push(m);
            }
            Err(e) => {
                eprintln!("revmc-bench: FAILED {e:#}");
                ok = false;
            }
        }
    }
    if let Some(path) = &args.json {
        write_json(path, &results)?;
    }
    Ok(ok)
}

/// `--fixtures DIR`: every state-test file in `dir` as a whole-transaction benchmark.
fn run_fixtures(args: &Args, dir: &std::path::Path) -> anyhow::Result<bool> {
    let settings = if args.quick { Settings::QUICK } else { Settings::FULL };
    let mut limits = revmc_ir::Limits::default();
    if let Some(n) = args.max_variants {
        limits.max_variants = n;
    }
    let mut cache = revmc_runtime::evm::JitCache::new(OPT_LEVEL)?.with_limits(limits);
    let files: Vec<_> = fixtures::files(dir)?
        .into_iter()
        .filter(|p| args.filter.as_deref().is_none_or(|f| p.to_string_lossy().contains(f)))
        .collect();
    let width = files
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.len()))
        .max()
        .unwrap_or(0)
        .max("benchmark".len());
    println!(
        "revmc-bench: fixtures {} (whole transactions), LLVM opt level {OPT_LEVEL:?}{}",
        dir.display(),
        quick_note(args.quick)
    );
    println!(
        "{:<width$} {:>11} {:>11} {:>9} {:>9} {:>15}",
        "benchmark", "interp", "jit", "speedup", "compile", "gas used"
    );
    let mut results = Vec::new();
    let mut ok = true;
    for file in &files {
        let refused = cache.failures.len();
        let result = fixtures::measure(file, args.fork.as_deref(), &mut cache, settings);
        for (key, why) in &cache.failures[refused..] {
            eprintln!(
                "revmc-bench: note: {} runs interpreted: {} ({:?}) not compiled: {why}",
                file.display(),
                key.code_hash,
                key.spec_id
            );
        }
        match result {
            Ok(m) => {
                println!("{}", row(&m, width));
                results.push(m);
            }
            Err(e) => {
                eprintln!("revmc-bench: FAILED {}: {e:#}", file.display());
                ok = false;
            }
        }
    }
    if let Some(path) = &args.json {
        write_json(path, &results)?;
    }
    Ok(ok)
}

fn quick_note(quick: bool) -> &'static str {
    if quick { " (quick: noisy numbers)" } else { "" }
}

fn row(m: &Measurement, width: usize) -> String {
    let Some(aot_ns) = m.aot_ns else {
        return format!(
            "{:<width$} {:>11} {:>11} {:>9} {:>9} {:>15}",
            m.name,
            fmt_time(m.interp_ns),
            fmt_time(m.jit_ns),
            format!("{:.1}x", m.interp_ns / m.jit_ns),
            fmt_ms(m.compile_ms),
            fmt_thousands(m.gas_used),
        );
    };
    format!(
        "{:<width$} {:>11} {:>11} {:>9} {:>11} {:>9} {:>9} {:>15}",
        m.name,
        fmt_time(m.interp_ns),
        fmt_time(m.jit_ns),
        format!("{:.1}x", m.interp_ns / m.jit_ns),
        fmt_time(aot_ns),
        format!("{:.1}x", m.interp_ns / aot_ns),
        fmt_ms(m.compile_ms),
        fmt_thousands(m.gas_used),
    )
}

fn write_json(path: &std::path::Path, results: &[Measurement]) -> anyhow::Result<()> {
    use anyhow::Context;
    let rows: Vec<_> = results
        .iter()
        .map(|m| JsonRow {
            name: &m.name,
            interp_ns: m.interp_ns,
            jit_ns: m.jit_ns,
            aot_ns: m.aot_ns,
            compile_ms: m.compile_ms,
            gas_used: m.gas_used,
        })
        .collect();
    let json = serde_json::to_string_pretty(&rows)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// `ns` with an adaptive unit: ns, µs, ms or s.
fn fmt_time(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.0} ns"),
        ns if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") }
}

/// `2100000` → `2_100_000`.
fn fmt_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_args() {
        let a = parse(&["--json", "out.json", "--filter=fib", "--quick"]).unwrap().unwrap();
        assert_eq!(a.json, Some(PathBuf::from("out.json")));
        assert_eq!(a.filter.as_deref(), Some("fib"));
        assert!(a.quick);
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--json"]).is_err());
        let a = parse(&["--fixtures=dir", "--fork", "London"]).unwrap().unwrap();
        assert_eq!(a.fixtures.as_deref(), Some(std::path::Path::new("dir")));
        assert_eq!(a.fork.as_deref(), Some("London"));
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_thousands(2_100_000), "2_100_000");
        assert_eq!(fmt_thousands(999), "999");
        assert_eq!(fmt_time(12.3e6), "12.30 ms");
        assert_eq!(fmt_time(410.0), "410 ns");
        assert_eq!(fmt_time(1_500.0), "1.50 µs");
    }
}
