//! Whole transactions through revm with the service as the program source: interpreted
//! until hot, then compiled, with identical results either way.

use super::common::*;
use revm::bytecode::Bytecode;
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{Address, Bytes, U256, address};
use revm::state::AccountInfo;
use revm::{MainBuilder, MainContext};
use revmc_runtime::Tuning;
use revmc_runtime::evm::{JitEvm, OnMiss, RuntimeSource};
use std::time::Duration;

const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
const A: Address = address!("0x00000000000000000000000000000000000000aa");

/// Increments storage slot 0 and logs the new value.
const COUNTER: &[u8] = &[
    0x60, 0, 0x54, 0x60, 1, 0x01, 0x80, 0x60, 0, 0x55, // SSTORE(0, SLOAD(0) + 1)
    0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xa0, 0x00, // MSTORE; LOG0(0, 32); STOP
];

#[test]
fn transactions_run_interpreted_until_hot_then_compiled_with_the_same_results() {
    let rt = runtime(Tuning { hot_threshold_gas: 50_000, ..tuning() });
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        A,
        AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::from_static(COUNTER))),
    );
    db.insert_account_info(
        CALLER,
        AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() },
    );
    let mut interpreted = 0;
    let mut results = Vec::new();
    for nonce in 0..200u64 {
        let tx =
            TxEnv::builder().caller(CALLER).call(A).nonce(nonce).gas_limit(100_000).build_fill();
        let mut source = RuntimeSource::new(&rt, OnMiss::Background);
        let mut evm = JitEvm::new(Context::mainnet().with_db(&mut db).build_mainnet(), &mut source);
        let result = evm.transact_commit(tx).unwrap();
        interpreted += evm.stats.interpreted;
        if evm.stats.compiled == 1 {
            results.push(format!("{:?}", result.logs()));
            break;
        }
        if nonce % 10 == 9 {
            // Let the background compilation land; bounded.
            // Ten transactions are far past the threshold: wait (bounded) until the
            // coordinator has promoted the code and the compilation has landed.
            wait_until("the hot code compiled", Duration::from_secs(60), || {
                let s = rt.stats();
                s.succeeded >= 1 && s.queued == 0
            });
        }
        results.push(format!("{:?}", result.logs()));
    }
    assert!(interpreted >= 2, "cold code ran interpreted first ({interpreted} frames)");
    assert!(rt.stats().hits >= 1, "then compiled: {:?}", rt.stats());
    // Each transaction logged the counter's next value, compiled or not.
    let n = results.len();
    let slot = db.cache.accounts[&A].storage[&U256::ZERO];
    assert_eq!(slot, U256::from(n), "one increment per transaction");
    assert!(results.last().unwrap().contains(&format!("{n:064x}")), "{}", results.last().unwrap());
}
