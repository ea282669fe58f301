//! `--fixtures DIR`: state-test files as whole-transaction benchmarks. Each file's first
//! test, under its first fork (or `--fork`), with data, gas and value index 0, runs through
//! revm with frames interpreted and with frames compiled; the two must agree, and match
//! the file's expected post-state when it has one, before anything is timed. The timed
//! loop runs only the transaction on a copy of the prepared pre-state (no JSON, code
//! hashing, state root or logs hash inside it).

use crate::measure::{Measurement, Settings, ns_per_run};
use anyhow::{Context, bail};
use revm_statetest_types::SpecName;
use revmc_runtime::evm::JitCache;
use revmc_statetest::runner::{Mode, Prepared, execute, first_case};
use std::hint::black_box;
use std::path::{Path, PathBuf};

/// The `.json` files under `dir`, sorted.
pub fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses a fork name as state tests spell it (`London`, `Cancun`, ...).
pub fn parse_fork(name: &str) -> anyhow::Result<SpecName> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .with_context(|| format!("unknown fork {name}"))
}

/// Checks and times one file.
pub fn measure(
    path: &Path,
    fork: Option<&str>,
    cache: &mut JitCache,
    settings: Settings,
) -> anyhow::Result<Measurement> {
    let fork = fork.map(parse_fork).transpose()?;
    let (name, unit, spec, test) = first_case(path, fork)?;
    let run = |mode, cache: &mut JitCache| {
        execute(&unit, spec, &test, mode, cache)?.context("the transaction was rejected")
    };
    let interp = run(Mode::Interp, cache)?;
    let before = cache.compile_time;
    let jit = run(Mode::Jit, cache)?;
    let compile_ms = (cache.compile_time - before).as_secs_f64() * 1e3;
    if jit != interp {
        bail!(
            "{name}: compiled run differs from the interpreter\n  jit:    {jit:?}\n  interp: {interp:?}"
        );
    }
    if !test.hash.is_zero() && (interp.state_root != test.hash || interp.logs_hash != test.logs) {
        bail!("{name}: post-state differs from the file's expectation ({})", interp.outcome);
    }
    // Timed: only the transaction, on a fresh copy of the prepared pre-state.
    let prepared = Prepared::new(&unit, spec, &test).context("the transaction is invalid")?;
    let interp_ns = ns_per_run(settings, || {
        black_box(prepared.run(Mode::Interp, cache));
    });
    let jit_ns = ns_per_run(settings, || {
        black_box(prepared.run(Mode::Jit, cache));
    });
    Ok(Measurement { name, interp_ns, jit_ns, aot_ns: None, compile_ms, gas_used: interp.gas_used })
}
