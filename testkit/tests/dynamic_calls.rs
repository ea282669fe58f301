//! CALL and CREATE inside a block in the dynamic-stack mode: the frame suspends with its
//! stack in the array below a run-time base and resumes with that base, in whole
//! transactions compiled and interpreted.

use revmc_ir::{Limits, SpecId as IrSpec, translate};
use revmc_runtime::OptLevel;
use revmc_runtime::evm::JitCache;
use revmc_testkit::tx::{CONTRACT_B, Case, check};

const SITES: u8 = 20;

/// 20 call sites, one entry deeper each, call `g(i)`, which CALLs B (reading its 32-byte
/// answer), stores `success + answer` at key `i`, CREATEs an empty contract and stores its
/// address at `i + 100`. At the end the entries the sites left below (0..20) are summed
/// into key 999: they lived below the base across every suspension.
fn contract_a() -> Vec<u8> {
    let mut code = Vec::new();
    // 12 bytes per site, 19 ADDs, then SSTORE(999, sum); STOP.
    let g = u16::from(SITES) * 12 + u16::from(SITES) - 1 + 5;
    for i in 0..SITES {
        let ret = code.len() as u16 + 11;
        code.extend([0x60, i, 0x61]); // PUSH1 i (stays); PUSH2 ret
        code.extend(ret.to_be_bytes());
        code.extend([0x60, i, 0x61]); // PUSH1 i; PUSH2 g
        code.extend(g.to_be_bytes());
        code.extend([0x56, 0x5b]); // JUMP; JUMPDEST(ret)
        assert_eq!(code.len() as u16, ret + 1);
    }
    code.extend(std::iter::repeat_n(0x01, usize::from(SITES) - 1)); // ADD the 20 entries
    code.extend([0x61, 0x03, 0xe7, 0x55, 0x00]); // SSTORE(999, sum); STOP
    assert_eq!(code.len() as u16, g);
    // g: [.., ret, i]
    code.push(0x5b);
    code.extend([0x60, 32, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73]);
    code.extend(CONTRACT_B.as_slice());
    code.extend([0x5a, 0xf1]); // GAS; CALL -> [.., ret, i, ok]
    code.extend([0x60, 0, 0x51, 0x01]); // MLOAD(0) + ok
    code.extend([0x81, 0x55]); // SSTORE(i, ok + answer): [.., ret, i]
    code.extend([0x60, 0, 0x60, 0, 0x60, 0, 0xf0]); // CREATE(0, 0, 0): [.., ret, i, addr]
    code.extend([0x90, 0x60, 100, 0x01, 0x55]); // SSTORE(i + 100, addr): [.., ret]
    code.push(0x56); // return
    code
}

/// B: counts its calls in slot 1 and returns 42 as a word.
fn contract_b() -> Vec<u8> {
    vec![
        0x60, 1, 0x54, 0x60, 1, 0x01, 0x60, 1, 0x55, // SSTORE(1, SLOAD(1) + 1)
        0x60, 42, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3, // RETURN 42
    ]
}

#[test]
fn calls_and_creates_suspend_and_resume_inside_a_dynamic_block() {
    let code_a = contract_a();
    let ir = translate(&code_a, IrSpec::CANCUN, &Limits::default()).unwrap().to_string();
    assert!(ir.contains("suspend CALL @base"), "the CALL is in a dynamic block:\n{ir}");
    assert!(ir.contains("suspend CREATE @base"), "the CREATE is in a dynamic block");
    for gas_limit in [3_000_000, 400_000, 150_000] {
        let case = Case {
            spec: revmc_runtime::SpecId::CANCUN,
            code_a: code_a.clone(),
            code_b: contract_b(),
            calldata: Vec::new(),
            value: 0,
            gas_limit,
        };
        for level in [OptLevel::O0, OptLevel::O2] {
            let mut cache = JitCache::new(level).unwrap();
            let stats = check(&case, &mut cache)
                .unwrap_or_else(|d| panic!("gas {gas_limit} at {level:?}: {d}"));
            assert!(stats.compiled >= 1, "A ran compiled: {stats:?}");
            assert_eq!(cache.failures.len(), 0, "{:?}", cache.failures);
        }
    }
    // With ample gas every site ran and the transaction succeeded (so the comparison
    // above covered all 20 calls and creates).
    let case = Case {
        spec: revmc_runtime::SpecId::CANCUN,
        code_a,
        code_b: contract_b(),
        calldata: Vec::new(),
        value: 0,
        gas_limit: 3_000_000,
    };
    let (observed, _) = revmc_testkit::tx::run(&case, None);
    assert!(observed.result.contains("Success"), "{}", observed.result);
    let created = observed.state.matches("StorageCleared balance 0 nonce 1 code 0xc5d2").count();
    assert_eq!(created, 20, "{}", observed.state);
    assert!(observed.state.contains("999: 190"), "{}", observed.state);
}
