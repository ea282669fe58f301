//! Snapshot tests of the translator's IR text, and bounds on hostile input.

use expect_test::{Expect, expect};
use revmc_ir::{
    Limits, OptLevel, RanBlocks, SpecId, TranslateError, translate, translate_profiled,
};
use std::time::Instant;

/// Checks the IR of `code`, its failing paths compiled too: most snapshots are about how
/// halts are translated.
fn check(code: &[u8], expected: Expect) {
    let limits = Limits { interpret_failing_paths: false, ..Limits::default() };
    check_with(code, &limits, expected);
}

fn check_with(code: &[u8], limits: &Limits, expected: Expect) {
    let func = translate(code, SpecId::CANCUN, limits).unwrap();
    revmc_ir::verifier::verify(&func).unwrap();
    expected.assert_eq(&func.to_string());
}

#[test]
fn paths_that_can_only_fail_are_left_to_the_interpreter() {
    // 0: CALLDATASIZE; PUSH1 10; JUMPI; PUSH1 1; PUSH1 2; SSTORE; STOP
    // 10: JUMPDEST; PUSH1 7; PUSH1 0; MSTORE; PUSH1 32; PUSH1 0; REVERT
    // The REVERT side becomes one exit to the interpreter at its JUMPDEST, the stack
    // (empty there) written back; the STOP side stays compiled.
    let code = [
        0x36, 0x60, 10, 0x57, 0x60, 1, 0x60, 2, 0x55, 0x00, //
        0x5b, 0x60, 7, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xfd,
    ];
    check_with(
        &code,
        &Limits::default(),
        expect![[r#"
        block0:  ; pc 0
            charge_gas 15
            v0 = calldatasize
            branch v0, block2, block1
        block1:  ; pc 4
            charge_gas 6
            v2 = const 0x1
            v3 = const 0x2
            host SSTORE @2 v3, v2
            exit Stop, stack 0
        block2:  ; pc 10
            interpret @10, stack 0
    "#]],
    );
    // A loop that can only run out of gas stays compiled, and so does what leads to it:
    // PUSH1 1; POP; JUMPDEST(3); PUSH1 3; JUMP.
    check_with(
        &[0x60, 1, 0x50, 0x5b, 0x60, 3, 0x56],
        &Limits::default(),
        expect![[r#"
        block0:  ; pc 0
            charge_gas 5
            jump block1
        block1:  ; pc 3
            charge_gas 12
            jump block1
    "#]],
    );
    // A program that can only fail is not compiled at all.
    check_with(
        &[0x60, 1, 0x60, 0, 0xfd],
        &Limits::default(),
        expect![[r#"
        block0:  ; pc 0
            interpret @0, stack 0
    "#]],
    );
}

#[test]
fn blocks_that_did_not_run_are_left_to_the_interpreter_as_cold() {
    // 0: CALLDATASIZE; PUSH1 10; JUMPI; PUSH1 1; PUSH1 2; SSTORE; STOP
    // 10: JUMPDEST; PUSH1 3; PUSH1 4; SSTORE; PUSH1 20; JUMP
    // 20: JUMPDEST; STOP
    let code = [
        0x36, 0x60, 10, 0x57, 0x60, 1, 0x60, 2, 0x55, 0x00, //
        0x5b, 0x60, 3, 0x60, 4, 0x55, 0x60, 20, 0x56, 0x00, //
        0x5b, 0x00,
    ];
    let ir = |ran: &[usize]| {
        let ran = RanBlocks::from_pcs(ran.iter().copied());
        translate_profiled(&code, SpecId::CANCUN, &Limits::default(), Some(&ran))
            .expect("translates")
            .to_string()
    };
    // Profiled with call data: the other side (pc 4) did not run, and is one cold exit.
    expect![[r#"
        block0:  ; pc 0
            charge_gas 15
            v0 = calldatasize
            branch v0, block2, block1
        block1:  ; pc 4
            interpret cold @4, stack 0
        block2:  ; pc 10
            charge_gas 7
            v4 = const 0x3
            v5 = const 0x4
            host SSTORE @2 v5, v4
            charge_gas 11
            jump block3
        block3:  ; pc 20
            charge_gas 1
            exit Stop, stack 0
    "#]]
    .assert_eq(&ir(&[0, 10, 20]));
    // Had the block at pc 20 not run, the jump to it would leave to the interpreter.
    let ir = ir(&[0, 10]);
    assert!(ir.ends_with("block3:  ; pc 20\n    interpret cold @20, stack 0\n"), "{ir}");
}

#[test]
fn straight_line_arithmetic_charges_one_section() {
    // PUSH1 2; PUSH1 3; ADD; STOP
    check(
        &[0x60, 2, 0x60, 3, 0x01, 0x00],
        expect![[r#"
            block0:  ; pc 0
                charge_gas 9
                v2 = const 0x5
                slot_set 0, v2
                exit Stop, stack 1
        "#]],
    );
}

#[test]
fn loop_carries_values_in_slots_and_resolves_jumps() {
    // PUSH1 10; JUMPDEST(2); PUSH1 1; SWAP1; SUB; DUP1; PUSH1 2; JUMPI; STOP
    check(
        &[0x60, 10, 0x5b, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 2, 0x57, 0x00],
        expect![[r#"
            block0:  ; pc 0
                charge_gas 3
                v0 = const 0xa
                slot_set 0, v0
                jump block1
            block1:  ; pc 2
                charge_gas 26
                v1 = const 0x1
                v2 = slot_get 0
                v3 = sub v2, v1
                slot_set 0, v3
                branch v3, block1, block2
            block2:  ; pc 11
                exit Stop, stack 1
        "#]],
    );
}

#[test]
fn static_stack_errors_and_memory_sections() {
    // PUSH1 0; MLOAD; POP; POP -> underflow on the second POP after the MLOAD section.
    check(
        &[0x60, 0, 0x51, 0x50, 0x50],
        expect![[r#"
            block0:  ; pc 0
                charge_gas 6
                v0 = const 0x0
                v1 = const 0x20
                call MemoryExpand v0, v1
                charge_gas 4
                exit StackUnderflow, stack 0
        "#]],
    );
}

#[test]
fn host_operations_and_call_suspension() {
    // PUSH1 1; SLOAD; SELFBALANCE; CALLER; POP; 7 x PUSH1 0; CALL; POP; STOP. CALLER is
    // no host operation: it loads the context's environment word in the section.
    let mut code = vec![0x60, 1, 0x54, 0x47, 0x33, 0x50];
    code.extend([0x60, 0].repeat(7));
    code.extend([0xf1, 0x50, 0x00]);
    check(
        &code,
        expect![[r#"
            block0:  ; pc 0
                charge_gas 103
                v0 = const 0x1
                v1 = host SLOAD @1 v0
                charge_gas 5
                v2 = host SELFBALANCE @1 
                charge_gas 125
                v4 = const 0x0
                v5 = const 0x0
                v6 = const 0x0
                v7 = const 0x0
                v8 = const 0x0
                v9 = const 0x0
                v10 = const 0x0
                slot_set 0, v1
                slot_set 1, v2
                suspend CALL @9 #1 v10, v9, v8, v7, v6, v5, v4, resume block1
            block1:  ; pc 21
                charge_gas 2
                exit Stop, stack 2
        "#]],
    );
}

#[test]
fn hostile_inputs_translate_in_bounded_time() {
    let limits = Limits::default();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("24 KiB of JUMPDESTs", vec![0x5b; 24 * 1024]),
        ("24 KiB of PUSH32 runs", [0x7f].repeat(24 * 1024)),
        // CALLDATASIZE; JUMP followed by many JUMPDESTs: every dynamic jump reaches all.
        ("dynamic jumps into many JUMPDESTs", {
            let mut c = Vec::new();
            for _ in 0..4000 {
                c.extend_from_slice(&[0x5b, 0x36, 0x57]);
            }
            c
        }),
        ("deep PUSH stack", [0x60, 0x01].repeat(12 * 1024)),
        // A loop of ever greater heights (a dynamic shape), then an unresolved jump into
        // 2,000 JUMPDESTs that each jump to one 12 KiB block, which jumps back through the
        // dispatch: the stack-bounds pass's guards and their data-flow over a cycle.
        ("a dispatch of many cases into one large block", {
            let mut c = vec![0x5f, 0x5b, 0x80, 0x60, 1, 0x01, 0x80, 0x5f, 0x35, 0x11];
            c.extend([0x61, 0, 1, 0x57, 0x60, 0x20, 0x35, 0x56]);
            let big = (c.len() + 2000 * 6) as u16;
            for _ in 0..2000 {
                c.extend([0x5b, 0x81, 0x61, (big >> 8) as u8, big as u8, 0x56]);
            }
            c.push(0x5b);
            c.extend([0x80, 0x50].repeat(6 * 1024));
            c.extend([0x60, 0x20, 0x35, 0x56]);
            c
        }),
    ];
    for (name, code) in cases {
        let start = Instant::now();
        let r = translate(&code, SpecId::CANCUN, &limits);
        let elapsed = start.elapsed();
        // Either outcome is fine; what matters is a bounded time and no panic.
        assert!(elapsed.as_secs() < 20, "{name}: took {elapsed:?} ({:?})", r.as_ref().err());
        if let Err(e) = r {
            assert!(!matches!(e, TranslateError::Verifier(_)), "{name}: {e}");
        }
    }
    let too_big = vec![0u8; limits.max_code_len + 1];
    assert!(matches!(
        translate(&too_big, SpecId::CANCUN, &limits),
        Err(TranslateError::LimitExceeded { .. })
    ));
}

#[test]
fn programs_estimated_too_costly_are_refused_before_compiling() {
    // 48 KiB (the initcode limit) of `DUP1 EXP` on a call-data word: about 2.5 s of
    // first-tier compilation, past the 2 s deadline. The translator refuses it.
    let mut code = vec![0x5f, 0x35];
    code.extend([0x80, 0x0a].repeat(24 * 1024 - 4));
    code.extend([0x5f, 0x55, 0x00]);
    let refused = translate(&code, SpecId::CANCUN, &Limits::default());
    assert!(
        matches!(
            refused,
            Err(TranslateError::LimitExceeded { what: "estimated compile cost", .. })
        ),
        "{refused:?}"
    );
    // The same program at 4 KiB is admitted, and its estimate is what the limit compares.
    let small: Vec<u8> = [&code[..2], &code[2..4096], &code[code.len() - 3..]].concat();
    let func = translate(&small, SpecId::CANCUN, &Limits::default()).unwrap();
    let cost = revmc_ir::compile_cost(&func);
    let limits = Limits { max_compile_cost: cost as usize - 1, ..Limits::default() };
    assert!(translate(&small, SpecId::CANCUN, &limits).is_err());
}

#[test]
fn programs_too_costly_to_optimize_keep_their_first_tier() {
    // `KiB` KiB of `DUP1 op` on a call-data word: one block.
    let chain = |op: u8, kib: usize| {
        let mut code = vec![0x36];
        code.extend([0x80, op].repeat(kib * 512 - 1));
        code.extend([0x5f, 0x55, 0x00]);
        translate(&code, SpecId::CANCUN, &Limits::default()).expect("the first tier admits it")
    };
    let limits = Limits::default();
    // 6 KiB of `SIGNEXTEND`s: 1,024 of them inline took the optimizing tier 12.8 s.
    let wide = chain(0x0b, 6);
    let refused = limits.admit_optimizing(&wide, OptLevel::O2);
    assert!(
        matches!(
            refused,
            Err(TranslateError::LimitExceeded { what: "estimated optimizing cost", .. })
        ),
        "{refused:?}"
    );
    // A first tier, at O0 or O1, is not held to the optimizing estimate.
    limits.admit_optimizing(&wide, OptLevel::O1).expect("a cheap level admits it");
    // Past `INLINE_WIDE_OPS` the lowering calls word operations: the estimate stops
    // growing with the square of the chain, so 12 KiB costs less than twice 6 KiB.
    let longer = revmc_ir::optimizing_cost(&chain(0x0b, 12));
    assert!(longer < 2 * revmc_ir::optimizing_cost(&wide));
    // As many additions cost the optimizing tier ten times the first tier's estimate, as
    // most instructions do, and are admitted.
    let adds = chain(0x01, 6);
    assert_eq!(revmc_ir::optimizing_cost(&adds), 10 * revmc_ir::compile_cost(&adds));
    limits.admit_optimizing(&adds, OptLevel::O2).expect("additions are cheap to optimize");
    // Sign extensions from a constant byte index are not wide operations.
    let mut code = vec![0x36];
    code.extend([0x60, 0x07, 0x0b].repeat(2 * 1024));
    code.extend([0x5f, 0x55, 0x00]);
    let constant = translate(&code, SpecId::CANCUN, &limits).unwrap();
    assert_eq!(revmc_ir::optimizing_cost(&constant), 10 * revmc_ir::compile_cost(&constant));
}

#[test]
fn a_pcs_dynamic_block_that_did_not_run_is_cold_while_its_static_one_is_compiled() {
    // Y (21) is reached at height 0 by a JUMPI, and from X (17), which is reached at three
    // heights and so, at two variants per block, collapses into a dynamic shape.
    #[rustfmt::skip]
    let code = [
        0x34, 0x60, 21, 0x57,       // 0: CALLVALUE; JUMPI(Y)
        0x36, 0x60, 17, 0x57,       // 4: CALLDATASIZE; JUMPI(X)            X at height 0
        0x5f, 0x36, 0x60, 17, 0x57, // 8: PUSH0; CALLDATASIZE; JUMPI(X)     X at height 1
        0x5f, 0x60, 17, 0x56,       // 13: PUSH0; JUMP(X)                   X at height 2
        0x5b, 0x60, 21, 0x56,       // 17: X: JUMPDEST; JUMP(Y)
        0x5b, 0x00,                 // 21: Y: JUMPDEST; STOP
    ];
    let limits = Limits { max_variants: 2, ..Limits::default() };
    let ir = |ran: &RanBlocks| {
        translate_profiled(&code, SpecId::CANCUN, &limits, Some(ran)).expect("translates")
    };
    let statics = [0, 4, 8, 13, 21];
    // Every block ran, X in its dynamic shape: both of Y's blocks are compiled.
    let both = ir(&RanBlocks::from_kinds(statics, [17, 21]));
    let ys = |f: &revmc_ir::ir::Function| -> Vec<(bool, String)> {
        (f.block_ids().map(|b| f.block(b)))
            .filter(|d| d.pc == Some(21))
            .map(|d| (d.dynamic, format!("{:?}", d.term)))
            .collect()
    };
    let exits: Vec<_> = ys(&both).into_iter().map(|(d, t)| (d, t.starts_with("Exit"))).collect();
    assert_eq!(exits, [(false, true), (true, true)], "{both}");
    // Y ran only from the JUMPI: its dynamic block leaves to the interpreter, cold.
    let statically = ir(&RanBlocks::from_kinds(statics, [17]));
    let ys = ys(&statically);
    assert_eq!(ys.len(), 2, "{statically}");
    assert!(!ys[0].0 && ys[0].1.starts_with("Exit"), "{statically}");
    assert!(ys[1].0 && ys[1].1.starts_with("Interpret") && ys[1].1.contains("cold: true"));
}
