//! Stack opcodes and the stack limits.

use crate::harness::{Asm, Case, FORKS, check};
use revmc_runtime::{InstructionResult, SpecId, U256};

#[test]
fn push_dup_swap_pop_all_widths() {
    let mut asm = Asm::default();
    // PUSH1..PUSH32 with distinct bytes.
    for n in 1..=32u8 {
        asm = asm
            .op(0x5f + n)
            .ops(&(0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect::<Vec<_>>());
    }
    for n in 0..16u8 {
        asm = asm.op(0x80 + n); // DUP1..DUP16
    }
    for n in 0..16u8 {
        asm = asm.op(0x90 + n); // SWAP1..SWAP16
    }
    asm = asm.op(0x50).op(0x50).op(0x5f).op(0x00); // POP, POP, PUSH0, STOP
    for &spec in &[SpecId::SHANGHAI, SpecId::OSAKA] {
        Case::new(&asm.0, spec).check_gas_edges(&[], 4);
    }
    // PUSH0 before Shanghai is not active: it still costs its static gas first.
    let out = Case::new(&asm.0, SpecId::LONDON).check_gas_edges(&[], 4);
    assert_eq!(out.result, InstructionResult::NotActivated);
}

#[test]
fn truncated_push_reads_zeros() {
    for code in [&[0x60][..], &[0x61, 0xaa], &[0x7f, 1, 2, 3]] {
        let out = check(code, SpecId::CANCUN, &[], 100);
        assert_eq!(out.result, InstructionResult::Stop);
    }
}

#[test]
fn overflow_at_1024_and_dup_quirk() {
    let full = vec![0x58; 1024]; // 1024 x PC
    for (tail, want) in [
        (&[0x00][..], InstructionResult::Stop),
        (&[0x58], InstructionResult::StackOverflow),
        (&[0x80], InstructionResult::StackOverflow),
        (&[0x50, 0x80, 0x00], InstructionResult::Stop),
        (&[0x90, 0x00], InstructionResult::Stop),
    ] {
        let mut code = full.clone();
        code.extend_from_slice(tail);
        for &spec in &[SpecId::FRONTIER, SpecId::OSAKA] {
            assert_eq!(
                Case::new(&code, spec).check_gas_edges(&[], 2).result,
                want,
                "tail {tail:02x?}"
            );
        }
    }
}

#[test]
fn underflow_of_every_compute_opcode() {
    // Each opcode with one operand fewer than it needs. DUPn with n-1 items reports
    // StackOverflow in revm; the comparison with the oracle covers that.
    let ops: Vec<u8> = (0x01..=0x0bu8)
        .chain(0x10..=0x1e)
        .chain([0x20, 0x35, 0x37, 0x39, 0x50, 0x51, 0x52, 0x53, 0x56, 0x57, 0x5e, 0xf3, 0xfd])
        .chain(0x80..=0x9f)
        .collect();
    for &spec in FORKS {
        for &op in &ops {
            let need =
                revm_interpreter::bytecode::opcode::OpCode::new(op).unwrap().inputs() as usize;
            let have = match op {
                0x80..=0x8f => (op - 0x80) as usize,
                0x90..=0x9f => (op - 0x90 + 1) as usize,
                _ => need.saturating_sub(1),
            };
            let mut asm = Asm::default();
            for i in 0..have {
                asm = asm.push(U256::from(i));
            }
            let out = Case::new(&asm.op(op).op(0x00).code(), spec).check(&[], 1_000_000);
            assert_ne!(out.result, InstructionResult::Stop, "op {op:#x} in {spec:?}");
        }
    }
}
