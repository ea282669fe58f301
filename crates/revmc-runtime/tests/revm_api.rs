//! `JitEvm` through revm's own execution traits: a block executor written against
//! `ExecuteCommitEvm` takes it in place of revm's mainnet EVM, owning an `Arc<Runtime>`;
//! `replay` and system calls match revm's; inspected transactions run interpreted.

#[path = "service/common.rs"]
mod common;

use common::*;
use revm::bytecode::Bytecode;
use revm::context::{Context, ContextTr, TxEnv};
use revm::context_interface::result::{ExecutionResult, HaltReason};
use revm::database::{CacheDB, EmptyDB};
use revm::interpreter::Interpreter;
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::{Address, Bytes, U256, address, keccak256};
use revm::state::AccountInfo;
use revm::{
    ExecuteCommitEvm, ExecuteEvm, InspectEvm, Inspector, MainBuilder, MainContext, SystemCallEvm,
};
use revmc_runtime::evm::{JitEvm, RuntimeJitEvm};
use revmc_runtime::{RuntimeCacheKey, SpecId, Tuning};
use std::sync::Arc;

const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
const COUNTER_AT: Address = address!("0x00000000000000000000000000000000000000aa");

/// Loops 50 times (so that it is worth compiling), increments storage slot 0, logs the
/// new value and returns it.
const COUNTER: &[u8] = &[
    0x60, 50, // PUSH1 50
    0x5b, 0x60, 1, 0x90, 0x03, // JUMPDEST; n - 1
    0x80, 0x60, 2, 0x57, // DUP1; JUMPI back while n != 0
    0x50, 0x60, 0, 0x54, 0x60, 1, 0x01, 0x80, 0x60, 0, 0x55, // POP; SSTORE(0, SLOAD(0) + 1)
    0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xa0, // MSTORE; LOG0(0, 32)
    0x60, 32, 0x60, 0, 0xf3, // RETURN(0, 32)
];

fn db() -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    let code = Bytecode::new_legacy(Bytes::from_static(COUNTER));
    db.insert_account_info(COUNTER_AT, AccountInfo::default().with_code(code));
    let funds = AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() };
    db.insert_account_info(CALLER, funds);
    db
}

fn txs(n: u64) -> Vec<TxEnv> {
    (0..n)
        .map(|nonce| {
            TxEnv::builder()
                .caller(CALLER)
                .call(COUNTER_AT)
                .nonce(nonce)
                .gas_limit(200_000)
                .build_fill()
        })
        .collect()
}

/// A block executor as a node writes it: generic over revm's execution trait.
fn execute_block<E>(evm: &mut E, txs: Vec<TxEnv>) -> Vec<ExecutionResult<HaltReason>>
where
    E: ExecuteCommitEvm<Tx = TxEnv, ExecutionResult = ExecutionResult<HaltReason>>,
    E::Error: std::fmt::Debug,
{
    txs.into_iter().map(|tx| evm.transact_commit(tx).expect("valid transaction")).collect()
}

/// A runtime that has the counter compiled already (hotness is tested elsewhere).
fn runtime_with_counter() -> Arc<revmc_runtime::Runtime> {
    let rt = Arc::new(runtime(Tuning { min_loop_free_instructions: 0, ..tuning() }));
    let key = RuntimeCacheKey::new(keccak256(COUNTER), SpecId::default());
    rt.compile_sync(key, COUNTER).expect("the counter compiles");
    rt
}

#[test]
fn a_block_executor_takes_jit_evm_in_place_of_revms_evm() {
    let mut revm_evm = Context::mainnet().with_db(db()).build_mainnet();
    let want = execute_block(&mut revm_evm, txs(5));

    // The one-line swap: same context, wrapped; the EVM owns its share of the runtime.
    let rt = runtime_with_counter();
    let mut jit_evm: RuntimeJitEvm<_> =
        JitEvm::with_runtime(Context::mainnet().with_db(db()).build_mainnet(), rt.clone());
    let got = execute_block(&mut jit_evm, txs(5));

    assert_eq!(got, want);
    assert_eq!(jit_evm.stats.compiled, 5, "every call ran compiled: {:?}", jit_evm.stats);
    let slot = |db: &CacheDB<EmptyDB>| db.cache.accounts[&COUNTER_AT].storage[&U256::ZERO];
    assert_eq!(slot(jit_evm.inner.ctx.db()), U256::from(5));
    assert_eq!(slot(jit_evm.inner.ctx.db()), slot(revm_evm.ctx.db()));
    assert!(rt.stats().hits >= 5);
}

#[test]
fn transact_replay_and_system_calls_match_revm() {
    let rt = runtime_with_counter();
    let mut revm_evm = Context::mainnet().with_db(db()).build_mainnet();
    let mut jit_evm = JitEvm::with_runtime(Context::mainnet().with_db(db()).build_mainnet(), rt);
    let tx = txs(1).remove(0);

    let want = revm_evm.transact(tx.clone()).unwrap();
    let got = jit_evm.transact(tx).unwrap();
    assert_eq!((&got.result, &got.state), (&want.result, &want.state));

    // `replay` runs the transaction set last again, finalized.
    let want = revm_evm.replay().unwrap();
    let got = jit_evm.replay().unwrap();
    assert_eq!((&got.result, &got.state), (&want.result, &want.state));

    let want = revm_evm.system_call(COUNTER_AT, Bytes::new()).unwrap();
    let got = jit_evm.system_call(COUNTER_AT, Bytes::new()).unwrap();
    assert_eq!((&got.result, &got.state), (&want.result, &want.state));
    assert!(got.result.is_success(), "{:?}", got.result);
    assert_eq!(jit_evm.stats.compiled, 3, "each ran compiled: {:?}", jit_evm.stats);
}

/// Counts the instructions an inspector is shown.
#[derive(Debug, Default, Clone)]
struct Steps(u64);

impl<CTX> Inspector<CTX, EthInterpreter> for Steps {
    fn step(&mut self, _: &mut Interpreter<EthInterpreter>, _: &mut CTX) {
        self.0 += 1;
    }
}

#[test]
fn inspected_transactions_run_interpreted_and_plain_ones_compiled() {
    let rt = runtime_with_counter();
    let tx = txs(1).remove(0);
    let mut revm_evm =
        Context::mainnet().with_db(db()).build_mainnet_with_inspector(Steps::default());
    let want = revm_evm.inspect_tx(tx.clone()).unwrap();

    let inner = Context::mainnet().with_db(db()).build_mainnet_with_inspector(Steps::default());
    let mut jit_evm = JitEvm::with_runtime(inner, rt);
    let got = jit_evm.inspect_tx(tx.clone()).unwrap();
    assert_eq!((&got.result, &got.state), (&want.result, &want.state));
    assert!(revm_evm.inspector.0 > 100, "the loop's steps: {}", revm_evm.inspector.0);
    assert_eq!(jit_evm.inner.inspector.0, revm_evm.inspector.0, "every step was seen");
    assert_eq!(jit_evm.stats.compiled, 0, "inspected frames are interpreted");

    // Without inspection the same EVM runs the frame compiled, and shows no steps.
    let plain = jit_evm.transact(tx).unwrap();
    assert_eq!(plain.result, want.result);
    assert_eq!(jit_evm.stats.compiled, 1);
    assert_eq!(jit_evm.inner.inspector.0, revm_evm.inspector.0, "no steps shown");
}
