//! Environment opcodes (ADDRESS, CALLER, CALLVALUE, ORIGIN, GASPRICE and the block's
//! values), which compiled code loads inline from the context instead of asking the host:
//! a contract stores each word, calls a second contract that stores its own frame's words,
//! and stores its frame's words again after the call (child frames share the array). Every
//! block field has a distinct value, so a word read from the wrong field shows in storage.

use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, B256, Bytes, U256, address};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::OptLevel;
use revmc_runtime::evm::{JitCache, JitEvm};
use revmc_testkit::tx::describe_account;
use std::collections::BTreeMap;

const SENDER: Address = address!("0x1000000000000000000000000000000000000001");
const OUTER: Address = address!("0x00000000000000000000000000000000000000aa");
const INNER: Address = address!("0x00000000000000000000000000000000000000bb");

/// `op; PUSH1 slot; SSTORE` for each opcode, from `first_slot` on.
fn store_each(ops: &[u8], first_slot: u8) -> Vec<u8> {
    ops.iter().zip(first_slot..).flat_map(|(&op, slot)| [op, 0x60, slot, 0x55]).collect()
}

/// Every environment opcode active in Cancun.
const ENV_OPS: [u8; 13] =
    [0x30, 0x33, 0x34, 0x32, 0x3a, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4a];
/// The frame's own words: ADDRESS, CALLER, CALLVALUE.
const FRAME_OPS: [u8; 3] = [0x30, 0x33, 0x34];

/// The environment opcodes active in `spec` (BLOBBASEFEE, the last, from Cancun on).
fn env_ops(spec: SpecId) -> &'static [u8] {
    if spec.is_enabled_in(SpecId::CANCUN) { &ENV_OPS } else { &ENV_OPS[..12] }
}

fn outer_code(spec: SpecId) -> Vec<u8> {
    let mut code = store_each(env_ops(spec), 0);
    // CALL(gas, INNER, value 3, 0, 0, 0, 0); POP
    code.extend([0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 3, 0x73]);
    code.extend(INNER.as_slice());
    code.extend([0x5a, 0xf1, 0x50]);
    code.extend(store_each(&FRAME_OPS, 0x20));
    code.push(0x00);
    code
}

/// Runs the transaction under `spec`, interpreted or compiled; every account afterwards.
fn run(spec: SpecId, cache: Option<&mut JitCache>) -> (String, String) {
    let mut db = CacheDB::new(EmptyDB::default());
    let contract = |code: Vec<u8>| AccountInfo {
        balance: U256::from(1_000u64),
        ..AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::from(code)))
    };
    db.insert_account_info(OUTER, contract(outer_code(spec)));
    db.insert_account_info(INNER, contract([store_each(env_ops(spec), 0), vec![0x00]].concat()));
    let funds = U256::from(10u128.pow(20));
    db.insert_account_info(SENDER, AccountInfo { balance: funds, ..Default::default() });
    let mut cfg = CfgEnv::default();
    cfg.chain_id = 7;
    cfg.set_spec_and_mainnet_gas_params(spec);
    let block = BlockEnv {
        number: U256::from(101),
        beneficiary: address!("0x00000000000000000000000000000000000c0ffe"),
        timestamp: U256::from(1_700_000_003),
        gas_limit: 30_000_005,
        basefee: 11,
        difficulty: U256::from(13),
        prevrandao: Some(B256::with_last_byte(17)),
        blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(0, 3_338_477)),
        ..Default::default()
    };
    let tx = TxEnv::builder()
        .caller(SENDER)
        .call(OUTER)
        .value(U256::from(19))
        .gas_price(23)
        .chain_id(Some(7))
        .gas_limit(1_000_000)
        .build_fill();
    let ctx = Context::mainnet().with_cfg(cfg).with_block(block).with_db(&mut db);
    let result = match cache {
        None => ctx.build_mainnet().transact_commit(tx),
        Some(cache) => {
            let mut evm = JitEvm::new(ctx.build_mainnet(), cache);
            let result = evm.transact_commit(tx);
            assert_eq!(evm.stats.interpreted, 0, "both frames run compiled");
            result
        }
    };
    let result = format!("{result:?}");
    let accounts: BTreeMap<_, _> = db.cache.accounts.iter().collect();
    (result, accounts.into_iter().map(|(a, acc)| describe_account(a, acc)).collect())
}

#[test]
fn environment_words_match_the_interpreter() {
    let mut cache = JitCache::new(OptLevel::O1).expect("JIT compiler");
    // London: DIFFICULTY is the block's difficulty; Cancun: PREVRANDAO.
    for spec in [SpecId::LONDON, SpecId::CANCUN] {
        let (want_result, want_state) = run(spec, None);
        assert!(want_result.contains("Success"), "{spec:?}: {want_result}");
        // Twenty distinct values are stored: the wiring is visible in storage.
        assert!(want_state.contains("1700000003") && want_state.contains("30000005"));
        let (result, state) = run(spec, Some(&mut cache));
        assert_eq!(result, want_result, "{spec:?}");
        assert_eq!(state, want_state, "{spec:?}");
    }
}
