//! A panic in the embedder's database during a host operation of compiled code reaches
//! the embedder as the same Rust panic the interpreter would raise; it never unwinds
//! through compiled code (which would abort the process).

use revm::bytecode::Bytecode;
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::database_interface::{DBErrorMarker, Database, DatabaseCommit};
use revm::primitives::{Address, B256, Bytes, StorageKey, StorageValue, U256, address};
use revm::state::{AccountInfo, Bytecode as StateBytecode};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::OptLevel;
use revmc_runtime::evm::{JitCache, JitEvm};

const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
const A: Address = address!("0x00000000000000000000000000000000000000aa");

/// A database whose storage reads panic.
#[derive(Debug)]
struct PanickingStorage(CacheDB<EmptyDB>);

#[derive(Debug)]
struct Never;
impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}
impl std::error::Error for Never {}
impl DBErrorMarker for Never {}

impl Database for PanickingStorage {
    type Error = Never;
    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Never> {
        Ok(self.0.basic(address).unwrap_or_default())
    }
    fn code_by_hash(&mut self, hash: B256) -> Result<StateBytecode, Never> {
        Ok(self.0.code_by_hash(hash).unwrap_or_default())
    }
    fn storage(&mut self, _: Address, _: StorageKey) -> Result<StorageValue, Never> {
        panic!("the database is gone");
    }
    fn block_hash(&mut self, number: u64) -> Result<B256, Never> {
        Ok(self.0.block_hash(number).unwrap_or_default())
    }
}

impl DatabaseCommit for PanickingStorage {
    fn commit(&mut self, changes: revm::primitives::AddressMap<revm::state::Account>) {
        self.0.commit(changes)
    }
}

/// A loop (so that it is worth compiling) and then SLOAD(0).
const CODE: &[u8] = &[
    0x60, 100, 0x5b, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 2, 0x57, // count down from 100
    0x50, 0x60, 0, 0x54, 0x00, // POP; SLOAD(0); STOP
];

fn run(jit: Option<&mut JitCache>) -> String {
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        A,
        AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::from_static(CODE))),
    );
    let rich = AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() };
    db.insert_account_info(CALLER, rich);
    let tx = TxEnv::builder().caller(CALLER).call(A).gas_limit(1_000_000).build_fill();
    let ctx = Context::mainnet().with_db(PanickingStorage(db));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match jit {
        None => drop(ctx.build_mainnet().transact_commit(tx)),
        Some(cache) => {
            let mut evm = JitEvm::new(ctx.build_mainnet(), cache);
            let _ = evm.transact_commit(tx);
            assert_eq!(evm.stats.compiled, 1, "the frame ran compiled");
        }
    }));
    let payload = caught.expect_err("the database's panic reaches the caller");
    payload.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default()
}

#[test]
fn a_database_panic_in_compiled_code_is_the_interpreters_panic() {
    let interpreted = run(None);
    assert_eq!(interpreted, "the database is gone");
    let mut cache = JitCache::new(OptLevel::O1).unwrap();
    assert_eq!(run(Some(&mut cache)), interpreted);
    assert!(cache.failures.is_empty(), "{:?}", cache.failures);
}
