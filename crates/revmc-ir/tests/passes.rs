//! The IR passes on translated programs: what each removes, and what it must keep.

use expect_test::expect;
use revmc_ir::ir::{Function, InstData};
use revmc_ir::{Limits, SpecId, abi::Builtin, passes, translate};

fn translated(code: &[u8]) -> Function {
    translate(code, SpecId::CANCUN, &Limits::default()).unwrap()
}

fn expansions(func: &Function) -> usize {
    (func.block_ids().flat_map(|b| func.block(b).insts.iter()))
        .filter(|&&i| matches!(func.inst(i), InstData::Call(Builtin::MemoryExpand, _)))
        .count()
}

#[test]
fn constant_chains_fold_and_their_operands_go() {
    // The address mask `(1 << 160) - 1`, then AND with call data and MSTORE at 0: the mask
    // folds into one constant, whose operands nothing uses any more.
    let code = [0x60, 1, 0x60, 0xa0, 0x1b, 0x60, 1, 0x90, 0x03, 0x5f, 0x35, 0x16, 0x5f, 0x52, 0x00];
    expect![[r#"
        block0:  ; pc 0
            charge_gas 31
            v4 = const 0xffffffffffffffffffffffffffffffffffffffff
            v5 = const 0x0
            v6 = call CallDataLoad v5
            v7 = and v6, v4
            v8 = const 0x0
            v9 = const 0x20
            call MemoryExpand v8, v9
            mstore32 v8, v7
            exit Stop, stack 0
    "#]]
    .assert_eq(&translated(&code).to_string());
}

#[test]
fn an_expansion_stays_where_one_path_has_not_grown_memory() {
    #[rustfmt::skip]
    let code = [
        0x60, 0x80, 0x60, 0x40, 0x52,       // MSTORE(0x40, 0x80): 0x60 bytes
        0x5f, 0x51, 0x50,                   // MLOAD(0): covered
        0x5f, 0x35, 0x60, 0x13, 0x57,       // JUMPI(19, calldata[0])
        0x60, 0xa5, 0x61, 0x01, 0x00, 0x52, // MSTORE(0x100, 0xa5): grows
        0x5b,                               // 19: 0x60 or 0x120 bytes
        0x60, 0x20, 0x61, 0x01, 0x00, 0x52, // MSTORE(0x100, 0x20): kept
        0x60, 0x40, 0x51, 0x5f, 0x52,       // MSTORE(0, MLOAD(0x40)): both covered
        0x00,
    ];
    // Kept: the first MSTORE, the one that grows, the one at the join.
    assert_eq!(expansions(&translated(&code)), 3);
}

#[test]
fn a_loop_keeps_what_its_entry_covers_and_grows_on_its_first_turn() {
    #[rustfmt::skip]
    let code = [
        0x5f, 0x60, 0xc0, 0x52,             // MSTORE(0xc0, 0): 0xe0 bytes
        0x5f, 0x35,                         // n = calldata[0]
        0x5b,                               // 6: loop
        0x80, 0x15, 0x60, 0x21, 0x57,       // JUMPI(33, n == 0)
        0x80, 0x60, 0x20, 0x52,             // MSTORE(0x20, n): covered
        0x80, 0x61, 0x01, 0x00, 0x52,       // MSTORE(0x100, n): kept (not on the entry path)
        0x80, 0x61, 0x01, 0x00, 0x52,       // again: covered by the one before
        0x60, 0x01, 0x90, 0x03, 0x60, 0x06, 0x56, // n - 1; JUMP(6)
        0x5b, 0x00,                         // 33: STOP
    ];
    // Kept: the first MSTORE and the first MSTORE(0x100) of the body.
    assert_eq!(expansions(&translated(&code)), 2);
}

#[test]
fn dynamic_and_unreached_accesses_keep_their_expansion() {
    // MSTORE(0x40, 0x80); MSTORE(calldata[0], 1): a dynamic offset is never dropped.
    let code = [0x60, 0x80, 0x60, 0x40, 0x52, 0x60, 1, 0x5f, 0x35, 0x52, 0x00];
    assert_eq!(expansions(&translated(&code)), 2);
}

#[test]
fn the_passes_reach_a_fixed_point_in_one_run() {
    for code in [
        &[0x60, 1, 0x60, 0xa0, 0x1b, 0x60, 1, 0x90, 0x03, 0x5f, 0x52, 0x00][..],
        &[0x60, 0x80, 0x60, 0x40, 0x52, 0x5f, 0x51, 0x60, 0x20, 0x52, 0x00],
    ] {
        let mut func = translated(code);
        let before = func.clone();
        assert_eq!(passes::run(&mut func, false).unwrap(), passes::PassStats::default());
        assert_eq!(func, before);
    }
}

/// The charges of `func`: static ones as `(gas, 0)`, dynamic-shape ones as `(gas, checks)`.
fn charges(func: &Function) -> Vec<(u64, usize)> {
    (func.block_ids().flat_map(|b| func.block(b).insts.iter()))
        .filter_map(|&i| match func.inst(i) {
            InstData::ChargeGas(g) => Some((*g, 0)),
            InstData::DynCharge { gas, checks } => Some((*gas, checks.len())),
            _ => None,
        })
        .collect()
}

#[test]
fn sections_a_dropped_expansion_separated_are_charged_as_one() {
    // MSTORE(0x40, 0x80); MLOAD(0); MLOAD(0x20), each POPped; GAS; MLOAD(0); STOP. The
    // three charges before GAS merge into one; the one after it cannot move above it.
    #[rustfmt::skip]
    let code = [
        0x60, 0x80, 0x60, 0x40, 0x52,
        0x5f, 0x51, 0x50, 0x60, 0x20, 0x51, 0x50,
        0x5a, 0x50, 0x5f, 0x51, 0x50, 0x00,
    ];
    let func = translated(&code);
    // PUSH1 PUSH1 MSTORE | PUSH0 MLOAD, POP PUSH1 MLOAD, POP GAS (a section ends at GAS)
    // | PUSH0 MLOAD, POP STOP.
    assert_eq!(charges(&func), [(9, 0), (5 + 8 + 4, 0), (7 + 2, 0)]);
}

#[test]
fn dynamic_sections_a_dropped_expansion_separated_are_charged_as_one() {
    // A loop whose head is reached one entry higher each turn (a dynamic shape): its
    // MLOAD(0x40) is covered by the entry's MSTORE, so the two sections around it are
    // one, with the second's stack checks after the first's.
    #[rustfmt::skip]
    let code = [
        0x60, 0x80, 0x60, 0x40, 0x52, // MSTORE(0x40, 0x80)
        0x5f,                         // i = 0
        0x5b,                         // 6: head
        0x60, 0x40, 0x51, 0x50,       // MLOAD(0x40), popped
        0x80, 0x60, 0x01, 0x01,       // DUP1; i + 1
        0x80, 0x5f, 0x35, 0x11,       // calldata[0] > i + 1
        0x60, 0x06, 0x57,             // JUMPI(head)
        0x00,
    ];
    let func = translated(&code);
    assert!(func.to_string().contains("base"), "the head is a dynamic shape");
    // The entry's two sections (its MSTORE grows memory); then the head's one: JUMPDEST
    // PUSH1 MLOAD (7 gas, checked at PUSH1) | POP DUP1 PUSH1 ADD DUP1 PUSH0 CALLDATALOAD GT
    // PUSH1 JUMPI (35 gas, checked at DUP1, PUSH1 and PUSH0). Unmerged: (7, 1), (35, 3).
    assert_eq!(charges(&func), [(9, 0), (2, 0), (42, 4)]);
    let head = func.block(revmc_ir::ir::Block::new(1));
    let InstData::DynCharge { checks, .. } = func.inst(head.insts[0]) else {
        panic!("the head starts with its charge")
    };
    let at: Vec<_> = checks.iter().map(|c| (c.gas, c.min_base, c.max_base)).collect();
    assert_eq!(at, [(4, 0, 1023), (12, 1, 1023), (15, -1, 1022), (23, -2, 1021)]);
}
