//! State-test files as whole-transaction benchmarks: each file's first test, under its
//! first fork (or `--fork`), with data, gas and value index 0. The interpreter must match
//! the file's expected post-state when it has one; the case is then timed like every other
//! transaction ([`crate::tx`]).

use crate::tx::TxCase;
use anyhow::{Context, bail};
use revm_statetest_types::SpecName;
use revmc_runtime::evm::ProgramSource;
use revmc_runtime::{CompiledProgram, RuntimeCacheKey};
use revmc_statetest::runner::{Mode, Prepared, execute, first_case};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Never has a program: runs the state-test path interpreted.
struct Interpreted;

impl ProgramSource for Interpreted {
    fn program(&mut self, _: RuntimeCacheKey, _: &[u8]) -> Option<Arc<CompiledProgram>> {
        None
    }
}

/// The file's first case, as a transaction benchmark named after the file. When the file has expectations for
/// it, the interpreter must meet them first (post-state root and logs hash).
pub fn case(path: &Path, fork: Option<&str>) -> anyhow::Result<TxCase> {
    let fork = fork.map(parse_fork).transpose()?;
    let (name, unit, spec, test) = first_case(path, fork)?;
    if !test.hash.is_zero() {
        let interp = execute(&unit, spec, &test, Mode::Interp, &mut Interpreted)?
            .context("the transaction was rejected")?;
        if interp.state_root != test.hash || interp.logs_hash != test.logs {
            bail!("{name}: post-state differs from the file's expectation ({})", interp.outcome);
        }
    }
    let Prepared { cfg, block, tx, db } =
        Prepared::new(&unit, spec, &test).context("the transaction is invalid")?;
    let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    Ok(TxCase::new(stem, cfg, block, vec![tx], db))
}
