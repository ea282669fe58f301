//! One transaction over generated contracts, run in revm's interpreter and with compiled
//! frames; everything observable must agree: status, gas used and refunded, output, logs,
//! and every account's balance, nonce, code and storage afterwards.

use revm::bytecode::Bytecode;
use revm::context::{CfgEnv, Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, U256, address};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{FrameStats, JitCache, JitEvm};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Sender of every generated transaction.
pub const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
/// The contract the transaction calls.
pub const CONTRACT_A: Address = address!("0x00000000000000000000000000000000000000aa");
/// A second contract the first can call.
pub const CONTRACT_B: Address = address!("0x00000000000000000000000000000000000000bb");

/// Forks a case can run under, oldest first.
const SPECS: [SpecId; 14] = [
    SpecId::FRONTIER,
    SpecId::HOMESTEAD,
    SpecId::TANGERINE,
    SpecId::SPURIOUS_DRAGON,
    SpecId::BYZANTIUM,
    SpecId::PETERSBURG,
    SpecId::ISTANBUL,
    SpecId::BERLIN,
    SpecId::LONDON,
    SpecId::MERGE,
    SpecId::SHANGHAI,
    SpecId::CANCUN,
    SpecId::PRAGUE,
    SpecId::OSAKA,
];

/// A transaction and the pre-state it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The fork.
    pub spec: SpecId,
    /// Code of [`CONTRACT_A`], which the transaction calls.
    pub code_a: Vec<u8>,
    /// Code of [`CONTRACT_B`].
    pub code_b: Vec<u8>,
    /// Call data of the transaction.
    pub calldata: Vec<u8>,
    /// Wei sent with the transaction.
    pub value: u64,
    /// Gas limit of the transaction.
    pub gas_limit: u64,
}

impl Case {
    /// Decodes a case: five header bytes (spec, gas, value, the split between the two
    /// contracts, call data length), the call data, then the generator input of both
    /// contracts.
    pub fn from_bytes(data: &[u8]) -> Option<Self> {
        let [spec, gas, value, split, calldata_len, rest @ ..] = data else { return None };
        let (calldata, rest) = rest.split_at(rest.len().min(usize::from(*calldata_len % 33)));
        let split = (*split as usize * rest.len()) / 255;
        let (a, b) = rest.split_at(split);
        Some(Self {
            // Half the cases run on the last three forks, where most opcodes exist.
            spec: if spec & 0x80 != 0 {
                SPECS[SPECS.len() - 1 - *spec as usize % 3]
            } else {
                SPECS[*spec as usize % SPECS.len()]
            },
            code_a: crate::generate(a),
            code_b: crate::generate(b),
            calldata: calldata.to_vec(),
            value: u64::from(*value % 4),
            gas_limit: 30_000 + u64::from(*gas) * 4_000,
        })
    }
}

/// What a run of a [`Case`] leaves behind, in a form that compares and prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The transaction result: status, gas used and refunded, output, logs.
    pub result: String,
    /// Every account after commit: balance, nonce, code hash and sorted storage.
    pub state: String,
}

/// Runs `case` in revm's interpreter, or with compiled frames from `cache`; in the latter
/// case also returns how many frames ran each way.
pub fn run(case: &Case, cache: Option<&mut JitCache>) -> (Observed, FrameStats) {
    let mut db = CacheDB::new(EmptyDB::default());
    let account = |code: &[u8]| AccountInfo {
        balance: U256::from(1_000u64),
        nonce: 1,
        ..AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::copy_from_slice(code)))
    };
    db.insert_account_info(CONTRACT_A, account(&case.code_a));
    db.insert_account_info(CONTRACT_B, account(&case.code_b));
    db.insert_account_info(
        CALLER,
        AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() },
    );
    let mut cfg = CfgEnv::default();
    cfg.set_spec_and_mainnet_gas_params(case.spec);
    let tx = TxEnv::builder()
        .caller(CALLER)
        .call(CONTRACT_A)
        .value(U256::from(case.value))
        .data(Bytes::copy_from_slice(&case.calldata))
        .gas_limit(case.gas_limit)
        .build_fill();
    let ctx = Context::mainnet().with_cfg(cfg).with_db(&mut db);
    let (result, stats) = match cache {
        None => (ctx.build_mainnet().transact_commit(tx), FrameStats::default()),
        Some(cache) => {
            let mut evm = JitEvm::new(ctx.build_mainnet(), cache);
            (evm.transact_commit(tx), evm.stats)
        }
    };
    let result = format!("{result:?}");
    let mut state = String::new();
    let accounts: BTreeMap<_, _> = db.cache.accounts.iter().collect();
    for (addr, acc) in accounts {
        state.push_str(&describe_account(addr, acc));
    }
    (Observed { result, state }, stats)
}

/// One line describing an account after a transaction: status, balance, nonce, code hash
/// and sorted storage.
pub fn describe_account(addr: &Address, acc: &revm::database::DbAccount) -> String {
    let storage: BTreeMap<_, _> = acc.storage.iter().collect();
    let mut line = String::new();
    let _ = writeln!(
        line,
        "{addr}: {:?} balance {} nonce {} code {} storage {storage:?}",
        acc.account_state, acc.info.balance, acc.info.nonce, acc.info.code_hash
    );
    line
}

/// Runs `case` both ways; `Err` describes the first difference.
pub fn check(case: &Case, cache: &mut JitCache) -> Result<FrameStats, String> {
    let (want, _) = run(case, None);
    let (got, stats) = run(case, Some(cache));
    if got.result != want.result {
        return Err(format!(
            "result differs\n  interpreter: {}\n  compiled:    {}",
            want.result, got.result
        ));
    }
    if got.state != want.state {
        return Err(format!(
            "state differs\n  interpreter:\n{}  compiled:\n{}",
            want.state, got.state
        ));
    }
    Ok(stats)
}
