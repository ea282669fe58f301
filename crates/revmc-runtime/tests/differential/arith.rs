//! Arithmetic, comparison and bitwise opcodes at edge operands, constant and dynamic.

use crate::harness::{Asm, Case, FORKS, edge_words, words};
use revmc_runtime::{SpecId, U256};

const BINARY: &[u8] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0a, 0x0b, // ADD..EXP, SIGNEXTEND
    0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1a, // LT..EQ, AND, OR, XOR, BYTE
    0x1b, 0x1c, 0x1d, // SHL, SHR, SAR
];
const UNARY: &[u8] = &[0x15, 0x19, 0x1e]; // ISZERO, NOT, CLZ
const TERNARY: &[u8] = &[0x08, 0x09]; // ADDMOD, MULMOD

#[test]
fn binary_ops_with_dynamic_operands() {
    let edges = edge_words();
    for &op in BINARY {
        // a = calldata[0] (top), b = calldata[1]; result returned on the stack.
        let case = Case::new(&Asm::default().arg(1).arg(0).op(op).op(0x00).code(), SpecId::OSAKA);
        for a in &edges {
            for b in &edges {
                case.check(&words(&[*a, *b]), 1_000_000);
            }
        }
    }
}

#[test]
fn binary_ops_with_constant_operands() {
    let edges = edge_words();
    for &op in BINARY {
        // Every pair in one program, results accumulating on the stack: the optimizer
        // folds each one, so this checks constant folding against the interpreter.
        let mut asm = Asm::default();
        for a in &edges {
            for b in &edges {
                asm = asm.push(*b).push(*a).op(op);
            }
        }
        Case::new(&asm.op(0x00).code(), SpecId::OSAKA).check(&[], 10_000_000);
    }
}

#[test]
fn wide_ops_past_the_optimizing_tiers_inline_budget() {
    // acc = calldata[0], b = calldata[1]; then, over and over, acc = op(acc, b) + b for
    // MUL, SHR, SIGNEXTEND, BYTE, SAR, SHL: 1,200 wide operations of operands unknown when
    // compiling, more than the optimizing tier expands inline (1,024), so the last ones
    // call the word operations.
    let mut asm = Asm::default().arg(1).arg(0);
    for _ in 0..200 {
        for op in [0x02, 0x1c, 0x0b, 0x1a, 0x1d, 0x1b] {
            // DUP2 DUP2 op SWAP1 POP DUP2 ADD
            asm = asm.ops(&[0x81, 0x81, op, 0x90, 0x50, 0x81, 0x01]);
        }
    }
    let case = Case::new(&asm.op(0x00).code(), SpecId::OSAKA);
    let edges = edge_words();
    for (a, b) in [(edges[20], edges[4]), (edges[17], edges[3]), (edges[19], edges[2])] {
        case.check(&words(&[a, b]), 1_000_000);
    }
}

#[test]
fn unary_and_ternary_ops() {
    let edges = edge_words();
    for &op in UNARY {
        let case = Case::new(&Asm::default().arg(0).op(op).op(0x00).code(), SpecId::OSAKA);
        for a in &edges {
            case.check(&words(&[*a]), 1_000_000);
        }
        let mut asm = Asm::default();
        for a in &edges {
            asm = asm.push(*a).op(op);
        }
        Case::new(&asm.op(0x00).code(), SpecId::OSAKA).check(&[], 1_000_000);
    }
    for &op in TERNARY {
        let case =
            Case::new(&Asm::default().arg(2).arg(1).arg(0).op(op).op(0x00).code(), SpecId::OSAKA);
        for a in &edges {
            for b in &edges[..8] {
                for n in [edges[0], edges[1], edges[3], edges[9], edges[13], edges[14]] {
                    case.check(&words(&[*a, *b, n]), 1_000_000);
                }
            }
        }
    }
}

#[test]
fn every_compute_opcode_gas_is_exact_in_every_fork() {
    // One operand set per opcode, run with gas exactly enough, one short, and more, in
    // every fork: a wrong static cost, EXP byte cost or activation fork shows up here.
    let edges = edge_words();
    for &spec in FORKS {
        for &op in BINARY.iter().chain(UNARY).chain(TERNARY) {
            let inputs = match op {
                0x08 | 0x09 => 3,
                0x15 | 0x19 | 0x1e => 1,
                _ => 2,
            };
            let mut asm = Asm::default();
            for i in (0..inputs).rev() {
                asm = asm.arg(i);
            }
            let case = Case::new(&asm.op(op).op(0x00).code(), spec);
            for a in [edges[2], edges[9], edges[14]] {
                case.check_gas_edges(&words(&[a, edges[3], edges[13]]), 3);
            }
        }
    }
}

#[test]
fn division_and_remainder_by_constant_powers_of_two() {
    // calldata[0] by 2^k for DIV, MOD, SDIV and SMOD: the first two become a shift and a
    // mask before lowering, the signed ones (rounding toward zero) stay builtin calls.
    let mut asm = Asm::default();
    for op in [0x04, 0x06, 0x05, 0x07] {
        for k in [0usize, 1, 8, 63, 64, 65, 128, 160, 224, 232, 255] {
            asm = asm.push(U256::from(1) << k).arg(0).op(op);
        }
    }
    let case = Case::new(&asm.op(0x00).code(), SpecId::OSAKA);
    for x in edge_words() {
        case.check(&words(&[x]), 1_000_000);
    }
}
