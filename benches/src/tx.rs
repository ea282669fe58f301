//! Whole transactions as benchmarks. A [`TxCase`] is prepared once: environment,
//! transactions, and the pre-state as an in-memory database with analysed code. Each timed
//! iteration hands a copy of the pre-state to the EVM (untimed), then runs the transactions
//! through revm, interpreted or with compiled frames (timed): no JSON, code hashing, state root or log
//! hashing inside the loop. Before timing, the compiled runs (JIT and AOT) must leave
//! exactly what the interpreter leaves: every result and every account.

use crate::aot::Aot;
use crate::board::Row;
use crate::measure::{Settings, Timing, time};
use anyhow::bail;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, Context, ContextTr, TxEnv};
use revm::context_interface::result::ExecutionResult;
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{Address, Bytes, TxKind, U256, address};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{JitCache, JitEvm, ProgramSource};
use revmc_testkit::contracts::{GAS_PRICE, Recorder, Scenario};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

/// Sender of the transactions this module builds.
const SENDER: Address = address!("0x5000000000000000000000000000000000000005");
/// The contract they call.
const TARGET: Address = address!("0x000000000000000000000000000000000000c0de");

/// Transactions on a prepared pre-state.
#[derive(Debug, Clone)]
pub struct TxCase {
    /// Row name.
    pub name: String,
    cfg: CfgEnv,
    block: BlockEnv,
    txs: Vec<TxEnv>,
    db: CacheDB<EmptyDB>,
}

/// Where a run takes compiled programs from; `None` interprets every frame.
type Source<'a> = Option<&'a mut dyn ProgramSource>;

impl TxCase {
    /// A case from its parts.
    pub fn new(
        name: String,
        cfg: CfgEnv,
        block: BlockEnv,
        txs: Vec<TxEnv>,
        db: CacheDB<EmptyDB>,
    ) -> Self {
        Self { name, cfg, block, txs, db }
    }

    /// One call of `code` (installed at a contract address) with `calldata` and `gas_limit`,
    /// from a funded sender, in the environment of the contract scenarios.
    pub fn call(name: &str, code: &[u8], calldata: &[u8], gas_limit: u64) -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        let balance = U256::from(10u128.pow(24));
        db.insert_account_info(SENDER, AccountInfo { balance, ..Default::default() });
        let code = Bytecode::new_raw(Bytes::copy_from_slice(code));
        db.insert_account_info(TARGET, AccountInfo::from_bytecode(code));
        let tx = TxEnv::builder()
            .caller(SENDER)
            .kind(TxKind::Call(TARGET))
            .data(Bytes::copy_from_slice(calldata))
            .gas_limit(gas_limit)
            .gas_price(u128::from(GAS_PRICE))
            .build_fill();
        let (cfg, block) = Scenario::environment();
        Self::new(name.to_string(), cfg, block, vec![tx], db)
    }

    /// The floor: a transaction calling a contract whose code is `STOP`. Its time is the
    /// fixed cost of a transaction in every row.
    pub fn floor() -> Self {
        Self::call("floor (STOP)", &[0x00], &[], 100_000)
    }

    /// The steps of `scenario` from `setup_len` on, on the state its first `setup_len`
    /// steps leave in the interpreter (each of which must succeed).
    pub fn from_scenario(
        name: &str,
        scenario: &Scenario,
        setup_len: usize,
    ) -> anyhow::Result<Self> {
        let (cfg, block) = Scenario::environment();
        let steps = scenario.steps();
        let (setup, measured) = steps.split_at(setup_len.min(steps.len()));
        if measured.is_empty() {
            bail!("{name}: no transaction to measure");
        }
        let txs = setup.iter().map(|s| s.tx_env()).collect();
        let mut case =
            Self::new(name.to_string(), cfg, block, txs, CacheDB::new(EmptyDB::default()));
        let mut db = scenario.genesis();
        for (step, result) in setup.iter().zip(case.run(&mut db, None)) {
            match result {
                Ok(ExecutionResult::Success { .. }) => {}
                other => bail!("{name}: setup step `{}` failed: {other:?}", step.label),
            }
        }
        case.txs = measured.iter().map(|s| s.tx_env()).collect();
        case.db = db;
        Ok(case)
    }

    /// Runs the transactions on `db`, committing each.
    fn run(
        &self,
        db: &mut CacheDB<EmptyDB>,
        source: Source<'_>,
    ) -> Vec<Result<ExecutionResult, String>> {
        let ctx = Context::mainnet()
            .with_cfg(self.cfg.clone())
            .with_block(self.block.clone())
            .with_db(db);
        let txs = self.txs.iter().cloned();
        match source {
            None => {
                let mut evm = ctx.build_mainnet();
                txs.map(|tx| evm.transact_commit(tx).map_err(|e| format!("{e:?}"))).collect()
            }
            Some(source) => {
                let mut evm = JitEvm::new(ctx.build_mainnet(), source);
                txs.map(|tx| evm.transact_commit(tx).map_err(|e| format!("{e:?}"))).collect()
            }
        }
    }

    /// One run on a fresh copy of the pre-state, and what it leaves.
    fn outcome(&self, source: Source<'_>) -> Outcome {
        let mut db = self.db.clone();
        let results = self.run(&mut db, source);
        let gas_used = results.iter().flatten().map(ExecutionResult::tx_gas_used).sum();
        let accounts: BTreeMap<_, _> = db.cache.accounts.iter().collect();
        let state = accounts
            .into_iter()
            .map(|(addr, acc)| revmc_testkit::tx::describe_account(addr, acc))
            .collect();
        Outcome { results: results.iter().map(|r| format!("{r:?}")).collect(), state, gas_used }
    }

    /// Times the case interpreted and with programs from `jit` and `aot`. As in a node,
    /// which keeps one EVM for a block, each engine's EVM (and the buffers revm reuses
    /// across transactions) is built once; each iteration hands it a fresh copy of the
    /// pre-state (untimed) and runs the transactions (timed).
    fn time(
        &self,
        settings: Settings,
        jit: &mut dyn ProgramSource,
        aot: &mut dyn ProgramSource,
    ) -> [Timing; 3] {
        let ctx = || {
            Context::mainnet()
                .with_cfg(self.cfg.clone())
                .with_block(self.block.clone())
                .with_db(self.db.clone())
        };
        let mut interp_evm = ctx().build_mainnet();
        let mut jit_evm = JitEvm::new(ctx().build_mainnet(), jit);
        let mut aot_evm = JitEvm::new(ctx().build_mainnet(), aot);
        // One iteration: a fresh pre-state and the transactions (untimed), then the run.
        macro_rules! iteration {
            ($db:expr, $evm:expr) => {
                || {
                    let (txs, fresh) = (self.txs.clone(), self.db.clone());
                    drop(std::mem::replace($db, fresh));
                    let start = Instant::now();
                    for tx in txs {
                        let _ = black_box($evm.transact_commit(tx));
                    }
                    start.elapsed()
                }
            };
        }
        let [interp, jit, aot] = time(
            settings,
            &mut [
                &mut iteration!(interp_evm.ctx.db_mut(), interp_evm),
                &mut iteration!(jit_evm.inner.ctx.db_mut(), jit_evm),
                &mut iteration!(aot_evm.inner.ctx.db_mut(), aot_evm),
            ],
        )[..] else {
            unreachable!("three engines")
        };
        [interp, jit, aot]
    }
}

/// Everything a run leaves that compiled code must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// Each transaction's result (status, gas used and refunded, output, logs).
    results: Vec<String>,
    /// Every account afterwards: balance, nonce, code hash, storage.
    state: String,
    /// Gas used by all the transactions.
    gas_used: u64,
}

/// The engines a board compares against the interpreter.
#[derive(Debug)]
pub struct Engines {
    /// JIT programs, compiled on first sight; with two tiers (`JitCache::is_tiered`, the
    /// runtime's default), at the first tier, then optimized from what the check run ran
    /// (`JitCache::optimize_what_ran`), and a row's compile time is that compilation's.
    pub jit: JitCache,
    /// What the first tier ran, over every row, by code skeleton (`--write-ran`).
    pub ran: crate::ran::Ran,
    /// AOT programs, compiled, stored and loaded on first sight.
    pub aot: Aot,
}

/// Checks `case` (JIT and AOT against the interpreter) and times it in all three.
pub fn measure(case: &TxCase, engines: &mut Engines, settings: Settings) -> anyhow::Result<Row> {
    let name = &case.name;
    let want = case.outcome(None);
    if let Some(invalid) = want.results.iter().find(|r| r.starts_with("Err")) {
        bail!("{name}: the transaction is invalid: {invalid}");
    }
    let tiered = engines.jit.is_tiered();
    if tiered {
        // Each row's programs are profiled on its own workload.
        engines.jit.clear();
    }
    let mut compile_before = engines.jit.compile_time;
    let mut jit = Recorder::new(&mut engines.jit);
    let mut got = case.outcome(Some(&mut jit));
    let mut seen = jit.seen;
    if tiered {
        // The check ran the first tier, which recorded what ran: the optimizing tier
        // compiles that, and the row times it.
        compare(name, "JIT (first tier)", &want, &got)?;
        compile_before = engines.jit.compile_time;
        for compiled in engines.jit.optimize_what_ran() {
            let ran = engines.ran.entry(crate::ran::skeleton(&compiled.code)).or_default();
            ran.extend(&compiled.ran);
        }
        let mut jit = Recorder::new(&mut engines.jit);
        got = case.outcome(Some(&mut jit));
        seen = jit.seen;
    }
    let code_bytes = seen.iter().filter_map(|(_, bytes)| *bytes).sum();
    let interpreted = seen.iter().filter(|(_, bytes)| bytes.is_none()).count();
    let compile_ms = (engines.jit.compile_time - compile_before).as_secs_f64() * 1e3;
    compare(name, "JIT", &want, &got)?;
    let got = case.outcome(Some(&mut engines.aot));
    compare(name, "AOT", &want, &got)?;

    let [interp, jit, aot] = case.time(settings, &mut engines.jit, &mut engines.aot);
    Ok(Row {
        name: name.clone(),
        interp,
        jit,
        aot: Some(aot),
        compile_ms,
        code_bytes,
        gas_used: want.gas_used,
        interpreted_contracts: interpreted,
    })
}

fn compare(name: &str, engine: &str, want: &Outcome, got: &Outcome) -> anyhow::Result<()> {
    for (i, (w, g)) in want.results.iter().zip(&got.results).enumerate() {
        if w != g {
            bail!("{name}: transaction {i} differs\n  interpreter: {w}\n  {engine}: {g}");
        }
    }
    if want.state != got.state {
        bail!(
            "{name}: the state after the {engine} run differs\n  interpreter:\n{}  {engine}:\n{}",
            want.state,
            got.state
        );
    }
    Ok(())
}
