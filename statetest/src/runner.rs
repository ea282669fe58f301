//! Running one state-test file: every (test, fork, data/gas/value index) in it.

use crate::merkle::{log_rlp_hash, state_root};
use anyhow::{Context as _, bail};
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, Context, TxEnv, cfg::CfgEnv};
use revm::context_interface::result::{ExecutionResult, HaltReason};
use revm::database::{CacheDB, EmptyDB, State};
use revm::primitives::{B256, hardfork::SpecId};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revm_statetest_types::{SpecName, Test, TestSuite, TestUnit};
use revmc_runtime::evm::{JitEvm, ProgramSource};
use std::path::Path;

/// How transactions execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// revm's interpreter only.
    Interp,
    /// Compiled frames wherever the code compiles (JIT).
    Jit,
    /// The same with AOT shared libraries from the artifact store.
    Aot,
}

/// Counts for one file.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Cases that matched the expected post-state.
    pub passed: usize,
    /// Cases that did not.
    pub failed: usize,
    /// A description of each failure.
    pub failures: Vec<String>,
}

/// What one execution produced, for checking and for diffs between modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Status, gas and logs in words.
    pub outcome: String,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Hash of the logs.
    pub logs_hash: B256,
    /// Post-state root.
    pub state_root: B256,
}

/// Runs every case of `path`.
pub fn run_file(
    path: &Path,
    mode: Mode,
    source: &mut dyn ProgramSource,
) -> anyhow::Result<FileReport> {
    let text = std::fs::read_to_string(path)?;
    let suite: TestSuite = serde_json::from_str(&text).context("parsing the test file")?;
    let mut report = FileReport::default();
    for (name, unit) in &suite.0 {
        for (spec_name, tests) in &unit.post {
            // revm has no spec for these transition forks (revme skips them as well).
            if matches!(
                spec_name,
                SpecName::Constantinople
                    | SpecName::ByzantiumToConstantinopleAt5
                    | SpecName::Unknown
            ) {
                continue;
            }
            for test in tests {
                let case = format!(
                    "{}: {name} {spec_name:?} d{} g{} v{}",
                    path.display(),
                    test.indexes.data,
                    test.indexes.gas,
                    test.indexes.value
                );
                match check_case(unit, spec_name.to_spec_id(), test, mode, source) {
                    Ok(()) => report.passed += 1,
                    Err(e) => {
                        report.failed += 1;
                        let mut msg = format!("FAILED {case}\n  {e:#}");
                        if mode != Mode::Interp {
                            msg.push_str(&diff_against_interpreter(
                                unit,
                                spec_name.to_spec_id(),
                                test,
                                source,
                            ));
                        }
                        report.failures.push(msg);
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Runs one case and checks it against the expectations.
pub fn check_case(
    unit: &TestUnit,
    spec: SpecId,
    test: &Test,
    mode: Mode,
    source: &mut dyn ProgramSource,
) -> anyhow::Result<()> {
    let observed = execute(unit, spec, test, mode, source)?;
    let Some(observed) = observed else {
        // The transaction was rejected as expected.
        return Ok(());
    };
    if test.expect_exception.is_some() {
        bail!("expected exception {:?}, got {}", test.expect_exception, observed.outcome);
    }
    if observed.logs_hash != test.logs {
        bail!("logs hash {} != expected {} ({})", observed.logs_hash, test.logs, observed.outcome);
    }
    if observed.state_root != test.hash {
        bail!(
            "state root {} != expected {} ({})",
            observed.state_root,
            test.hash,
            observed.outcome
        );
    }
    Ok(())
}

/// Executes one case; `Ok(None)` when the transaction is invalid and an exception was expected.
pub fn execute(
    unit: &TestUnit,
    spec: SpecId,
    test: &Test,
    mode: Mode,
    source: &mut dyn ProgramSource,
) -> anyhow::Result<Option<Observed>> {
    let (cfg, block) = environment(unit, spec);
    let tx = match test.tx_env(unit) {
        Ok(tx) => tx,
        Err(_) if test.expect_exception.is_some() => return Ok(None),
        Err(e) => bail!("building the transaction: {e}"),
    };
    let mut state =
        State::builder().with_cached_prestate(unit.state()).with_bundle_update().build();
    let result = match transact(cfg, &block, &tx, &mut state, mode, source) {
        Ok(r) => r,
        Err(_) if test.expect_exception.is_some() => return Ok(None),
        Err(e) => bail!("unexpected error: {e}"),
    };
    Ok(Some(Observed {
        outcome: describe(&result),
        gas_used: result.tx_gas_used(),
        logs_hash: log_rlp_hash(result.logs()),
        state_root: state_root(state.cache.trie_account()),
    }))
}

/// The configuration and block of `unit` under `spec`.
fn environment(unit: &TestUnit, spec: SpecId) -> (CfgEnv, BlockEnv) {
    let mut cfg = CfgEnv::default();
    cfg.chain_id = unit.env.current_chain_id.map_or(1, |c| c.try_into().unwrap_or(1));
    cfg.set_spec_and_mainnet_gas_params(spec);
    let prague_blobs = spec.is_enabled_in(SpecId::PRAGUE) && !spec.is_enabled_in(SpecId::OSAKA);
    cfg.set_max_blobs_per_tx(if prague_blobs { 9 } else { 6 });
    let block = unit.block_env(&mut cfg);
    (cfg, block)
}

/// Runs `tx` on `state` and commits it, interpreted or with compiled frames.
fn transact(
    cfg: CfgEnv,
    block: &BlockEnv,
    tx: &TxEnv,
    state: &mut State<EmptyDB>,
    mode: Mode,
    source: &mut dyn ProgramSource,
) -> Result<ExecutionResult, String> {
    let ctx = Context::mainnet().with_block(block).with_tx(tx).with_cfg(cfg).with_db(state);
    let result = match mode {
        Mode::Interp => ctx.build_mainnet().transact_commit(tx),
        Mode::Jit | Mode::Aot => JitEvm::new(ctx.build_mainnet(), source).transact_commit(tx),
    };
    result.map_err(|e| format!("{e:?}"))
}

/// A case made ready to execute many times, for benchmarks: the environment and the
/// transaction, and the pre-state as an in-memory database whose code is analysed once.
/// A benchmark runs the transaction on a copy of `db`, with no hashing of code, logs or
/// state.
#[derive(Debug)]
pub struct Prepared {
    /// The configuration (fork, chain id, blob limits).
    pub cfg: CfgEnv,
    /// The block.
    pub block: BlockEnv,
    /// The transaction.
    pub tx: TxEnv,
    /// The pre-state.
    pub db: CacheDB<EmptyDB>,
}

impl Prepared {
    /// Prepares `test` of `unit` under `spec`; `None` if the transaction is invalid.
    pub fn new(unit: &TestUnit, spec: SpecId, test: &Test) -> Option<Self> {
        let (cfg, block) = environment(unit, spec);
        let tx = test.tx_env(unit).ok()?;
        let mut db = CacheDB::new(EmptyDB::default());
        for (address, info) in &unit.pre {
            let code = Bytecode::new_raw_checked(info.code.clone())
                .unwrap_or_else(|_| Bytecode::new_legacy(info.code.clone()));
            let account = AccountInfo {
                balance: info.balance,
                nonce: info.nonce,
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            };
            db.insert_account_info(*address, account);
            for (slot, value) in &info.storage {
                db.insert_account_storage(*address, *slot, *value).ok()?;
            }
        }
        Some(Self { cfg, block, tx, db })
    }
}

fn describe(result: &ExecutionResult<HaltReason>) -> String {
    match result {
        ExecutionResult::Success { reason, gas, logs, .. } => {
            format!("success {reason:?}, gas used {}, {} logs", gas.tx_gas_used(), logs.len())
        }
        ExecutionResult::Revert { gas, output, .. } => {
            format!("revert, gas used {}, output {} bytes", gas.tx_gas_used(), output.len())
        }
        ExecutionResult::Halt { reason, gas, .. } => {
            format!("halt {reason:?}, gas used {}", gas.tx_gas_used())
        }
    }
}

/// For a failing compiled run: what the interpreter did on the same case.
fn diff_against_interpreter(
    unit: &TestUnit,
    spec: SpecId,
    test: &Test,
    source: &mut dyn ProgramSource,
) -> String {
    let jit = execute(unit, spec, test, Mode::Jit, source);
    let interp = execute(unit, spec, test, Mode::Interp, source);
    match (jit, interp) {
        (Ok(Some(j)), Ok(Some(i))) if j != i => format!(
            "\n  jit:         {} (gas {}, logs {}, root {})\n  interpreter: {} (gas {}, logs {}, root {})",
            j.outcome,
            j.gas_used,
            j.logs_hash,
            j.state_root,
            i.outcome,
            i.gas_used,
            i.logs_hash,
            i.state_root
        ),
        (Ok(_), Ok(_)) => "\n  the interpreter gives the same result".into(),
        (j, i) => format!("\n  jit: {j:?}\n  interpreter: {i:?}"),
    }
}

/// The first case of a state-test file, for benchmarks: its first test unit, under `fork`
/// (or the first fork of its `post`), with data, gas and value index 0.
pub fn first_case(
    path: &Path,
    fork: Option<SpecName>,
) -> anyhow::Result<(String, TestUnit, SpecId, Test)> {
    let text = std::fs::read_to_string(path)?;
    let suite: TestSuite = serde_json::from_str(&text).context("parsing the test file")?;
    let (name, unit) = suite.0.into_iter().next().context("no test in the file")?;
    let mut unit = unit;
    let (spec, tests) = match fork {
        Some(f) => (f.to_spec_id(), unit.post.remove(&f)),
        None => {
            let (f, tests) = unit.post.pop_first().context("no `post` section: pass --fork")?;
            (f.to_spec_id(), Some(tests))
        }
    };
    let test = tests.and_then(|t| t.into_iter().next());
    let test = match test {
        Some(t) => t,
        None => serde_json::from_value(serde_json::json!({
            "indexes": {"data": 0, "gas": 0, "value": 0},
            "hash": B256::ZERO,
            "logs": B256::ZERO,
        }))
        .context("building a test without expectations")?,
    };
    Ok((name, unit, spec, test))
}
