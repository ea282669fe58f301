//! `revmc-bench`: the benchmark board. Whole transactions through revm, interpreted, with
//! JIT-compiled frames and with AOT shared libraries, after checking that all three leave
//! the same results and state: a STOP-only transaction (the floor, the fixed cost in every
//! row), our compute programs, the state-test benchmark fixtures and real-contract
//! workloads from `../shared/fixtures`.
//!
//! Exit codes: 0 on success, 1 when a case fails (a compiled run differs from the
//! interpreter, a fixture misses its expectation), 2 on a usage error.

mod aot;
mod asm;
mod board;
mod fixtures;
mod measure;
mod programs;
#[path = "corpus/ran.rs"]
mod ran;
mod scaling;
mod tx;
mod workloads;

use board::Board;
use measure::Settings;
use revmc_llvm::OptLevel;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tx::{Engines, TxCase};

const USAGE: &str = "usage: revmc-bench [--json FILE] [--filter SUBSTR] [--quick] [--fixtures DIR]
                   [--fork NAME] [--max-variants N] [--compile-failing-paths]
                   [--whole] [--write-ran FILE] [--opt-level N] [--compile-scaling]

  --json FILE        also write the board as JSON to FILE
  --filter SUBSTR    only rows whose name contains SUBSTR, or one of a comma-separated
                     list (the floor always runs)
  --quick            short warm-up and few samples (smoke run; noisy numbers)
  --fixtures DIR     state-test benchmarks (default ../shared/fixtures/bench)
  --fork NAME        fork for fixture files without `post` (e.g. London)
  --max-variants N   the translator's variant bound (for tuning)
  --compile-failing-paths
                     compile the paths that can only fail too, instead of leaving them
                     to the interpreter as the runtime does (for comparison)
  --whole            JIT-compile whole programs on first sight, instead of as the runtime
                     does: first tier recording what runs (the check run), then the
                     optimizing tier compiling only that, which the row times (at
                     --opt-level 0: the first tier, without recording)
  --write-ran FILE   write the blocks the first tier ran, by code hash, over all rows
                     (for `revmc-corpus --ran FILE`)
  --opt-level N      LLVM optimization level 0-3 of the JIT and AOT engines (default 2,
                     the runtime's optimizing tier; 0 is its first tier)
  --compile-scaling  compile time against code size (1-24 KiB) at every opt level";

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
    compile_failing_paths: bool,
    whole: bool,
    write_ran: Option<PathBuf>,
    opt_level: OptLevel,
}

impl Args {
    /// Parses `--flag VALUE` and `--flag=VALUE` forms. `Ok(None)` means `--help`.
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut args = Self { opt_level: OptLevel::O2, ..Self::default() };
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
                "--compile-failing-paths" if inline.is_none() => args.compile_failing_paths = true,
                "--whole" if inline.is_none() => args.whole = true,
                "--write-ran" => args.write_ran = Some(value("--write-ran")?.into()),
                "-h" | "--help" => return Ok(None),
                "--fixtures" => args.fixtures = Some(value("--fixtures")?.into()),
                "--fork" => args.fork = Some(value("--fork")?),
                "--max-variants" => {
                    let n = value("--max-variants")?.parse().ok().filter(|n: &usize| *n >= 1);
                    args.max_variants = Some(n.ok_or("--max-variants takes a positive number")?);
                }
                "--opt-level" => {
                    let n = value("--opt-level")?.parse().ok().filter(|n: &u8| *n <= 3);
                    args.opt_level = OptLevel::from_u8(n.ok_or("--opt-level takes 0 to 3")?);
                }
                _ => return Err(format!("unknown argument `{flag}`")),
            }
        }
        Ok(Some(args))
    }
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
    let result = if args.compile_scaling { scaling::run() } else { run(&args) };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("revmc-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `../shared/fixtures` beside the workspace.
fn shared_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// Measures the whole board, printing it as it goes. Returns whether every case passed.
fn run(args: &Args) -> anyhow::Result<bool> {
    let settings = if args.quick { Settings::QUICK } else { Settings::FULL };
    // The runtime's policy: loop-free code too short to repay compiled entry runs
    // interpreted, as in a node.
    let mut limits = revmc_ir::Limits {
        min_loop_free_instructions: revmc_runtime::Tuning::default().min_loop_free_instructions,
        ..revmc_ir::Limits::default()
    };
    if let Some(n) = args.max_variants {
        limits.max_variants = n;
    }
    limits.interpret_failing_paths = !args.compile_failing_paths;
    // As the runtime: a first tier at O0 recording what runs, then the optimizing tier.
    let tiered = !args.whole && args.opt_level != OptLevel::O0;
    let jit = match tiered {
        true => revmc_runtime::evm::JitCache::tiered(OptLevel::O0, args.opt_level)?,
        // The runtime's first tier records what runs.
        false if args.opt_level == OptLevel::O0 && !args.whole => {
            revmc_runtime::evm::JitCache::new(args.opt_level)?.recording()
        }
        false => revmc_runtime::evm::JitCache::new(args.opt_level)?,
    };
    let mut engines = Engines {
        jit: jit.with_limits(limits),
        ran: Default::default(),
        aot: aot::Aot::new(args.opt_level, limits)?,
    };
    let quick = if args.quick { " (quick: noisy numbers)" } else { "" };
    let mut board = Board::new(&format!(
        "revmc-bench: whole transactions, LLVM opt level {:?}{}, fork Cancun unless the \
         fixture says otherwise{quick}",
        args.opt_level,
        if tiered { " (JIT: of what the first tier ran)" } else { "" },
    ));
    let mut ok = true;
    let wanted =
        |name: &str| args.filter.as_deref().is_none_or(|f| f.split(',').any(|f| name.contains(f)));
    let mut measure = |board: &mut Board, case: anyhow::Result<TxCase>, floor: bool| match case
        .and_then(|case| tx::measure(&case, &mut engines, settings))
    {
        Ok(row) if floor => board.floor(row),
        Ok(row) => board.push(row),
        Err(e) => {
            eprintln!("revmc-bench: FAILED {e:#}");
            ok = false;
        }
    };
    measure(&mut board, Ok(TxCase::floor()), true);

    board.section("compute programs (one call, host-free loops)");
    for p in programs::all(None).into_iter().filter(|p| wanted(p.name)) {
        measure(&mut board, Ok(TxCase::call(p.name, &p.code, &p.calldata, p.gas_limit)), false);
    }

    let dir = args.fixtures.clone().unwrap_or_else(|| shared_fixtures().join("bench"));
    if dir.is_dir() {
        let mut section = None;
        for file in fixtures::files(&dir)? {
            let name = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            if !wanted(&name) {
                continue;
            }
            let parent = file.parent().unwrap_or(&dir);
            if section.as_deref() != Some(parent) {
                board.section(&format!("state-test fixtures {}", parent.display()));
                section = Some(parent.to_path_buf());
            }
            let case = fixtures::case(&file, args.fork.as_deref())
                .map_err(|e| e.context(file.display().to_string()));
            measure(&mut board, case, false);
        }
    } else {
        println!("SKIPPED: state-test fixtures: {} not found", dir.display());
    }

    board.section("real workloads (../shared/fixtures/contracts)");
    if let Some(contracts) = revmc_testkit::contracts::Fixtures::load() {
        for w in workloads::all(&contracts).into_iter().filter(|w| wanted(w.name)) {
            measure(&mut board, TxCase::from_scenario(w.name, &w.scenario, w.setup_len), false);
        }
    }
    for (key, why) in engines.jit.failures.iter() {
        eprintln!(
            "revmc-bench: note: {} ({:?}) ran interpreted: {why}",
            key.code_hash, key.spec_id
        );
    }
    if let Some(path) = &args.json {
        board.write_json(path)?;
    }
    if let Some(path) = &args.write_ran {
        ran::write(path, &engines.ran)?;
        println!("wrote the blocks {} codes ran to {}", engines.ran.len(), path.display());
    }
    Ok(ok && board.len() > 1)
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
}
