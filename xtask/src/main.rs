//! `cargo xtask`: developer tasks for the revmc workspace.
//!
//! Commands are parsed by hand (no clap) and dispatched to [`llvm`] for toolchain setup and to
//! [`cmd`] for running cargo. This crate must build without LLVM: it never links to it, it only
//! checks for `llvm-config-22` and installs it when it can.

mod cmd;
mod llvm;

use std::{process::ExitCode, time::Instant};

const USAGE: &str = "\
usage: cargo xtask <command> [args...]

commands:
  test  [args...]  ensure LLVM 22, then fmt --check, clippy -D warnings, doc -D warnings,
                   test --workspace [args...]
  bench [args...]  ensure LLVM 22, then cargo run --release -p revmc-bench -- [args...]
  statetest [--mode interp|jit] [PATHS...]  run Ethereum state tests (default ../shared/fixtures/state)
  fuzz TARGET [--time S]  run a cargo-fuzz target (translate, jit_vs_interpreter) for S seconds
                   (default 60); installs cargo-fuzz if missing
  soak [--contracts N] [--threads T] [--workers W] [--budget-kib B]
                   drive N distinct contracts through the compile service under a small code
                   budget; report resident entries, JIT code bytes, RSS and lookup latency
  corpus [PATH...] [--json FILE] [--opt-level N] [--translate-only] [--timeout-s S] [--jobs J]
         [--min-coverage PCT] [--max-variants N] [--what-ran]
                   translate and JIT-compile every contract of PATH (contracts/ files or state
                   tests; default ../shared/fixtures/contracts), each in a child process under a
                   time bound; report coverage, compile ms per KiB, the slowest, refusals by reason.
                   --what-ran: only the contracts the board's real workloads run, compiled as
                   the runtime's optimizing tier does, from what their first tier ran
                   (revmc-bench --quick --write-ran, then revmc-corpus --ran)
  setup            ensure LLVM 22 and the packages needed to link it are installed
  help             print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "test" => test(rest),
        "bench" => bench(rest),
        "fuzz" => fuzz(rest),
        "statetest" => statetest(rest),
        "soak" => soak(rest),
        "corpus" => corpus(rest),
        "setup" => llvm::ensure_llvm().map(drop),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask test`: formatting, lints, then the whole test suite; stops at the first failure.
fn test(extra: &[String]) -> anyhow::Result<()> {
    let start = Instant::now();
    let llvm = llvm::ensure_llvm()?;
    let result = (|| {
        if cmd::has_subcommand("fmt") {
            cmd::step("cargo fmt --all --check", cmd::cargo(&llvm, &["fmt", "--all", "--check"]))?;
        } else {
            eprintln!("xtask: warning: rustfmt is not installed; skipping `cargo fmt --check`");
        }
        if cmd::has_subcommand("clippy") {
            let args = ["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"];
            cmd::step(
                "cargo clippy --workspace --all-targets -- -D warnings",
                cmd::cargo(&llvm, &args),
            )?;
        } else {
            eprintln!("xtask: warning: clippy is not installed; skipping `cargo clippy`");
        }
        // Every public item documented, every intra-doc link resolving.
        let mut doc = cmd::cargo(&llvm, &["doc", "--no-deps", "--workspace"]);
        doc.env("RUSTDOCFLAGS", "-D warnings");
        cmd::step("cargo doc --no-deps --workspace (RUSTDOCFLAGS=-D warnings)", doc)?;
        let root = cmd::workspace_root();
        let fixtures = root.parent().unwrap_or(&root).join("shared/fixtures");
        if !fixtures.exists() {
            eprintln!(
                "xtask: {} not found; fixture-based suites will be skipped",
                fixtures.display()
            );
        }
        let mut test = cmd::cargo(&llvm, &["test", "--workspace"]);
        test.args(extra);
        cmd::step("cargo test --workspace", test)?;
        statetest_subset(&llvm, &fixtures)?;
        corpus_coverage(&llvm, &fixtures)?;
        // A short soak: the compile service under churn and a tiny budget, in release.
        let soak = [
            "run",
            "--release",
            "-p",
            "revmc-bench",
            "--bin",
            "revmc-soak",
            "--",
            "--contracts",
            "400",
            "--budget-kib",
            "256",
        ];
        cmd::step("soak (400 contracts, 256 KiB budget)", cmd::cargo(&llvm, &soak))
    })();
    let outcome = if result.is_ok() { "passed" } else { "failed" };
    eprintln!("xtask: {outcome} in {:.1?}", start.elapsed());
    result
}

/// `cargo xtask bench`: runs the `revmc-bench` binary in release mode, forwarding all arguments.
fn bench(args: &[String]) -> anyhow::Result<()> {
    let llvm = llvm::ensure_llvm()?;
    let mut bench =
        cmd::cargo(&llvm, &["run", "--release", "-p", "revmc-bench", "--bin", "revmc-bench", "--"]);
    bench.args(args);
    cmd::step("cargo run --release -p revmc-bench", bench)
}

/// `cargo xtask fuzz TARGET [--time S]`: runs a cargo-fuzz target on the stable toolchain
/// (`-s none`: no sanitizer), installing cargo-fuzz first if it is missing. Debug
/// assertions are on: the IR verifier runs after every pass, and compiled code finds
/// the dead stack entries overwritten (`run_compiled`), for about a third fewer runs.
fn fuzz(args: &[String]) -> anyhow::Result<()> {
    let (target, rest) = args
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("usage: cargo xtask fuzz TARGET [--time S]"))?;
    let seconds = match rest {
        [] => 60,
        [flag, s] if flag == "--time" => {
            s.parse().map_err(|e| anyhow::anyhow!("--time {s}: {e}"))?
        }
        other => anyhow::bail!(
            "unexpected arguments {other:?}; usage: cargo xtask fuzz TARGET [--time S]"
        ),
    };
    let llvm = llvm::ensure_llvm()?;
    if !cmd::has_subcommand("fuzz") {
        cmd::step("cargo install cargo-fuzz", cmd::cargo(&llvm, &["install", "cargo-fuzz"]))?;
    }
    let max_time = format!("-max_total_time={seconds}");
    let run = cmd::cargo(
        &llvm,
        &[
            "fuzz",
            "run",
            "-s",
            "none",
            "--debug-assertions",
            target,
            "--",
            &max_time,
            "-timeout=30",
            "-max_len=4096",
            "-len_control=20",
        ],
    );
    cmd::step(&format!("cargo fuzz run -s none --debug-assertions {target} ({seconds} s)"), run)
}

/// `cargo xtask soak`: the compile-service soak test in release mode, arguments forwarded.
fn soak(args: &[String]) -> anyhow::Result<()> {
    let llvm = llvm::ensure_llvm()?;
    let mut run =
        cmd::cargo(&llvm, &["run", "--release", "-p", "revmc-bench", "--bin", "revmc-soak", "--"]);
    run.args(args);
    cmd::step("cargo run --release -p revmc-bench --bin revmc-soak", run)
}

/// The rows of the board's real-workload section (`revmc-bench --filter`).
const REAL_WORKLOADS: &str = "erc20,proxy,erc721,erc1155,weth9,uniswap,aave";

/// `cargo xtask corpus`: the compile-coverage tool in release mode, arguments forwarded.
/// With `--what-ran`, the board's real workloads first write what their first tier ran,
/// and the tool compiles those contracts from it.
fn corpus(args: &[String]) -> anyhow::Result<()> {
    let llvm = llvm::ensure_llvm()?;
    let what_ran = args.iter().any(|a| a == "--what-ran");
    let mut args: Vec<String> = args.iter().filter(|a| *a != "--what-ran").cloned().collect();
    let ran = std::env::temp_dir().join(format!("revmc-what-ran-{}.json", std::process::id()));
    if what_ran {
        let mut bench = cmd::cargo(
            &llvm,
            &["run", "--release", "-p", "revmc-bench", "--bin", "revmc-bench", "--"],
        );
        bench.args(["--quick", "--filter", REAL_WORKLOADS, "--write-ran"]).arg(&ran);
        cmd::step("cargo run --release -p revmc-bench -- --write-ran", bench)?;
        args.extend(["--ran".to_string(), ran.display().to_string()]);
    }
    let mut run = cmd::cargo(
        &llvm,
        &["run", "--release", "-p", "revmc-bench", "--bin", "revmc-corpus", "--"],
    );
    run.args(&args);
    let done = cmd::step("cargo run --release -p revmc-bench --bin revmc-corpus", run);
    if what_ran {
        // Best effort: a leftover file in the temporary directory is harmless.
        let _ = std::fs::remove_file(&ran);
    }
    done
}

/// `cargo xtask statetest`: the state-test runner in release mode, arguments forwarded.
fn statetest(args: &[String]) -> anyhow::Result<()> {
    let llvm = llvm::ensure_llvm()?;
    let mut run = cmd::cargo(&llvm, &["run", "--release", "-p", "revmc-statetest", "--"]);
    run.args(args);
    cmd::step("cargo run --release -p revmc-statetest", run)
}

/// Folders of state tests `cargo xtask test` runs in JIT mode: the VM tests and a few
/// that exercise calls, creates, storage, logs and memory, in a few minutes.
const STATETEST_SUBSET: &[&str] = &[
    "state/cancun/VMTests",
    "state/cancun/stCallCodes",
    "state/cancun/stCreate2",
    "state/cancun/stLogTests",
    "state/cancun/stMemoryTest",
    "state/cancun/stReturnDataTest",
    "state/cancun/stSStoreTest",
    "state/cancun/stStaticCall",
    "state/cancun/stShift",
    "state/osaka",
];

/// Runs [`STATETEST_SUBSET`] in JIT mode twice, the paths that can only fail left to the
/// interpreter (as the runtime does) and compiled (so that the compiled halts are
/// tested), or says clearly that it is skipped.
fn statetest_subset(llvm: &llvm::Llvm, fixtures: &std::path::Path) -> anyhow::Result<()> {
    if !fixtures.exists() {
        eprintln!("xtask: SKIPPED state tests: {} not found", fixtures.display());
        return Ok(());
    }
    for (extra, what) in [
        (None, "state tests (JIT mode, fast subset)"),
        (
            Some("--compile-failing-paths"),
            "state tests (JIT mode, fast subset, failing paths compiled)",
        ),
    ] {
        let mut run =
            cmd::cargo(llvm, &["run", "--release", "-p", "revmc-statetest", "--", "--mode", "jit"]);
        run.args(extra);
        for dir in STATETEST_SUBSET {
            let path = fixtures.join(dir);
            if path.exists() {
                run.arg(path);
            } else {
                eprintln!("xtask: state-test folder {} not found; skipped", path.display());
            }
        }
        cmd::step(what, run)?;
    }
    Ok(())
}

/// Translates every contract of `fixtures/contracts` and fails unless all of them translate,
/// or says clearly that it is skipped.
fn corpus_coverage(llvm: &llvm::Llvm, fixtures: &std::path::Path) -> anyhow::Result<()> {
    let contracts = fixtures.join("contracts");
    if !contracts.exists() {
        eprintln!("xtask: SKIPPED corpus coverage: {} not found", contracts.display());
        return Ok(());
    }
    let mut run =
        cmd::cargo(llvm, &["run", "--release", "-p", "revmc-bench", "--bin", "revmc-corpus", "--"]);
    run.args(["--translate-only", "--min-coverage", "100"]).arg(contracts);
    cmd::step("corpus coverage (translate only, 100% required)", run)
}
