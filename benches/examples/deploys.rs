//! Deployments of distinct init code (most real deployments: the constructor's arguments
//! differ) through revm and through `JitEvm` over the compile service, with the service's
//! rule of hashing init code only from its second sighting, and with every init code
//! hashed and looked up. Prints the time of each and the ratios against revm.
//!
//! `cargo run --release -p revmc-bench --example deploys [-- --deploys N] [--code-kib K]`

use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{Address, Bytes, U256, address, keccak256};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{JitEvm, OnMiss, ProgramSource, RuntimeSource};
use revmc_runtime::{CompiledProgram, Runtime, RuntimeCacheKey, RuntimeConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLER: Address = address!("0x1000000000000000000000000000000000000001");

/// Init code that deploys `kib` KiB of runtime code (CODECOPY + RETURN), with `n` appended
/// as a constructor argument would be, so that every init code is distinct.
fn init_code(kib: usize, n: u64) -> Vec<u8> {
    let len = (kib * 1024) as u16;
    let [hi, lo] = len.to_be_bytes();
    // PUSH2 len; PUSH1 14; PUSH1 0; CODECOPY; PUSH2 len; PUSH1 0; RETURN; then the code.
    let mut c = vec![0x61, hi, lo, 0x60, 14, 0x60, 0, 0x39, 0x61, hi, lo, 0x60, 0, 0xf3];
    c.extend(std::iter::repeat_n(0x5b, kib * 1024 - 8));
    c.extend(n.to_be_bytes());
    c
}

/// Every init code hashed and looked up: the rule before the seen filter.
struct HashEverything<'r>(RuntimeSource<&'r Runtime>);

impl ProgramSource for HashEverything<'_> {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        self.0.program(key, code)
    }
    fn records_interpreted(&self) -> bool {
        self.0.records_interpreted()
    }
    fn interpreted(&mut self, key: RuntimeCacheKey, code: &Bytes, gas: u64) {
        self.0.interpreted(key, code, gas)
    }
}

fn run(deploys: u64, kib: usize, source: Option<&mut dyn ProgramSource>) -> Duration {
    let mut db = CacheDB::new(EmptyDB::default());
    let funds = AccountInfo { balance: U256::from(10u64.pow(24)), ..Default::default() };
    db.insert_account_info(CALLER, funds);
    let txs: Vec<TxEnv> = (0..deploys)
        .map(|nonce| {
            TxEnv::builder()
                .caller(CALLER)
                .create()
                .data(init_code(kib, nonce).into())
                .nonce(nonce)
                .gas_limit(10_000_000)
                .build_fill()
        })
        .collect();
    let ctx = Context::mainnet().with_db(&mut db);
    let start = Instant::now();
    match source {
        None => {
            let mut evm = ctx.build_mainnet();
            for tx in txs {
                assert!(evm.transact_commit(tx).unwrap().is_success());
            }
        }
        Some(source) => {
            let mut evm = JitEvm::new(ctx.build_mainnet(), source);
            for tx in txs {
                assert!(evm.transact_commit(tx).unwrap().is_success());
            }
        }
    }
    start.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(default)
    };
    let (deploys, kib) = (arg("--deploys", 2000), arg("--code-kib", 8) as usize);
    let rt = Runtime::new(RuntimeConfig::default()).expect("the runtime starts");
    let _ = keccak256([]); // warm the hasher
    let mut best = [Duration::MAX; 3];
    for _ in 0..5 {
        best[0] = best[0].min(run(deploys, kib, None));
        let mut filtered = RuntimeSource::new(&rt, OnMiss::Background);
        best[1] = best[1].min(run(deploys, kib, Some(&mut filtered)));
        let mut everything = HashEverything(RuntimeSource::new(&rt, OnMiss::Background));
        best[2] = best[2].min(run(deploys, kib, Some(&mut everything)));
    }
    let ratio = |d: Duration| best[0].as_secs_f64() / d.as_secs_f64();
    println!("{deploys} deployments of distinct {kib} KiB init code, best of 5:");
    println!("  revm                              {:>9.2?}", best[0]);
    println!("  JitEvm, init code hashed if seen   {:>9.2?}  {:.2}x", best[1], ratio(best[1]));
    println!("  JitEvm, every init code hashed     {:>9.2?}  {:.2}x", best[2], ratio(best[2]));
}
