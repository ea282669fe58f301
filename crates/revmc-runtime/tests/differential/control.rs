//! JUMP / JUMPI / JUMPDEST, PC, STOP / RETURN / REVERT / INVALID and unknown opcodes.

use crate::harness::{Asm, Case, FORKS, check, completed, words};
use revmc_ir::{Limits, RanBlocks, translate_profiled};
use revmc_runtime::{InstructionResult, SpecId, U256};

#[test]
fn static_jumps_valid_and_invalid() {
    // PUSH1 4; JUMP; INVALID; JUMPDEST; PC; STOP
    let ok = [0x60, 4, 0x56, 0xfe, 0x5b, 0x58, 0x00];
    assert_eq!(check(&ok, SpecId::CANCUN, &[], 100).result, InstructionResult::Stop);
    // Target inside PUSH data that looks like a JUMPDEST.
    let into_data = [0x60, 3, 0x56, 0x60, 0x5b, 0x00];
    assert_eq!(check(&into_data, SpecId::CANCUN, &[], 100).result, InstructionResult::InvalidJump);
    // Out of range, and a huge target.
    let far = Asm::default().push_u(1 << 40).op(0x56).code();
    assert_eq!(check(&far, SpecId::CANCUN, &[], 100).result, InstructionResult::InvalidJump);
    // JUMPI not taken to an invalid target is fine; taken is not.
    let jumpi =
        |cond: u64| Asm::default().push_u(cond).push_u(1000).op(0x57).op(0x58).op(0x00).code();
    assert_eq!(check(&jumpi(0), SpecId::CANCUN, &[], 100).result, InstructionResult::Stop);
    assert_eq!(check(&jumpi(1), SpecId::CANCUN, &[], 100).result, InstructionResult::InvalidJump);
}

#[test]
fn running_off_the_end_of_the_code_stops() {
    // A loop whose last instruction is its JUMPI: leaving it runs past the end, into the
    // implicit STOP, which no interpreter pc holds (nor any profile byte).
    // PUSH1 3; JUMPDEST(2); PUSH1 1; SWAP1; SUB; DUP1; PUSH1 2; JUMPI
    let code = [0x60, 3, 0x5b, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 2, 0x57];
    let case = Case::new(&code, SpecId::CANCUN);
    assert_eq!(case.check(&[], 1000).result, InstructionResult::Stop);
    case.check_gas_edges(&[], 10);
}

#[test]
fn dynamic_jump_targets_from_calldata() {
    // JUMP to calldata[0]: JUMPDESTs at 4 and 8; everything else is invalid.
    // 0: PUSH1 0; CALLDATALOAD; JUMP | 4: JUMPDEST PUSH1 1 STOP | 8: JUMPDEST PUSH1 2 STOP
    let code = [0x60, 0, 0x35, 0x56, 0x5b, 0x60, 1, 0x00, 0x5b, 0x60, 2, 0x00];
    let case = Case::new(&code, SpecId::CANCUN);
    for target in [0u64, 1, 3, 4, 5, 6, 8, 11, 12, 1 << 32, u64::MAX] {
        case.check(&words(&[U256::from(target)]), 100);
    }
    case.check(&words(&[U256::MAX]), 100);
    case.check(&words(&[(U256::from(1) << 128) + U256::from(4)]), 100);
    // JUMPI with dynamic target and condition.
    let code = [0x60, 32, 0x35, 0x60, 0, 0x35, 0x57, 0x00, 0x5b, 0x58, 0x00];
    let case = Case::new(&code, SpecId::CANCUN);
    for (t, c) in [(8u64, 1u64), (8, 0), (7, 1), (7, 0), (9, 5)] {
        case.check(&words(&[U256::from(t), U256::from(c)]), 100);
    }
}

#[test]
fn dynamic_jumps_to_jumpdests_left_to_the_interpreter() {
    // JUMP to calldata[0], over JUMPDESTs at 4 (even) and at 11 and 15 (odd), and a 0x5b
    // in push data at 9:
    // 0: PUSH1 0 CALLDATALOAD JUMP | 4: JUMPDEST PUSH1 1 STOP | 8: PUSH1 0x5b STOP |
    // 11: JUMPDEST PUSH1 2 STOP | 15: JUMPDEST PUSH1 3 STOP
    let code = [
        0x60, 0, 0x35, 0x56, 0x5b, 0x60, 1, 0x00, 0x60, 0x5b, 0x00, 0x5b, 0x60, 2, 0x00, 0x5b,
        0x60, 3, 0x00,
    ];
    // Compiled from a profile of the even pcs, the cold JUMPDESTs leave the dispatch
    // switch for its default, a jump the runtime checks (`passes/jump_exits.rs`).
    let ran = RanBlocks::from_fn(code.len(), |pc| pc % 2 == 0);
    let func = translate_profiled(&code, SpecId::CANCUN, &Limits::default(), Some(&ran))
        .expect("translates");
    let ir = func.to_string();
    assert!(ir.contains("interpret cold jump"), "no jump left to the interpreter:\n{ir}");
    assert!(!ir.contains("11: "), "the case of pc 11 stays:\n{ir}");
    let case = Case::new(&code, SpecId::CANCUN);
    let targets = [0u64, 3, 4, 8, 9, 10, 11, 12, 15, 18, 19, 64, (1 << 32) + 11, u64::MAX];
    for target in targets {
        let want = case.check(&words(&[U256::from(target)]), 100);
        let valid = matches!(target, 4 | 11 | 15);
        assert_eq!(completed(want.result), valid, "target {target}: {:?}", want.result);
    }
    case.check(&words(&[(U256::from(1) << 64) + U256::from(11)]), 100);
    case.check(&words(&[U256::MAX]), 100);
    // Out of gas at every limit around the jump, the interpreted part included.
    case.check_gas_edges(&words(&[U256::from(15)]), 30);
}

#[test]
fn dynamic_jumps_to_failing_jumpdests_with_values_on_the_stack() {
    // Two values on the stack, then JUMP to calldata[0]: at 8 a JUMPDEST that returns
    // their sum; at 16, 29 and 42 JUMPDESTs that can only fail (REVERT with one of the
    // values, or INVALID), which the levels that leave failing paths to the interpreter
    // reach through the dispatch's one jump exit, the stack written back two deep. The
    // failing paths overwrite both entries after reading one, so that the interpreter's
    // stack array, which the next run's reuses, does not hold the values by chance.
    // 0: PUSH1 7 PUSH1 8 PUSH1 0 CALLDATALOAD JUMP
    // 8: JUMPDEST ADD PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
    // 16: JUMPDEST DUP2 PUSH0 MSTORE POP POP PUSH1 99 DUP1 PUSH1 32 PUSH0 REVERT
    // 29: JUMPDEST DUP1 PUSH0 MSTORE POP POP PUSH1 98 DUP1 PUSH1 32 PUSH0 REVERT
    // 42: JUMPDEST INVALID
    let code = [
        0x60, 7, 0x60, 8, 0x60, 0, 0x35, 0x56, //
        0x5b, 0x01, 0x5f, 0x52, 0x60, 32, 0x5f, 0xf3, //
        0x5b, 0x81, 0x5f, 0x52, 0x50, 0x50, 0x60, 99, 0x80, 0x60, 32, 0x5f, 0xfd, //
        0x5b, 0x80, 0x5f, 0x52, 0x50, 0x50, 0x60, 98, 0x80, 0x60, 32, 0x5f, 0xfd, //
        0x5b, 0xfe,
    ];
    let limits = Limits { interpret_failing_paths: true, ..Limits::default() };
    let ir = translate_profiled(&code, SpecId::CANCUN, &limits, None).expect("translates");
    let ir = ir.to_string();
    assert!(ir.contains("interpret jump, stack 2"), "no jump left to the interpreter:\n{ir}");
    let case = Case::new(&code, SpecId::CANCUN);
    for target in [8u64, 16, 29, 42, 0, 9, 17, 43, 44, 1 << 40] {
        let want = case.check(&words(&[U256::from(target)]), 1000);
        let want_result = match target {
            8 => InstructionResult::Return,
            16 | 29 => InstructionResult::Revert,
            42 => InstructionResult::InvalidFEOpcode,
            _ => InstructionResult::InvalidJump,
        };
        assert_eq!(want.result, want_result, "target {target}");
    }
    case.check_gas_edges(&words(&[U256::from(16)]), 30);
}

#[test]
fn dynamic_jumps_over_a_large_dispatch() {
    // JUMP to calldata[0] over 80 JUMPDESTs, at pcs 4, 9, 14, ... (every other one odd):
    // 0: PUSH1 0 CALLDATALOAD JUMP | then 80 times: JUMPDEST PUSH1 i DUP1 STOP, whose
    // stack tells which case ran. Enough cases that the dispatch switch goes through a
    // table (`lower/dispatch.rs`), also with the odd ones left cold.
    let mut code = vec![0x60, 0, 0x35, 0x56];
    for i in 0..80u8 {
        code.extend_from_slice(&[0x5b, 0x60, i, 0x80, 0x00]);
    }
    let case = Case::new(&code, SpecId::CANCUN);
    for target in 0..code.len() as u64 + 70 {
        let want = case.check(&words(&[U256::from(target)]), 100);
        let valid = target >= 4 && (target - 4) % 5 == 0 && target < code.len() as u64;
        assert_eq!(completed(want.result), valid, "target {target}: {:?}", want.result);
    }
    for target in [1 << 32, (1 << 32) + 4, u64::MAX] {
        case.check(&words(&[U256::from(target)]), 100);
    }
    case.check(&words(&[(U256::from(1) << 64) + U256::from(9)]), 100);
}

#[test]
fn loops_and_shared_return_blocks() {
    // A counted loop: sum 1..=n from calldata, RETURN the sum.
    // 0: PUSH1 0 (acc); PUSH1 0; CALLDATALOAD (n)
    // 5: JUMPDEST; DUP1; ISZERO; PUSH1 22; JUMPI; DUP1; SWAP2; ADD; SWAP1; PUSH1 1; SWAP1; SUB; PUSH1 5; JUMP
    // 22: JUMPDEST; POP; PUSH1 0; MSTORE; PUSH1 32; PUSH1 0; RETURN
    let code = [
        0x60, 0, 0x60, 0, 0x35, 0x5b, 0x80, 0x15, 0x60, 22, 0x57, 0x80, 0x91, 0x01, 0x90, 0x60, 1,
        0x90, 0x03, 0x60, 5, 0x56, 0x5b, 0x50, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3,
    ];
    let case = Case::new(&code, SpecId::CANCUN);
    for n in [0u64, 1, 2, 10, 1000] {
        let out = case.check(&words(&[U256::from(n)]), 10_000_000);
        assert_eq!(out.result, InstructionResult::Return);
        assert_eq!(U256::from_be_slice(&out.output), U256::from(n * (n + 1) / 2));
    }
    case.check_gas_edges(&words(&[U256::from(3)]), 40);
}

#[test]
fn halting_opcodes_in_every_fork() {
    for &spec in FORKS {
        // STOP with a stack, RETURN and REVERT with data, INVALID, unknown opcodes.
        check(&[0x58, 0x58, 0x00], spec, &[], 100);
        let ret = |op| {
            Asm::default().push_u(0xabcd).push_u(0).op(0x52).push_u(4).push_u(28).op(op).code()
        };
        check(&ret(0xf3), spec, &[], 100);
        check(&ret(0xfd), spec, &[], 100);
        check(&[0xfe], spec, &[], 100);
        for unknown in [0x0c, 0x21, 0x4c, 0xa5, 0xef, 0xfb] {
            check(&[0x58, unknown, 0x00], spec, &[], 100);
        }
        // Opcodes added in later forks.
        for late in [0x1b, 0x1c, 0x1d, 0x1e, 0x5e, 0x5f, 0xfd] {
            let code = Asm::default().push_u(1).push_u(2).push_u(3).op(late).op(0x00).code();
            Case::new(&code, spec).check_gas_edges(&[], 2);
        }
        // Running off the end of the code is STOP.
        assert_eq!(check(&[0x58], spec, &[], 100).result, InstructionResult::Stop);
    }
}

#[test]
fn a_block_shared_by_paths_of_different_depth() {
    // 0: PUSH1 0; CALLDATALOAD; PUSH1 10; JUMPI; PUSH1 1; PUSH1 2; JUMPDEST(10); PC; STOP
    // The JUMPDEST is reached with 0 or 2 items below: two variants of one block.
    let code = [0x60, 0, 0x35, 0x60, 10, 0x57, 0x60, 1, 0x60, 2, 0x5b, 0x58, 0x00];
    let case = Case::new(&code, SpecId::CANCUN);
    for c in [0u64, 1] {
        let out = case.check_gas_edges(&words(&[U256::from(c)]), 3);
        assert_eq!(out.stack.len(), if c == 0 { 3 } else { 1 });
    }
}
