//! Whole transactions through revm with the service as the program source: interpreted
//! until hot, then compiled, with identical results either way.

use super::common::*;
use revm::bytecode::Bytecode;
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{Address, Bytes, U256, address};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
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

/// A state with `code` at `A` and a funded `CALLER`.
fn genesis(code: &'static [u8]) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    let code = Bytecode::new_legacy(Bytes::from_static(code));
    db.insert_account_info(A, AccountInfo::default().with_code(code));
    let rich = AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() };
    db.insert_account_info(CALLER, rich);
    db
}

/// Loops 200 times, then increments storage slot 0.
const LOOP_THEN_COUNT: &[u8] = &[
    0x61, 0x00, 0xc8, // PUSH2 200
    0x5b, 0x60, 1, 0x90, 0x03, // JUMPDEST; n - 1
    0x80, 0x60, 3, 0x57, // DUP1; JUMPI back while n != 0
    0x50, 0x60, 0, 0x54, 0x60, 1, 0x01, 0x60, 0, 0x55, 0x00, // POP; slot 0 += 1; STOP
];

#[test]
fn hot_code_runs_first_tier_then_is_recompiled_optimized_with_the_same_results() {
    use revm::ExecuteCommitEvm;
    use revmc_runtime::{Lookup, OptLevel, Tier};
    let rt = runtime(Tuning {
        hot_threshold_gas: 20_000,
        first_tier_opt_level: Some(OptLevel::O0),
        tier_up_gas: 100_000,
        ..tuning()
    });
    // Keyed by the spec the transactions run under.
    let spec = Context::mainnet().cfg.spec;
    let k = revmc_runtime::RuntimeCacheKey::new(revm::primitives::keccak256(LOOP_THEN_COUNT), spec);
    let (mut db, mut oracle_db) = (genesis(LOOP_THEN_COUNT), genesis(LOOP_THEN_COUNT));
    let mut tiers = Vec::new();
    // Bounded by time, not by a count of transactions: the first-tier frames' gas reaches
    // the coordinator asynchronously (it polls every 1–16 ms), and an optimized build ran
    // a fixed count of 300 in about 15 ms, before the tier-up had been dispatched.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut nonce = 0u64;
    while std::time::Instant::now() < deadline {
        let tx =
            || TxEnv::builder().caller(CALLER).call(A).nonce(nonce).gas_limit(100_000).build_fill();
        let tier = match rt.lookup(k) {
            Lookup::Compiled(p) => Some(p.tier()),
            Lookup::Interpret(_) => None,
        };
        let mut source = RuntimeSource::new(&rt, OnMiss::Background);
        let mut evm = JitEvm::new(Context::mainnet().with_db(&mut db).build_mainnet(), &mut source);
        let got = evm.transact_commit(tx()).unwrap();
        let want = Context::mainnet().with_db(&mut oracle_db).build_mainnet().transact_commit(tx());
        assert_eq!(format!("{got:?}"), format!("{:?}", want.unwrap()), "transaction {nonce}");
        if tiers.last() != Some(&tier) {
            tiers.push(tier);
        }
        if tier == Some(Tier::Optimized) {
            break;
        }
        // Let a dispatched compilation land before the next transaction; bounded.
        wait_until("the compile queue drains", Duration::from_secs(60), || rt.stats().queued == 0);
        nonce += 1;
    }
    assert_eq!(tiers, [None, Some(Tier::First), Some(Tier::Optimized)], "{:?}", rt.stats());
    let s = rt.stats();
    assert_eq!((s.succeeded, s.first_tier, s.tier_ups), (2, 1, 1), "{s:?}");
    assert!(
        s.first_tier_compile_time > Duration::ZERO && s.first_tier_compile_time < s.compile_time
    );
    // CPU time, where threads have a clock: some for each tier, never more than the
    // compilations' wall time (one thread compiles each).
    if cfg!(target_os = "linux") {
        let first = s.first_tier_compile_cpu_time;
        assert!(first > Duration::ZERO && first < s.compile_cpu_time, "{s:?}");
        // (The CPU and wall clocks run at slightly different rates: a millisecond of slack.)
        assert!(s.compile_cpu_time <= s.compile_time + Duration::from_millis(1), "{s:?}");
    }
    let slot = |db: &CacheDB<EmptyDB>| db.cache.accounts[&A].storage[&U256::ZERO];
    assert_eq!(slot(&db), slot(&oracle_db));
}

/// Init code: loops 50 times, then deploys the one-byte code `STOP`.
const LOOP_THEN_DEPLOY: &[u8] = &[
    0x60, 50, 0x5b, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 2, 0x57, // loop
    0x50, 0x60, 0, 0x60, 0, 0x53, // POP; MSTORE8(0, 0)
    0x60, 1, 0x60, 0, 0xf3, // RETURN(0, 1)
];

#[test]
fn init_code_is_hashed_from_its_second_run_and_compiled_once_hot() {
    let rt = runtime(Tuning { hot_threshold_gas: 1_000, ..tuning() });
    let funded = || {
        let mut db = CacheDB::new(EmptyDB::default());
        let funds = AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() };
        db.insert_account_info(CALLER, funds);
        db
    };
    let (mut jit_db, mut revm_db) = (funded(), funded());
    let mut compiled_at = None;
    // Bounded by time, not by a count of deployments: the gas events and the compiled
    // program reach the runtime asynchronously, later when other tests load the machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut nonce = 0u64;
    while std::time::Instant::now() < deadline {
        let tx = TxEnv::builder()
            .caller(CALLER)
            .create()
            .data(Bytes::from_static(LOOP_THEN_DEPLOY))
            .nonce(nonce)
            .gas_limit(200_000)
            .build_fill();
        let want =
            Context::mainnet().with_db(&mut revm_db).build_mainnet().transact_commit(tx.clone());
        let mut source = RuntimeSource::new(&rt, OnMiss::Background);
        let mut evm =
            JitEvm::new(Context::mainnet().with_db(&mut jit_db).build_mainnet(), &mut source);
        let got = evm.transact_commit(tx).unwrap();
        assert_eq!(got, want.unwrap(), "deployment {nonce}");
        if nonce == 0 {
            // First sight: interpreted without a lookup, so nothing is counted or tracked.
            let s = rt.stats();
            assert_eq!((s.hits, s.misses, evm.stats.interpreted), (0, 0, 1), "{s:?}");
        }
        if evm.stats.compiled == 1 {
            compiled_at = Some(nonce);
            break;
        }
        if nonce >= 1 {
            wait_until("the events are applied", Duration::from_secs(60), || {
                rt.stats().queued == 0
            });
        }
        nonce += 1;
    }
    let at = compiled_at.expect("the repeated init code ran compiled");
    assert!(at >= 2, "not before its second run was looked up: {at}");
    assert!(rt.stats().misses >= 1);
}

/// Loops 200 times, then increments storage slot 0 without call data, slot 1 with one
/// byte of it, slot 2 with more.
const LOOP_THEN_COUNT_BY_INPUT: &[u8] = &[
    0x61, 0x00, 0xc8, // 0: PUSH2 200
    0x5b, 0x60, 1, 0x90, 0x03, // 3: JUMPDEST; n - 1
    0x80, 0x60, 3, 0x57, // 8: DUP1; JUMPI back while n != 0
    0x50, 0x36, 0x60, 27, 0x57, // 12: POP; JUMPI to 27 with call data
    0x60, 0, 0x54, 0x60, 1, 0x01, 0x60, 0, 0x55, 0x00, // 17: slot 0 += 1; STOP
    0x5b, 0x60, 1, 0x36, 0x11, 0x60, 45, 0x57, // 27: JUMPDEST; JUMPI to 45 if size > 1
    0x60, 1, 0x54, 0x60, 1, 0x01, 0x60, 1, 0x55, 0x00, // 35: slot 1 += 1; STOP
    0x5b, 0x60, 2, 0x54, 0x60, 1, 0x01, 0x60, 2, 0x55, 0x00, // 45: slot 2 += 1; STOP
];

#[test]
fn code_optimized_from_what_ran_is_compiled_again_from_what_its_frames_then_ran_then_whole() {
    use revmc_runtime::{CompiledProgram, Lookup, OptLevel, Tier};
    let rt = runtime(Tuning {
        hot_threshold_gas: 20_000,
        first_tier_opt_level: Some(OptLevel::O0),
        tier_up_gas: 100_000,
        compile_what_ran: true,
        profile_widenings: 1,
        ..tuning()
    });
    let spec = Context::mainnet().cfg.spec;
    let code = LOOP_THEN_COUNT_BY_INPUT;
    let k = revmc_runtime::RuntimeCacheKey::new(revm::primitives::keccak256(code), spec);
    let (mut db, mut oracle_db) = (genesis(code), genesis(code));
    let mut nonce = 0u64;
    // One transaction both ways, with this call data: its frame stats.
    let mut transact = |data: &'static [u8]| {
        let tx = || {
            let tx = TxEnv::builder().caller(CALLER).call(A).nonce(nonce).gas_limit(100_000);
            tx.data(Bytes::from_static(data)).build_fill()
        };
        let mut source = RuntimeSource::new(&rt, OnMiss::Background);
        let mut evm = JitEvm::new(Context::mainnet().with_db(&mut db).build_mainnet(), &mut source);
        let got = evm.transact_commit(tx()).unwrap();
        let want = Context::mainnet().with_db(&mut oracle_db).build_mainnet().transact_commit(tx());
        assert_eq!(format!("{got:?}"), format!("{:?}", want.unwrap()), "transaction {nonce}");
        nonce += 1;
        // Let a dispatched compilation land before the next transaction; bounded.
        wait_until("the compile queue drains", Duration::from_secs(60), || rt.stats().queued == 0);
        evm.stats
    };
    let program = || match rt.lookup(k) {
        Lookup::Compiled(p) => Some(p),
        Lookup::Interpret(_) => None,
    };
    let optimized = |p: &CompiledProgram| p.tier() == Tier::Optimized;
    // Runs transactions with `data` until the program satisfies `done`, bounded by time,
    // then one more.
    type Transact<'a> = &'a mut dyn FnMut(&'static [u8]) -> revmc_runtime::evm::FrameStats;
    let until = |transact: Transact<'_>, data, done: &dyn Fn(&CompiledProgram) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !program().is_some_and(|p| done(&p)) && std::time::Instant::now() < deadline {
            transact(data);
        }
        let p = program().expect("compiled");
        assert!(done(&p), "{p:?} {:?}", rt.stats());
        transact(data)
    };
    // Without call data until optimized: compiled from what the first tier ran.
    let stats = until(&mut transact, &[], &|p| optimized(p) && p.is_profiled());
    assert_eq!((stats.compiled, stats.left_cold), (1, 0), "what ran is compiled");
    // With a byte of call data, the frame leaves to the interpreter where the first tier
    // never went, and ends as in revm; once such frames have used `tier_up_gas`, the
    // program is compiled again from what they ran too.
    let stats = transact(&[1]);
    assert_eq!((stats.compiled, stats.left_cold), (1, 1), "the cold side is interpreted");
    let stats = until(&mut transact, &[1], &|p| p.is_profiled() && p.widenings() == 1);
    assert_eq!((stats.compiled, stats.left_cold), (1, 0), "compiled from the wider profile");
    assert_eq!(transact(&[]).left_cold, 0, "what ran before is still compiled");
    // With more call data, a third path: `profile_widenings` is 1, so the next
    // recompilation is whole.
    let stats = transact(&[1, 1]);
    assert_eq!((stats.compiled, stats.left_cold), (1, 1), "the third side is interpreted");
    let stats = until(&mut transact, &[1, 1], &|p| !p.is_profiled());
    assert_eq!((stats.compiled, stats.left_cold), (1, 0), "compiled whole");
    let s = rt.stats();
    let recompiled = (s.tier_ups, s.recompiled_widened, s.recompiled_whole);
    assert_eq!((s.succeeded, recompiled), (4, (1, 1, 1)), "{s:?}");
    let slot = |db: &CacheDB<EmptyDB>, i: u64| db.cache.accounts[&A].storage[&U256::from(i)];
    for i in 0..3 {
        assert_eq!(slot(&db, i), slot(&oracle_db, i), "slot {i}");
    }
}
