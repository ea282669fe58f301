//! `revmc-statetest`: runs Ethereum GeneralStateTests through revm, with frames in revm's
//! interpreter (`--mode interp`) or compiled by revmc (`--mode jit`), checking the
//! post-state root and logs hash of every (test, fork, data/gas/value index).
//!
//! Usage: `revmc-statetest [--mode interp|jit|aot] [--opt N] [--threads N] [--aot-store DIR]
//! [--chunk-cost C] [--compile-failing-paths] [PATHS...]`; paths
//! are files or folders (searched recursively for `.json`), by default
//! `../shared/fixtures/state` beside the workspace. Ends with one line
//! `N passed, N failed, N skipped`; exits 1 if anything failed.
//!
//! In JIT mode every frame asks the compile service (`revmc_runtime::Runtime`) for its
//! program and compiles it on a miss (`OnMiss::Compile`), so the worker pool, the
//! resident cache and its eviction (a small code budget) are all in the path.

use revmc_llvm::OptLevel;
use revmc_runtime::evm::{OnMiss, RuntimeSource};
use revmc_runtime::store::FsStore;
use revmc_runtime::{CompileMode, Runtime, RuntimeConfig, Tuning};
use revmc_statetest::runner::{self, Mode};
use revmc_statetest::skip;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Budget of the runtime's resident code.
const CODE_CACHE_BYTES: usize = 8 << 20;

struct Args {
    mode: Mode,
    opt: OptLevel,
    threads: usize,
    aot_store: PathBuf,
    paths: Vec<PathBuf>,
    /// `Tuning::first_tier_chunk_cost` (1 splits first-tier programs at every block).
    chunk_cost: usize,
    /// Compiles the paths that can only fail too, instead of leaving them to the
    /// interpreter (`Tuning::interpret_failing_paths` off): the compiled halts are tested.
    compile_failing_paths: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: Mode::Jit,
        opt: OptLevel::default(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        aot_store: Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/revmc-aot-store"),
        paths: Vec::new(),
        chunk_cost: Tuning::default().first_tier_chunk_cost,
        compile_failing_paths: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mode" => {
                args.mode = match it.next().as_deref() {
                    Some("interp") => Mode::Interp,
                    Some("jit") => Mode::Jit,
                    Some("aot") => Mode::Aot,
                    other => return Err(format!("--mode takes interp, jit or aot, not {other:?}")),
                }
            }
            "--opt" => {
                let n: u8 = it.next().and_then(|s| s.parse().ok()).ok_or("--opt takes 0-3")?;
                args.opt = OptLevel::from_u8(n);
            }
            "--aot-store" => {
                args.aot_store = it.next().map(PathBuf::from).ok_or("--aot-store takes a path")?
            }
            "--chunk-cost" => {
                args.chunk_cost =
                    it.next().and_then(|s| s.parse().ok()).ok_or("--chunk-cost takes a number")?
            }
            "--compile-failing-paths" => args.compile_failing_paths = true,
            "--threads" => {
                args.threads =
                    it.next().and_then(|s| s.parse().ok()).ok_or("--threads takes a number")?
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => args.paths.push(PathBuf::from(a)),
        }
    }
    if args.paths.is_empty() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/state");
        args.paths.push(root);
    }
    Ok(args)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            collect(&e.path(), out)?;
        }
    } else if path.extension().is_some_and(|e| e == "json") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "{e}\nusage: revmc-statetest [--mode interp|jit|aot] [--opt N] [--threads N] [--aot-store DIR] [--chunk-cost C] [PATHS...]"
            );
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    for p in &args.paths {
        if !p.exists() {
            eprintln!("revmc-statetest: {} does not exist", p.display());
            return ExitCode::from(2);
        }
        if let Err(e) = collect(p, &mut files) {
            eprintln!("revmc-statetest: reading {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    let start = Instant::now();
    let tuning = Tuning {
        jit_worker_count: args.threads.max(1),
        jit_opt_level: args.opt,
        aot_opt_level: args.opt,
        hot_threshold_gas: 0,
        first_tier_chunk_cost: args.chunk_cost,
        // Small enough that eviction runs all the time, and that the JIT's memory
        // mappings (a few per program) stay far below the kernel's limit.
        code_cache_bytes: CODE_CACHE_BYTES,
        idle_eviction: std::time::Duration::ZERO,
        // Every code compiles, however small: the suite tests the compiler, not the
        // policy that runs tiny loop-free code interpreted.
        min_loop_free_instructions: 0,
        interpret_failing_paths: !args.compile_failing_paths,
        ..Tuning::default()
    };
    let mut config = RuntimeConfig { tuning, ..RuntimeConfig::default() };
    if args.mode == Mode::Aot {
        match FsStore::open(&args.aot_store) {
            Ok(store) => config.store = Some(Arc::new(store)),
            Err(e) => {
                eprintln!("revmc-statetest: {e}");
                return ExitCode::from(2);
            }
        }
        config.mode = CompileMode::Aot;
        // Artifacts are loaded on demand; preloading a large store is for nodes.
        config.preload = false;
    }
    let runtime = match Runtime::new(config) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("revmc-statetest: {e}");
            return ExitCode::from(2);
        }
    };
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0usize, 0usize, Vec::<String>::new(), Vec::<String>::new()));
    std::thread::scope(|s| {
        for _ in 0..args.threads.max(1) {
            s.spawn(|| {
                let mut source = RuntimeSource::new(&runtime, OnMiss::Compile);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if let Some(reason) = skip::reason(file) {
                        totals.lock().unwrap().3.push(format!("{}: {reason}", file.display()));
                        continue;
                    }
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        runner::run_file(file, args.mode, &mut source)
                    }));
                    let mut t = totals.lock().unwrap();
                    match r {
                        Ok(Ok(report)) => {
                            t.0 += report.passed;
                            t.1 += report.failed;
                            for f in report.failures {
                                eprintln!("{f}");
                                t.2.push(f);
                            }
                        }
                        Ok(Err(e)) => {
                            t.1 += 1;
                            eprintln!("FAILED {}: {e:#}", file.display());
                        }
                        Err(_) => {
                            t.1 += 1;
                            eprintln!("FAILED {}: panicked", file.display());
                        }
                    }
                }
            });
        }
    });
    let (passed, failed, _, skipped) = totals.into_inner().unwrap();
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    eprintln!("{} files in {:.1?} ({:?} mode)", files.len(), start.elapsed(), args.mode);
    if args.mode != Mode::Interp {
        let s = runtime.stats();
        eprintln!(
            "runtime: {} compiled, {} failed to compile (run interpreted), {} evictions, {} \
             resident ({} KiB), {:.1?} compiling; AOT: {} loaded from the store, {} stored, \
             {} discarded",
            s.succeeded,
            s.failed,
            s.evictions,
            s.resident_entries,
            s.jit_code_bytes / 1024,
            s.compile_time,
            s.aot_loaded,
            s.aot_stored,
            s.aot_discarded
        );
    }
    println!("{passed} passed, {failed} failed, {} skipped", skipped.len());
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
