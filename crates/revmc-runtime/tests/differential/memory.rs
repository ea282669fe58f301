//! Memory, hashing, copies and call data at edge offsets and lengths.

use crate::harness::{Asm, Case, FORKS, words};
use revmc_runtime::{SpecId, U256};

fn offsets() -> Vec<U256> {
    let one = U256::from(1);
    vec![
        U256::ZERO,
        U256::from(1),
        U256::from(31),
        U256::from(32),
        U256::from(1000),
        U256::from(0xffff_ffffu64),
        one << 32,
        U256::from(u64::MAX),
        // One bit in each limb above the lowest: the optimizing tier's bounds check
        // and its cold path see the offset limb by limb.
        one << 64,
        one << 128,
        one << 255,
        U256::MAX,
    ]
}

#[test]
fn mload_mstore_mstore8_msize() {
    // MSTORE calldata[1] at calldata[0]; MSTORE8 at calldata[0]+33; MLOAD back; MSIZE.
    let code = Asm::default()
        .arg(1)
        .arg(0)
        .op(0x52)
        .arg(1)
        .arg(0)
        .push_u(33)
        .op(0x01)
        .op(0x53)
        .arg(0)
        .op(0x51)
        .op(0x59)
        .op(0x00)
        .code();
    let case = Case::new(&code, SpecId::CANCUN);
    for off in offsets() {
        case.check(&words(&[off, U256::from_be_bytes([0xa5; 32])]), 30_000_000);
    }
    case.check_gas_edges(&words(&[U256::from(100), U256::from(7)]), 12);
}

#[test]
fn copies_hashing_and_output() {
    let lens =
        [U256::ZERO, U256::from(1), U256::from(32), U256::from(33), U256::from(200), U256::MAX];
    // (dst, src, len) from calldata for each copy opcode, then hash the region and RETURN it.
    for op in [0x37u8, 0x39, 0x5e] {
        let code = Asm::default()
            .arg(2)
            .arg(1)
            .arg(0)
            .op(op)
            .push_u(64)
            .push_u(0)
            .op(0x20)
            .push_u(0)
            .op(0x52)
            .op(0x59)
            .push_u(0)
            .op(0xf3)
            .code();
        let case = Case::new(&code, SpecId::CANCUN);
        for dst in &offsets()[..6] {
            for src in [U256::ZERO, U256::from(5), U256::from(90), U256::MAX] {
                for len in &lens {
                    case.check(&words(&[*dst, src, *len]), 30_000_000);
                }
            }
        }
    }
    // KECCAK256, RETURN and REVERT with dynamic offset and length.
    for op in [0x20u8, 0xf3, 0xfd] {
        let code = Asm::default().arg(1).arg(0).op(op).op(0x00).code();
        let case = Case::new(&code, SpecId::CANCUN);
        for off in offsets() {
            for len in &lens {
                case.check(&words(&[off, *len]), 30_000_000);
            }
        }
    }
}

#[test]
fn calldata_and_code_reads() {
    let code = Asm::default()
        .arg(0)
        .op(0x35)
        .op(0x36)
        .op(0x38)
        .push_u(0)
        .push_u(0)
        .op(0x35)
        .op(0x00)
        .code();
    let case = Case::new(&code, SpecId::CANCUN);
    // Around the inline load's bounds: the word ending exactly at the end (32 of 64
    // bytes, 3 of 35), one byte past it, offsets whose `+ 32` wraps 64 bits, and above.
    let offsets = [0, 1, 3, 4, 31, 32, 33, 40, 63, 64, u64::MAX - 31, u64::MAX - 10, u64::MAX];
    for off in offsets.map(U256::from).into_iter().chain([U256::from(1) << 64, U256::MAX]) {
        case.check(&words(&[off, U256::from_be_bytes([0x33; 32])]), 1_000_000);
        let mut short = words(&[off]);
        short.truncate(35);
        case.check(&short, 1_000_000);
    }
}

#[test]
fn memory_gas_is_exact_in_every_fork() {
    for &spec in FORKS {
        let code = Asm::default()
            .push_u(7)
            .push_u(1000)
            .op(0x52)
            .push_u(64)
            .push_u(900)
            .op(0x20)
            .push_u(40)
            .push_u(3)
            .push_u(2000)
            .op(0x37)
            .push_u(32)
            .push_u(10)
            .op(0xf3)
            .code();
        Case::new(&code, spec).check_gas_edges(&words(&[U256::from(3)]), 40);
    }
}

#[test]
fn accesses_at_huge_offsets_after_memory_has_grown() {
    // With 64 bytes of memory, an offset whose low 64 (or 32) bits lie inside it must
    // still halt: the inline bounds check may not look at the low bits alone.
    let one = U256::from(1);
    let huge = [
        one << 32,
        (one << 32) + U256::from(8),
        one << 64,
        (one << 64) + U256::from(1),
        one << 128,
        (one << 255) + U256::from(16),
        U256::MAX - U256::from(31),
    ];
    for op in [0x51u8, 0x52, 0x53] {
        // MSTORE 0 at 32 (memory is 64 bytes), then `op` at calldata[0].
        let mut asm = Asm::default().push_u(0).push_u(32).op(0x52);
        asm = match op {
            0x51 => asm.arg(0).op(0x51).op(0x50),
            _ => asm.push_u(0xa5).arg(0).op(op),
        };
        let case = Case::new(&asm.op(0x59).op(0x00).code(), SpecId::CANCUN);
        for off in huge {
            case.check(&words(&[off]), 30_000_000);
        }
    }
}

/// Two programs whose constant accesses the translator proves covered by an earlier
/// expansion (and so drops their expansion): only where every path has grown memory far
/// enough. Memory, MSIZE and gas must stay exact on each path, at every gas limit.
#[test]
fn constant_accesses_after_memory_has_grown() {
    #[rustfmt::skip]
    let join = [
        0x60, 0x80, 0x60, 0x40, 0x52,       // MSTORE(0x40, 0x80): 0x60 bytes
        0x5f, 0x51, 0x50,                   // MLOAD(0), covered
        0x5f, 0x35, 0x60, 0x13, 0x57,       // JUMPI(19, calldata[0])
        0x60, 0xa5, 0x61, 0x01, 0x00, 0x52, // MSTORE(0x100, 0xa5): 0x120 bytes on this path
        0x5b,                               // 19: JUMPDEST, 0x60 or 0x120 bytes
        0x60, 0x20, 0x61, 0x01, 0x00, 0x52, // MSTORE(0x100, 0x20): covered on one path only
        0x60, 0x40, 0x51, 0x59, 0x01,       // MLOAD(0x40) + MSIZE
        0x5f, 0x52,                         // MSTORE(0, ·), covered
        0x59, 0x5f, 0xf3,                   // RETURN(0, MSIZE)
    ];
    #[rustfmt::skip]
    let looped = [
        0x5f, 0x60, 0xc0, 0x52,             // MSTORE(0xc0, 0): 0xe0 bytes
        0x5f, 0x35,                         // n = calldata[0]
        0x5b,                               // 6: JUMPDEST
        0x80, 0x15, 0x60, 0x1c, 0x57,       // JUMPI(28, n == 0)
        0x80, 0x60, 0x20, 0x52,             // MSTORE(0x20, n), covered
        0x80, 0x61, 0x01, 0x00, 0x52,       // MSTORE(0x100, n): grows on the first turn only
        0x60, 0x01, 0x90, 0x03,             // n - 1
        0x60, 0x06, 0x56,                   // JUMP(6)
        0x5b,                               // 28: JUMPDEST
        0x59, 0x5f, 0x52, 0x59, 0x5f, 0xf3, // MSTORE(0, MSIZE); RETURN(0, MSIZE)
    ];
    for code in [&join[..], &looped[..]] {
        let case = Case::new(code, SpecId::CANCUN);
        for n in [0u64, 1, 3] {
            case.check_gas_edges(&words(&[U256::from(n)]), 40);
        }
    }
}

#[test]
fn accesses_a_constant_above_an_expanded_offset() {
    // MSTORE at p = calldata[0], then at p + c for constants c: below 2^32 the optimizing
    // tier's check of p + c looks at its low limb only (p, once expanded, is below 2^63);
    // a larger c, or one that wraps p below itself, must still take the exact path.
    let one = U256::from(1);
    let steps = [
        U256::from(32),
        U256::from(0xffff_ffffu64),
        one << 32,
        one << 64,
        (one << 64) + U256::from(32),
        U256::MAX - U256::from(31),
    ];
    for c in steps {
        // p; MSTORE(p, 0xa5) keeping p; MSTORE(p + c, 0x5a): the same value p, plus c.
        let asm = Asm::default().arg(0).op(0x80).push_u(0xa5).op(0x90).op(0x52);
        let asm = asm.push(c).op(0x01).push_u(0x5a).op(0x90).op(0x52);
        let case = Case::new(&asm.op(0x59).op(0x00).code(), SpecId::CANCUN);
        for p in [U256::ZERO, U256::from(64), U256::from(4000), one << 40] {
            case.check(&words(&[p]), 30_000_000);
        }
    }
}
