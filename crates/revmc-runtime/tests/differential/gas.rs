//! The GAS opcode and out-of-gas at every point of a program.

use crate::harness::{Asm, Case, FORKS, words};
use revmc_runtime::{InstructionResult, SpecId, U256};

#[test]
fn gas_opcode_sees_exact_remaining_gas() {
    // GAS between other instructions: a per-block gas charge would be visible here.
    let code = Asm::default().op(0x5a).push_u(1).op(0x5a).op(0x01).op(0x5a).op(0x00).code();
    for &spec in FORKS {
        Case::new(&code, spec).check_gas_edges(&[], 20);
    }
}

#[test]
fn every_gas_limit_of_a_mixed_program() {
    // For every gas limit from 0 up to what it needs, status (and gas, stack, memory
    // when it completes) must match: sections must fail exactly where the interpreter does.
    let code = Asm::default()
        .push_u(3)
        .push_u(5)
        .op(0x0a) // EXP
        .push_u(64)
        .op(0x52) // MSTORE
        .push_u(0x20)
        .push_u(0x40)
        .op(0x20) // KECCAK256
        .op(0x5a) // GAS
        .push_u(0)
        .op(0x51) // MLOAD
        .push_u(32)
        .push_u(64)
        .op(0xf3)
        .code();
    let case = Case::new(&code, SpecId::CANCUN);
    let full = case.check(&[], 1_000_000);
    assert_eq!(full.result, InstructionResult::Return);
    for gas in 0..=1_000_000 - full.gas_remaining + 2 {
        case.check(&[], gas);
    }
}

#[test]
fn every_gas_limit_of_a_program_with_branches_and_forward_jumps() {
    // Blocks that only compute and jump forward, a memory expansion on one path, and a
    // REVERT or a RETURN at the end: at every gas limit on each of the four paths, the
    // status, and the gas left when it completes, must be the interpreter's.
    #[rustfmt::skip]
    let code = [
        0x60, 0x01, 0x60, 0x02, 0x01, 0x50,       // 0: 1 + 2, popped
        0x5f, 0x35, 0x60, 0x13, 0x57,             // 6: JUMPI(19, calldata[0])
        0x60, 0x2a, 0x5f, 0x52,                   // 11: MSTORE(0, 42)
        0x60, 0x1d, 0x56,                         // 15: JUMP(29)
        0xfe,                                     // 18
        0x5b, 0x60, 0x07, 0x60, 0x08, 0x02, 0x50, // 19: 7 * 8, popped
        0x60, 0x1d, 0x56,                         // 26: JUMP(29)
        0x5b, 0x60, 0x03, 0x60, 0x04, 0x01, 0x50, // 29: 3 + 4, popped
        0x60, 0x2a, 0x56,                         // 36: JUMP(42)
        0xfe, 0xfe, 0xfe,                         // 39
        0x5b, 0x5f, 0x35, 0x60, 0x01, 0x16,       // 42: calldata[0] & 1
        0x60, 0x37, 0x57,                         // 48: JUMPI(55, ·)
        0x60, 0x20, 0x5f, 0xfd,                   // 51: REVERT(0, 32)
        0x5b, 0x60, 0x20, 0x5f, 0xf3,             // 55: RETURN(0, 32)
    ];
    // PUSH0 needs Shanghai.
    for spec in [SpecId::SHANGHAI, SpecId::CANCUN] {
        let case = Case::new(&code, spec);
        for n in 0u64..4 {
            let calldata = words(&[U256::from(n)]);
            let full = case.check(&calldata, 1_000_000);
            let want =
                if n & 1 == 1 { InstructionResult::Return } else { InstructionResult::Revert };
            assert_eq!(full.result, want);
            for gas in 0..=1_000_000 - full.gas_remaining + 2 {
                case.check(&calldata, gas);
            }
        }
    }
}
