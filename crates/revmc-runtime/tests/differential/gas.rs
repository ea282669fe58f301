//! The GAS opcode and out-of-gas at every point of a program.

use crate::harness::{Asm, Case, FORKS};
use revmc_runtime::InstructionResult;

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
    let case = Case::new(&code, revmc_runtime::SpecId::CANCUN);
    let full = case.check(&[], 1_000_000);
    assert_eq!(full.result, InstructionResult::Return);
    for gas in 0..=1_000_000 - full.gas_remaining + 2 {
        case.check(&[], gas);
    }
}
