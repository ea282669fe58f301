//! Whole transactions through revm, interpreted and with compiled frames: calls between
//! compiled contracts must leave the same result and storage.

use revm::bytecode::Bytecode;
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::keccak256;
use revm::primitives::{Address, Bytes, U256, address};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{FrameStats, JitCache, JitEvm};
use revmc_runtime::{OptLevel, RuntimeCacheKey};

const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
const A: Address = address!("0x00000000000000000000000000000000000000aa");
const B: Address = address!("0x00000000000000000000000000000000000000bb");

/// A: keeps two live values on the stack, CALLs B, then stores (live values + call
/// success) and B's return data size; B: stores CALLVALUE-independent marks and returns.
fn contracts() -> (Vec<u8>, Vec<u8>) {
    let mut a = vec![0x60, 0x11, 0x60, 0x22]; // live values below the call arguments
    // CALL(gas, B, 0, 0, 0, 0, 32)
    a.extend([0x60, 32, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73]);
    a.extend(B.as_slice());
    a.extend([0x5a, 0xf1]); // GAS; CALL
    a.extend([0x01, 0x01, 0x60, 1, 0x55]); // ADD; ADD; SSTORE(1, 0x11 + 0x22 + success)
    a.extend([0x3d, 0x60, 2, 0x55]); // SSTORE(2, RETURNDATASIZE)
    a.extend([0x60, 0, 0x51, 0x60, 3, 0x55, 0x00]); // SSTORE(3, MLOAD(0)); STOP
    // B: SSTORE(7, 0x77); TSTORE; MSTORE(0, 0xabcd); RETURN(0, 32)
    let b =
        vec![0x60, 0x77, 0x60, 7, 0x55, 0x61, 0xab, 0xcd, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3];
    (a, b)
}

/// Runs A's transaction over A and B, interpreted or with `jit`: its result, A's and B's
/// storage, and how many compiled frames were left to the interpreter.
fn run(
    a: &[u8],
    b: &[u8],
    jit: Option<&mut JitCache>,
) -> (String, Vec<(Address, U256, U256)>, u64) {
    let (result, storage, stats) = run_with(a, b, &[], jit);
    (result, storage, stats.left_to_interpreter)
}

/// As [`run`], with `data` as the transaction's call data, and the frame stats.
fn run_with(
    a: &[u8],
    b: &[u8],
    data: &[u8],
    jit: Option<&mut JitCache>,
) -> (String, Vec<(Address, U256, U256)>, FrameStats) {
    let mut db = CacheDB::new(EmptyDB::default());
    let code =
        |c: &[u8]| AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::from(c.to_vec())));
    db.insert_account_info(A, code(a));
    db.insert_account_info(B, code(b));
    db.insert_account_info(
        CALLER,
        AccountInfo { balance: U256::from(10u64.pow(18)), ..Default::default() },
    );
    let tx = TxEnv::builder().caller(CALLER).call(A).gas_limit(1_000_000);
    let tx = tx.data(Bytes::from(data.to_vec())).build_fill();
    let ctx = Context::mainnet().with_db(&mut db);
    let (result, stats) = match jit {
        None => (ctx.build_mainnet().transact_commit(tx), FrameStats::default()),
        Some(cache) => {
            let mut evm = JitEvm::new(ctx.build_mainnet(), cache);
            let result = evm.transact_commit(tx);
            (result, evm.stats)
        }
    };
    let result = format!("{:?}", result.expect("transaction runs"));
    let mut storage = Vec::new();
    for addr in [A, B] {
        for (k, v) in &db.cache.accounts[&addr].storage {
            storage.push((addr, *k, *v));
        }
    }
    storage.sort();
    (result, storage, stats)
}

#[test]
fn a_compiled_caller_resumes_with_its_stack_after_a_compiled_callee() {
    let (a, b) = contracts();
    let interpreted = run(&a, &b, None);
    for level in [OptLevel::O0, OptLevel::O2] {
        let mut cache = JitCache::new(level).unwrap();
        let compiled = run(&a, &b, Some(&mut cache));
        assert_eq!(cache.compiled(), 2, "both contracts compile: {:?}", cache.failures);
        assert_eq!(compiled, interpreted, "at {level:?}");
    }
    // The caller's live values survived the call: 0x11 + 0x22 + 1.
    assert!(interpreted.1.contains(&(A, U256::from(1), U256::from(0x34))), "{interpreted:?}");
    assert!(interpreted.1.contains(&(A, U256::from(3), U256::from(0xabcd))), "{interpreted:?}");
}

/// B fails on a path left to the interpreter: it reverts with the word it had on its
/// stack when its compiled code stopped. A, compiled, calls it; with `then_revert`, A
/// reverts with B's return data on a path left to the interpreter after resuming from the
/// call, else it stores the call's success, the return data size and the data.
fn caller_and_reverting_callee(then_revert: bool) -> (Vec<u8>, Vec<u8>) {
    let mut a = vec![0x60, 32, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73];
    a.extend(B.as_slice());
    a.extend([0x5a, 0xf1]); // GAS; CALL
    if then_revert {
        // PUSH1 46; JUMPI; RETURNDATACOPY(0, 0, RETURNDATASIZE); REVERT(0, RETURNDATASIZE);
        // 46: JUMPDEST; STOP
        a.extend([0x60, 46, 0x57, 0x3d, 0x60, 0, 0x60, 0, 0x3e, 0x3d, 0x60, 0, 0xfd]);
        a.extend([0x5b, 0x00]);
        assert_eq!(a.len(), 48);
    } else {
        a.extend([0x60, 1, 0x55]); // SSTORE(1, success)
        a.extend([0x3d, 0x60, 2, 0x55]); // SSTORE(2, RETURNDATASIZE)
        a.extend([0x60, 0, 0x51, 0x60, 3, 0x55, 0x00]); // SSTORE(3, MLOAD(0)); STOP
    }
    // B: PUSH2 0xdead; CALLDATASIZE; PUSH1 15; JUMPI; then, without call data:
    // MSTORE(0, 0xdead); REVERT(0, 32). 15: JUMPDEST; STOP.
    let b = vec![
        0x61, 0xde, 0xad, 0x36, 0x60, 15, 0x57, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xfd, 0x5b, 0x00,
    ];
    (a, b)
}

#[test]
fn frames_that_fail_on_paths_left_to_the_interpreter_end_as_in_revm() {
    for then_revert in [false, true] {
        let (a, b) = caller_and_reverting_callee(then_revert);
        let interpreted = run(&a, &b, None);
        if then_revert {
            // A reverted with B's word.
            assert!(
                interpreted.0.contains("Revert") && interpreted.0.contains("dead"),
                "{interpreted:?}"
            );
        } else {
            // The call failed, with B's word as its return data.
            assert!(interpreted.1.contains(&(A, U256::from(1), U256::ZERO)), "{interpreted:?}");
            assert!(
                interpreted.1.contains(&(A, U256::from(3), U256::from(0xdead))),
                "{interpreted:?}"
            );
        }
        for level in [OptLevel::O0, OptLevel::O2] {
            let mut cache = JitCache::new(level).unwrap();
            let compiled = run(&a, &b, Some(&mut cache));
            assert_eq!(cache.compiled(), 2, "both contracts compile: {:?}", cache.failures);
            let what = format!("at {level:?}, A reverting: {then_revert}");
            assert_eq!((&compiled.0, &compiled.1), (&interpreted.0, &interpreted.1), "{what}");
            // B's frame, and A's after the call when it reverts.
            let left = if then_revert { 2 } else { 1 };
            assert_eq!(compiled.2, left, "frames left to the interpreter {what}");
        }
    }
}

/// A: with two live values below, CALLs B (`contracts`' B); then, without call data,
/// stores their sum with the call's success and stops. With call data it jumps to code
/// the profile below never runs: it stores the return data size and the sum, CALLs B
/// again from there, and stores that call's success.
fn caller_with_a_cold_side() -> Vec<u8> {
    let mut a = vec![0x60, 0x11, 0x60, 0x22]; // live values below the call arguments
    let call = |a: &mut Vec<u8>| {
        // CALL(GAS, B, 0, 0, 0, 0, 32)
        a.extend([0x60, 32, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73]);
        a.extend(B.as_slice());
        a.extend([0x5a, 0xf1]);
    };
    call(&mut a);
    a.extend([0x36, 0x60, 0, 0x57]); // CALLDATASIZE; JUMPI to the cold side (patched)
    let jumpi = a.len() - 2;
    a.extend([0x01, 0x01, 0x60, 1, 0x55, 0x00]); // SSTORE(1, 0x11 + 0x22 + success); STOP
    a[jumpi] = u8::try_from(a.len()).unwrap();
    a.push(0x5b); // JUMPDEST: the cold side
    a.extend([0x3d, 0x60, 2, 0x55]); // SSTORE(2, RETURNDATASIZE)
    a.extend([0x01, 0x01, 0x60, 1, 0x55]); // SSTORE(1, 0x11 + 0x22 + success)
    call(&mut a);
    a.extend([0x60, 4, 0x55, 0x00]); // SSTORE(4, success); STOP
    a
}

#[test]
fn frames_that_reach_code_the_first_tier_never_ran_continue_in_revm_calls_included() {
    let (a, b) = (caller_with_a_cold_side(), contracts().1);
    let interpreted = run_with(&a, &b, &[1], None);
    // Both calls succeeded, and the sum survived the first: 0x11 + 0x22 + 1.
    assert!(interpreted.1.contains(&(A, U256::from(1), U256::from(0x34))), "{interpreted:?}");
    assert!(interpreted.1.contains(&(A, U256::from(4), U256::from(1))), "{interpreted:?}");
    // Profiled without call data, optimized from what that ran.
    let mut cache = JitCache::tiered(OptLevel::O0, OptLevel::O2).unwrap();
    let profiled = run_with(&a, &b, &[], Some(&mut cache));
    assert_eq!(profiled.2.left_cold, 0, "the first tier has no cold code");
    let optimized = cache.optimize_what_ran();
    assert_eq!(optimized.len(), 2, "A and B: {:?}", cache.failures);
    // With call data, A leaves at its cold side after resuming from its compiled call,
    // and calls B from the interpreter; B runs compiled both times.
    let compiled = run_with(&a, &b, &[1], Some(&mut cache));
    assert_eq!((&compiled.0, &compiled.1), (&interpreted.0, &interpreted.1));
    assert_eq!((compiled.2.compiled, compiled.2.left_cold), (3, 1), "{:?}", compiled.2);
    // The interpreter marked what A ran after it left, across its call: the cold side's
    // JUMPDEST and the instruction after the second CALL, which B's return resumes.
    let key = RuntimeCacheKey::new(keccak256(&a), Context::mainnet().cfg.spec);
    let program = cache.get_or_compile(key, &a).expect("A is compiled");
    let ran = program.profile().and_then(|p| p.ran()).expect("A's profile");
    let jumpdest = a.windows(2).position(|w| w == [0x5b, 0x3d]).expect("the cold side");
    let pcs: Vec<usize> = ran.pcs().collect();
    assert!(ran.contains(jumpdest) && ran.contains(a.len() - 4), "{pcs:?}");
    // Compiled again from that profile, A runs with call data without leaving.
    let widened = cache.optimize_what_ran();
    assert_eq!(widened.iter().map(|c| c.key).collect::<Vec<_>>(), [key], "only A grew");
    let compiled = run_with(&a, &b, &[1], Some(&mut cache));
    assert_eq!((&compiled.0, &compiled.1), (&interpreted.0, &interpreted.1));
    assert_eq!(compiled.2.left_to_interpreter, 0, "{:?}", compiled.2);
    // Without call data, nothing leaves.
    let again = run_with(&a, &b, &[], Some(&mut cache));
    assert_eq!((&again.0, &again.1), (&profiled.0, &profiled.1));
    assert_eq!(again.2.left_to_interpreter, 0, "{:?}", again.2);
}

/// A: pushes calldata[0] - calldata[96] + 1 entries in a loop, jumps to calldata[32] (the
/// `JUMPDEST` at 0x14, an unresolved jump of a dynamic shape), and there, on calldata[64],
/// either stores its 16th entry (`DUP16`: it needs 16) or its top plus 7.
fn deep_or_shallow_after_a_growing_loop() -> Vec<u8> {
    vec![
        0x60, 0x60, 0x35, // CALLDATALOAD(96): the counter
        0x5b, 0x80, 0x60, 0x01, 0x01, // 0x03: JUMPDEST; DUP1; ADD 1: one entry more
        0x80, 0x60, 0x00, 0x35, 0x11, 0x60, 0x03, 0x57, // while calldata[0] > counter
        0x60, 0x20, 0x35, 0x56, // JUMP to calldata[32]
        0x5b, 0x60, 0x40, 0x35, 0x60, 0x22, 0x57, // 0x14: JUMPI(0x22, calldata[64])
        0x60, 0x07, 0x01, 0x60, 0x01, 0x55, 0x00, // SSTORE(1, top + 7); STOP
        0x5b, 0x8f, 0x60, 0x02, 0x55, 0x00, // 0x22: SSTORE(2, DUP16); STOP
    ]
}

#[test]
fn frames_a_dispatch_guard_refuses_continue_in_revm_and_are_counted_apart() {
    let a = deep_or_shallow_after_a_growing_loop();
    let data = |n: u64, deep: u64| {
        let from = 1000;
        [from + n, 0x14, deep, from]
            .iter()
            .flat_map(|w| U256::from(*w).to_be_bytes::<32>())
            .collect::<Vec<u8>>()
    };
    // Profiled on the deep way (21 entries), the optimized guard asks for the 16 entries
    // the deep block reads, past the case.
    let mut cache = JitCache::tiered(OptLevel::O0, OptLevel::O2).unwrap();
    let profiled = run_with(&a, &[], &data(20, 1), Some(&mut cache));
    assert_eq!(profiled.2.left_to_interpreter, 0, "{:?}", profiled.2);
    assert_eq!(cache.optimize_what_ran().len(), 1, "A: {:?}", cache.failures);
    let deep = run_with(&a, &[], &data(20, 1), Some(&mut cache));
    assert_eq!(deep.2.left_to_interpreter, 0, "what ran is compiled: {:?}", deep.2);
    let want = run_with(&a, &[], &data(20, 1), None);
    assert_eq!((&deep.0, &deep.1), (&want.0, &want.1));
    assert!(want.1.contains(&(A, U256::from(2), U256::from(1005))), "{want:?}");
    // Two entries on the shallow way: the guard refuses the frame, which stores as revm.
    let interpreted = run_with(&a, &[], &data(1, 0), None);
    assert!(interpreted.1.contains(&(A, U256::from(1), U256::from(1008))), "{interpreted:?}");
    let refused = run_with(&a, &[], &data(1, 0), Some(&mut cache));
    assert_eq!((&refused.0, &refused.1), (&interpreted.0, &interpreted.1));
    let stats = refused.2;
    assert_eq!((stats.left_to_interpreter, stats.left_at_guard, stats.left_cold), (1, 1, 0));
}
