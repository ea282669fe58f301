//! Real production contracts (the shared fixtures) driven by a sequence of transactions
//! that runs over a fresh in-memory state twice: in revm's interpreter, and with compiled
//! frames ([`JitEvm`] over a [`JitCache`]). Every transaction's result (status, gas used and
//! refunded, output, logs) and the final state of every touched account (balance, nonce,
//! code hash, storage) must agree.
//!
//! [`Fixtures`] loads the contracts' bytecode, [`Token`] and [`calldata`] ABI-encode calls
//! and constructor arguments, and [`Scenario`] records the transactions; [`check`] runs
//! them both ways.

use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::context_interface::result::{ExecutionResult, HaltReason};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, B256, Bytes, TxKind, U256, address, hex, keccak256};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{FrameStats, JitCache, JitEvm, ProgramSource};
use revmc_runtime::{CompiledProgram, RuntimeCacheKey};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The fork every scenario runs under.
pub const SPEC: SpecId = SpecId::CANCUN;
/// Gas limit of every transaction: room for deploying the largest contracts (≈25 KB).
pub const GAS_LIMIT: u64 = 30_000_000;
/// Base fee of the block and gas price of every transaction, so fees are really charged.
pub const GAS_PRICE: u64 = 1_000_000_000;
/// Block timestamp; deadlines in calls must be at or after it.
pub const TIMESTAMP: u64 = 1_700_000_000;

/// The deployer of the scenarios' contracts.
pub const DEPLOYER: Address = address!("0x1000000000000000000000000000000000000001");
/// A user.
pub const ALICE: Address = address!("0x2000000000000000000000000000000000000002");
/// Another user.
pub const BOB: Address = address!("0x3000000000000000000000000000000000000003");
/// A third user (a spender, an operator).
pub const CAROL: Address = address!("0x4000000000000000000000000000000000000004");

/// `n` ether (10^18 wei each, or 10^18 units of an 18-decimal token).
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64.pow(18))
}

/// One contract of the fixtures.
#[derive(Debug, Clone)]
pub struct Contract {
    /// The npm package it comes from.
    pub package: String,
    /// Creation (constructor) code; constructor arguments are appended to it.
    pub creation: Vec<u8>,
    /// Deployed code, with immutables left zero.
    pub deployed: Vec<u8>,
}

/// The contracts of `fixtures/contracts/*.json`, by name.
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    contracts: BTreeMap<String, Vec<Contract>>,
}

impl Fixtures {
    /// `fixtures/contracts`: `../shared/fixtures` beside the workspace root.
    pub fn dir() -> PathBuf {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit is in a workspace");
        root.join("../shared/fixtures/contracts")
    }

    /// Loads every package; `None` (after printing `SKIPPED: <path> not found`) when the
    /// fixtures are not on this machine, so tests skip rather than fail.
    pub fn load() -> Option<Self> {
        let dir = Self::dir();
        if !dir.is_dir() {
            println!("SKIPPED: {} not found", dir.display());
            return None;
        }
        let mut fixtures = Self::default();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let package = json["package"].as_str().unwrap_or_default().to_string();
            let decode = |section: &str, name: &str| {
                let code = json[section][name].as_str().unwrap_or_default();
                hex::decode(code).unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()))
            };
            let Some(deployed) = json["contracts"].as_object() else { continue };
            for name in deployed.keys() {
                fixtures.contracts.entry(name.clone()).or_default().push(Contract {
                    package: package.clone(),
                    creation: decode("creation", name),
                    deployed: decode("contracts", name),
                });
            }
        }
        Some(fixtures)
    }

    /// Whether a contract called `name` exists (in exactly one package).
    pub fn has(&self, name: &str) -> bool {
        self.contracts.get(name).is_some_and(|c| c.len() == 1)
    }

    /// The contract called `name`; panics if it is missing or several packages have one.
    pub fn get(&self, name: &str) -> &Contract {
        match self.contracts.get(name).map(Vec::as_slice) {
            Some([contract]) => contract,
            Some(several) => panic!(
                "{name} is in several packages: {:?}",
                several.iter().map(|c| &c.package).collect::<Vec<_>>()
            ),
            None => panic!("no contract {name} in {}", Self::dir().display()),
        }
    }
}

/// An ABI value: one static word, or dynamic `bytes`/`string` data (encoded in the tail
/// with its length). A struct of static fields is encoded inline, so it is passed as its
/// fields, one token each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A static value, already as its 32-byte word.
    Word(U256),
    /// `bytes` or `string`.
    Dynamic(Vec<u8>),
}

impl Token {
    /// An `address`.
    pub fn address(a: Address) -> Self {
        Self::Word(U256::from_be_slice(a.as_slice()))
    }

    /// A `uint<N>`.
    pub fn uint(v: U256) -> Self {
        Self::Word(v)
    }

    /// A small `uint<N>`.
    pub fn num(v: u128) -> Self {
        Self::Word(U256::from(v))
    }

    /// An `int<N>`: two's complement, sign-extended to 256 bits.
    pub fn int(v: i64) -> Self {
        let magnitude = U256::from(v.unsigned_abs());
        Self::Word(if v < 0 { magnitude.wrapping_neg() } else { magnitude })
    }

    /// A `bool`.
    pub fn bool(b: bool) -> Self {
        Self::Word(U256::from(b))
    }

    /// A `string`.
    pub fn string(s: &str) -> Self {
        Self::Dynamic(s.as_bytes().to_vec())
    }
}

/// ABI-encodes `tokens` as a tuple: heads in order (a dynamic value's head is the offset
/// of its tail from the start of the tuple), then the tails (length word, data padded to
/// a multiple of 32 bytes).
pub fn encode(tokens: &[Token]) -> Vec<u8> {
    let mut head = Vec::with_capacity(32 * tokens.len());
    let mut tail = Vec::new();
    for token in tokens {
        match token {
            Token::Word(w) => head.extend(w.to_be_bytes::<32>()),
            Token::Dynamic(data) => {
                head.extend(U256::from(32 * tokens.len() + tail.len()).to_be_bytes::<32>());
                tail.extend(U256::from(data.len()).to_be_bytes::<32>());
                tail.extend(data);
                tail.resize(tail.len().next_multiple_of(32), 0);
            }
        }
    }
    head.extend(tail);
    head
}

/// The 4-byte selector of a function signature such as `transfer(address,uint256)`.
pub fn selector(signature: &str) -> [u8; 4] {
    keccak256(signature.as_bytes())[..4].try_into().expect("four bytes")
}

/// Call data: the selector of `signature`, then the encoded arguments.
pub fn calldata(signature: &str, args: &[Token]) -> Bytes {
    let mut data = selector(signature).to_vec();
    data.extend(encode(args));
    data.into()
}

/// Word `i` of ABI-encoded `data`.
pub fn word(data: &[u8], i: usize) -> U256 {
    let bytes = data
        .get(32 * i..32 * (i + 1))
        .unwrap_or_else(|| panic!("no word {i} in {} bytes: 0x{}", data.len(), hex::encode(data)));
    U256::from_be_slice(bytes)
}

/// Word `i` of `data` as an `address`.
pub fn word_address(data: &[u8], i: usize) -> Address {
    Address::from_word(B256::from(word(data, i)))
}

/// Word `i` of `data` as a signed integer that fits in 128 bits (e.g. an `int24`).
pub fn word_int(data: &[u8], i: usize) -> i128 {
    let w = word(data, i);
    if w.bit(255) {
        -(i128::try_from(w.wrapping_neg()).expect("fits"))
    } else {
        i128::try_from(w).expect("fits")
    }
}

/// `data` as the encoding of one `string` (or `bytes`), lossily as UTF-8.
pub fn decode_string(data: &[u8]) -> String {
    let offset = usize::try_from(word(data, 0)).expect("offset");
    let len = usize::try_from(word(&data[offset..], 0)).expect("length");
    String::from_utf8_lossy(&data[offset + 32..offset + 32 + len]).into_owned()
}

/// The message of a Solidity `Error(string)` revert.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    let rest = output.strip_prefix(&selector("Error(string)"))?;
    Some(decode_string(rest))
}

/// What a transaction must do in the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// End in `ExecutionResult::Success`.
    Success,
    /// End in `ExecutionResult::Revert` (a `REVERT`, not an exceptional halt).
    Revert,
}

/// One transaction of a [`Scenario`].
#[derive(Debug, Clone)]
pub struct Step {
    /// For reports: who calls what.
    pub label: String,
    /// The sender (an EOA).
    pub caller: Address,
    /// Call or create.
    pub kind: TxKind,
    /// Call data or init code.
    pub data: Bytes,
    /// Wei sent.
    pub value: U256,
    /// The sender's nonce.
    pub nonce: u64,
    /// What the interpreter must report.
    pub expect: Expect,
    /// For a create: the address it must create (from sender and nonce).
    pub creates: Option<Address>,
}

impl Step {
    /// The transaction: gas limit [`GAS_LIMIT`] at gas price [`GAS_PRICE`].
    pub fn tx_env(&self) -> TxEnv {
        TxEnv::builder()
            .caller(self.caller)
            .kind(self.kind)
            .data(self.data.clone())
            .value(self.value)
            .nonce(self.nonce)
            .gas_limit(GAS_LIMIT)
            .gas_price(u128::from(GAS_PRICE))
            .build_fill()
    }
}

/// A sequence of transactions over a fresh state, with names for accounts and codes.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    steps: Vec<Step>,
    /// Funded EOAs in the pre-state, and each account's next nonce.
    nonces: BTreeMap<Address, u64>,
    /// Account names, for labels.
    accounts: BTreeMap<Address, String>,
    /// The contract at each address, for naming the code deployed there.
    contracts: BTreeMap<Address, String>,
    /// Names of codes by hash (init codes, which are not in the final state).
    codes: BTreeMap<B256, String>,
}

impl Scenario {
    /// An empty scenario.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scenario with [`DEPLOYER`], [`ALICE`], [`BOB`] and [`CAROL`] funded.
    pub fn with_four_accounts() -> Self {
        let mut s = Self::new();
        for (eoa, name) in
            [(DEPLOYER, "deployer"), (ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")]
        {
            s.fund(eoa, name);
        }
        s
    }

    /// Adds an EOA holding 10^24 wei to the pre-state.
    pub fn fund(&mut self, eoa: Address, name: &str) {
        self.nonces.insert(eoa, 0);
        self.accounts.insert(eoa, name.to_string());
    }

    /// Names `addr` in step labels (e.g. "token A" rather than the contract's name).
    pub fn name_account(&mut self, addr: Address, name: &str) {
        self.accounts.insert(addr, name.to_string());
    }

    /// Records that `contract` runs at `addr` (e.g. a contract created by another
    /// contract), naming its code in reports and `addr` in labels unless already named.
    pub fn name_contract(&mut self, addr: Address, contract: &str) {
        self.contracts.insert(addr, contract.to_string());
        self.accounts.entry(addr).or_insert_with(|| contract.to_string());
    }

    /// Names `code` (e.g. init code run by a contract's CREATE2) for reports.
    pub fn name_code(&mut self, code: &[u8], name: &str) {
        self.codes.insert(keccak256(code), name.to_string());
    }

    fn next_nonce(&mut self, eoa: Address) -> u64 {
        let nonce = self.nonces.get_mut(&eoa).unwrap_or_else(|| panic!("{eoa} is not funded"));
        *nonce += 1;
        *nonce - 1
    }

    fn name(&self, addr: Address) -> String {
        self.accounts.get(&addr).cloned().unwrap_or_else(|| addr.to_string())
    }

    /// Deploys `creation` code with `args` appended from `from`; returns the address it
    /// will have (the CREATE address of sender and nonce).
    pub fn deploy(
        &mut self,
        from: Address,
        name: &str,
        creation: &[u8],
        args: &[Token],
    ) -> Address {
        let nonce = self.next_nonce(from);
        let addr = from.create(nonce);
        let mut init = creation.to_vec();
        init.extend(encode(args));
        self.name_code(&init, &format!("{name} (creation)"));
        self.name_contract(addr, name);
        self.steps.push(Step {
            label: format!("{} deploys {name}", self.name(from)),
            caller: from,
            kind: TxKind::Create,
            data: init.into(),
            value: U256::ZERO,
            nonce,
            expect: Expect::Success,
            creates: Some(addr),
        });
        addr
    }

    /// Calls `signature` on `to` from `from`; returns the step's index.
    pub fn call(
        &mut self,
        from: Address,
        to: Address,
        signature: &str,
        args: &[Token],
        expect: Expect,
    ) -> usize {
        self.call_with_value(from, to, U256::ZERO, signature, args, expect)
    }

    /// [`Self::call`] sending `value` wei.
    pub fn call_with_value(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        signature: &str,
        args: &[Token],
        expect: Expect,
    ) -> usize {
        let nonce = self.next_nonce(from);
        let function = signature.split('(').next().unwrap_or(signature);
        let outcome = if expect == Expect::Revert { " (reverts)" } else { "" };
        self.steps.push(Step {
            label: format!("{}: {}.{function}{outcome}", self.name(from), self.name(to)),
            caller: from,
            kind: TxKind::Call(to),
            data: calldata(signature, args),
            value,
            nonce,
            expect,
            creates: None,
        });
        self.steps.len() - 1
    }

    /// The transactions so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The pre-state: every funded EOA holding 10^24 wei.
    pub fn genesis(&self) -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::default());
        for &eoa in self.nonces.keys() {
            db.insert_account_info(
                eoa,
                AccountInfo { balance: U256::from(10u128.pow(24)), ..Default::default() },
            );
        }
        db
    }

    /// The configuration (fork [`SPEC`]) and block every step runs in.
    pub fn environment() -> (CfgEnv, BlockEnv) {
        let mut cfg = CfgEnv::default();
        cfg.set_spec_and_mainnet_gas_params(SPEC);
        let block = BlockEnv {
            number: U256::from(20_000_000u64),
            timestamp: U256::from(TIMESTAMP),
            basefee: GAS_PRICE,
            ..Default::default()
        };
        (cfg, block)
    }

    /// Runs every step over a fresh state, in the interpreter or with programs from
    /// `source`, committing each.
    pub fn run(&self, source: Option<&mut dyn ProgramSource>) -> Run {
        let mut db = self.genesis();
        let (cfg, block) = Self::environment();
        let txs = self.steps.iter().map(Step::tx_env);
        let ctx = Context::mainnet().with_cfg(cfg).with_block(block).with_db(&mut db);
        let mut stats = FrameStats::default();
        let results = match source {
            None => {
                let mut evm = ctx.build_mainnet();
                txs.map(|tx| evm.transact_commit(tx).map_err(|e| format!("{e:?}"))).collect()
            }
            Some(source) => {
                let mut evm = JitEvm::new(ctx.build_mainnet(), source);
                let results =
                    txs.map(|tx| evm.transact_commit(tx).map_err(|e| format!("{e:?}"))).collect();
                stats = evm.stats;
                results
            }
        };
        let mut state = String::new();
        let mut code_names = self.codes.clone();
        let accounts: BTreeMap<_, _> = db.cache.accounts.iter().collect();
        for (addr, acc) in accounts {
            state.push_str(&crate::tx::describe_account(addr, acc));
            if let Some(name) = self.contracts.get(addr) {
                code_names.entry(acc.info.code_hash).or_insert_with(|| name.clone());
            }
        }
        Run { results, state, stats, code_names }
    }
}

/// What a run of a [`Scenario`] leaves behind.
#[derive(Debug, Clone)]
pub struct Run {
    /// Each transaction's result; `Err` is an invalid transaction (a scenario bug).
    pub results: Vec<Result<ExecutionResult<HaltReason>, String>>,
    /// Every account after the last commit: balance, nonce, code hash, sorted storage.
    pub state: String,
    /// Frames run compiled / interpreted (zero for an interpreter run).
    pub stats: FrameStats,
    /// Names of the codes the scenario knows: init codes, and codes at known contracts.
    pub code_names: BTreeMap<B256, String>,
}

impl Run {
    /// The result of step `i`; panics on an invalid transaction.
    pub fn result(&self, i: usize) -> &ExecutionResult<HaltReason> {
        self.results[i].as_ref().unwrap_or_else(|e| panic!("step {i} is invalid: {e}"))
    }

    /// The output of step `i` (empty after a halt).
    pub fn output(&self, i: usize) -> &[u8] {
        self.result(i).output().map_or(&[], |o| o.as_ref())
    }
}

/// A [`ProgramSource`] that takes programs from another and remembers every code it was
/// asked for and what came back: which contracts really ran compiled, and their size.
pub struct Recorder<'a> {
    /// Where programs come from.
    pub inner: &'a mut dyn ProgramSource,
    /// Every code asked for, in first-seen order, and the native bytes of its program
    /// (`None`: it ran interpreted).
    pub seen: Vec<(RuntimeCacheKey, Option<usize>)>,
}

impl<'a> Recorder<'a> {
    /// A recorder over `inner`.
    pub fn new(inner: &'a mut dyn ProgramSource) -> Self {
        Self { inner, seen: Vec::new() }
    }
}

impl std::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("seen", &self.seen).finish_non_exhaustive()
    }
}

impl ProgramSource for Recorder<'_> {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        let program = self.inner.program(key, code);
        if !self.seen.iter().any(|(k, _)| *k == key) {
            self.seen.push((key, program.as_ref().map(|p| p.native_code_bytes())));
        }
        program
    }

    fn records_interpreted(&self) -> bool {
        self.inner.records_interpreted()
    }

    fn interpreted(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        self.inner.interpreted(key, code, gas);
    }
}

/// A code that ran during the compiled run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRun {
    /// Its name (`Name`, `Name (creation)`) or its hash.
    pub name: String,
    /// Whether it ran compiled.
    pub compiled: bool,
    /// Why it did not compile.
    pub error: Option<String>,
}

/// Both runs of a scenario agreed.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Step labels.
    pub labels: Vec<String>,
    /// The interpreter's run (the oracle).
    pub interpreted: Run,
    /// Frames of the compiled run by how they ran.
    pub stats: FrameStats,
    /// Every code of the compiled run, in first-seen order.
    pub codes: Vec<CodeRun>,
}

impl Checked {
    /// Per step: status, gas used and refunded; then every code and whether it compiled.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (i, (label, result)) in self.labels.iter().zip(&self.interpreted.results).enumerate() {
            let _ = match result {
                Ok(r) => {
                    let status = match r {
                        ExecutionResult::Success { .. } => "success".to_string(),
                        ExecutionResult::Revert { output, .. } => format!(
                            "revert {:?}",
                            revert_reason(output).unwrap_or_else(|| hex::encode_prefixed(output))
                        ),
                        ExecutionResult::Halt { reason, .. } => format!("halt {reason:?}"),
                    };
                    writeln!(
                        out,
                        "{i:>3} {label:<60} gas {:>9} refund {:>6} {status}",
                        r.gas().tx_gas_used(),
                        r.gas().inner_refunded()
                    )
                }
                Err(e) => writeln!(out, "{i:>3} {label:<60} invalid: {e}"),
            };
        }
        let _ = writeln!(
            out,
            "frames: {} compiled, {} interpreted",
            self.stats.compiled, self.stats.interpreted
        );
        for code in &self.codes {
            let _ = match &code.error {
                None => writeln!(out, "  compiled: {}", code.name),
                Some(e) => writeln!(out, "  refused:  {}: {e}", code.name),
            };
        }
        out
    }

    /// Asserts that every code that ran compiled, with no compilation failure, that no
    /// frame ran interpreted, and that each of `names` was among the codes that ran.
    pub fn assert_all_compiled(&self, names: &[&str]) {
        let ran: Vec<&str> = self.codes.iter().map(|c| c.name.as_str()).collect();
        let missing: Vec<_> = names.iter().filter(|n| !ran.contains(n)).collect();
        assert!(missing.is_empty(), "{missing:?} never ran; codes that ran: {ran:?}");
        let refused: Vec<String> = self
            .codes
            .iter()
            .filter(|c| !c.compiled)
            .map(|c| format!("{}: {}", c.name, c.error.as_deref().unwrap_or("no program")))
            .collect();
        assert!(
            refused.is_empty() && self.stats.interpreted == 0,
            "{} of {} codes did not compile ({} of {} frames ran interpreted):\n  {}",
            refused.len(),
            self.codes.len(),
            self.stats.interpreted,
            self.stats.interpreted + self.stats.compiled,
            refused.join("\n  ")
        );
    }
}

/// Runs `scenario` in the interpreter, checks every step did what it expects there (so a
/// wrong encoding fails loudly instead of comparing two identical reverts), then runs it
/// with programs from `cache`; `Err` describes the first expectation not met or the first
/// difference.
pub fn check(scenario: &Scenario, cache: &mut JitCache) -> Result<Checked, String> {
    let want = scenario.run(None);
    for (i, (step, result)) in scenario.steps.iter().zip(&want.results).enumerate() {
        let result =
            result.as_ref().map_err(|e| format!("step {i} ({}) is invalid: {e}", step.label))?;
        let met = match (step.expect, result) {
            (Expect::Success, ExecutionResult::Success { .. }) => {
                step.creates.is_none() || result.created_address() == step.creates
            }
            (Expect::Revert, ExecutionResult::Revert { .. }) => true,
            _ => false,
        };
        if !met {
            let reason = result.output().and_then(|o| revert_reason(o)).unwrap_or_default();
            return Err(format!(
                "step {i} ({}): expected {:?}{} in the interpreter, got {result:?} {reason:?}",
                step.label,
                step.expect,
                step.creates.map(|a| format!(" creating {a}")).unwrap_or_default()
            ));
        }
    }
    let mut recorder = Recorder::new(&mut *cache);
    let got = scenario.run(Some(&mut recorder));
    let seen = recorder.seen;
    for (i, step) in scenario.steps.iter().enumerate() {
        let (w, g) = (format!("{:?}", want.results[i]), format!("{:?}", got.results[i]));
        if w != g {
            return Err(format!(
                "step {i} ({}): result differs\n  interpreter: {w}\n  compiled:    {g}",
                step.label
            ));
        }
    }
    if got.state != want.state {
        return Err(format!(
            "final state differs\n  interpreter:\n{}  compiled:\n{}",
            want.state, got.state
        ));
    }
    let codes = seen
        .iter()
        .map(|(key, compiled)| CodeRun {
            name: want
                .code_names
                .get(&key.code_hash)
                .cloned()
                .unwrap_or_else(|| key.code_hash.to_string()),
            compiled: compiled.is_some(),
            error: cache.failures.iter().find(|(k, _)| k == key).map(|(_, e)| e.clone()),
        })
        .collect();
    Ok(Checked {
        labels: scenario.steps.iter().map(|s| s.label.clone()).collect(),
        interpreted: want,
        stats: got.stats,
        codes,
    })
}
