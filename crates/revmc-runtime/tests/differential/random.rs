//! Randomly generated straight-line and looping programs, compared with the interpreter.

use crate::harness::{Asm, Case, edge_words};
use proptest::prelude::*;
use revmc_runtime::{SpecId, U256};

/// Compute opcodes that take and leave words on the stack (no memory, no jumps).
const OPS: &[u8] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x50, 0x58, 0x59, 0x5a, 0x80, 0x81,
    0x83, 0x87, 0x8f, 0x90, 0x91, 0x94, 0x9f, 0x36, 0x38, 0x35,
];

fn program() -> impl Strategy<Value = Vec<u8>> {
    let edges = edge_words();
    let item = prop_oneof![
        3 => prop::sample::select(OPS.to_vec()).prop_map(|op| vec![op]),
        2 => prop::sample::select(edges).prop_map(|w| Asm::default().push(w).code()),
        1 => any::<u8>().prop_map(|b| vec![0x60, b]),
    ];
    prop::collection::vec(item, 1..60).prop_map(|items| {
        let mut code: Vec<u8> = items.concat();
        code.push(0x00);
        code
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_straight_line_programs(code in program(), gas in 0u64..3000) {
        let case = Case::new(&code, SpecId::OSAKA);
        case.check(&[0x77; 40], gas);
        case.check(&[], 1_000_000);
    }
}

#[test]
fn random_words_through_every_binary_op() {
    // Deterministic pseudo-random operands (xorshift), beyond the fixed edge set.
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let code = |op: u8| Asm::default().arg(1).arg(0).op(op).op(0x00).code();
    for op in [0x04u8, 0x05, 0x06, 0x07, 0x0a, 0x0b, 0x1a, 0x1b, 0x1c, 0x1d] {
        let case = Case::new(&code(op), SpecId::CANCUN);
        for _ in 0..200 {
            let mut w = || {
                let limbs = [next(), next(), next(), next()];
                // Mix widths so that small-operand fast paths are exercised too.
                U256::from_limbs(limbs) >> (next() % 256) as usize
            };
            let (a, b) = (w(), w());
            case.check(&crate::harness::words(&[a, b]), 1_000_000);
        }
    }
}
