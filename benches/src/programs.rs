//! The benchmark programs: host-free EVM loops, each reading its iteration count from the
//! first call-data word and returning one 32-byte result.
//!
//! Every loop keeps its counter `n` on top of the stack and the same stack height at its
//! `JUMPDEST`, so the compiler resolves all jumps statically.

use crate::asm::{Asm, op};
use revmc_runtime::U256;

/// Gas limit for every run: far above what any program uses at its default size.
pub const GAS_LIMIT: u64 = 1_000_000_000;

/// One benchmark: bytecode and the frame it runs in.
#[derive(Debug, Clone)]
pub struct Program {
    /// Name shown in reports.
    pub name: &'static str,
    /// Bytecode.
    pub code: Vec<u8>,
    /// Call data: the iteration count as a 32-byte big-endian word.
    pub calldata: Vec<u8>,
    /// Gas limit of the frame.
    pub gas_limit: u64,
}

/// A program generator and its default iteration count (sized for a few ms in the interpreter).
struct Def {
    name: &'static str,
    iterations: u64,
    build: fn() -> Vec<u8>,
}

const DEFS: &[Def] = &[
    Def { name: "fibonacci", iterations: 200_000, build: fibonacci },
    Def { name: "factorial", iterations: 200_000, build: factorial },
    Def { name: "keccak_loop", iterations: 10_000, build: keccak_loop },
    Def { name: "memory_loop", iterations: 100_000, build: memory_loop },
    Def { name: "divmod_loop", iterations: 20_000, build: divmod_loop },
    Def { name: "exp_loop", iterations: 20_000, build: exp_loop },
    Def { name: "bitwise_loop", iterations: 50_000, build: bitwise_loop },
    Def { name: "push_dup_swap", iterations: 50_000, build: push_dup_swap },
];

/// All programs; `iterations` overrides every program's default loop count.
pub fn all(iterations: Option<u64>) -> Vec<Program> {
    DEFS.iter()
        .map(|d| Program {
            name: d.name,
            code: (d.build)(),
            calldata: U256::from(iterations.unwrap_or(d.iterations)).to_be_bytes::<32>().to_vec(),
            gas_limit: GAS_LIMIT,
        })
        .collect()
}

fn hex(s: &str) -> U256 {
    s.parse().expect("valid hex constant")
}

/// Emits `loop: if n == 0 goto done; body; n -= 1; goto loop; done: POP`, with the
/// counter `n` on top of the stack. `body` must leave the stack as it found it in height,
/// with `n` unchanged on top.
fn counted_loop(a: &mut Asm, body: impl FnOnce(&mut Asm)) {
    a.label("loop").op(op::DUP1).op(op::ISZERO).jumpi("done");
    body(a);
    a.push_u64(1).op(op::SWAP1).op(op::SUB).jump("loop");
    a.label("done").op(op::POP);
}

/// Pushes the iteration count from call data.
fn load_n(a: &mut Asm) {
    a.push_u64(0).op(op::CALLDATALOAD);
}

/// `(a, b) = (b, a + b)`, wrapping; returns `a` = fib(n) mod 2^256.
fn fibonacci() -> Vec<u8> {
    let mut a = Asm::new();
    a.push_u64(0).push_u64(1);
    load_n(&mut a); // [a, b, n]
    counted_loop(&mut a, |a| {
        // [a, b, n] -> [n, b, a] -> [n, b, a+b] -> [n, a+b, b] -> [b, a+b, n]
        a.ops(&[op::SWAP2, op::DUP2, op::ADD, op::SWAP1, op::SWAP2]);
    });
    a.op(op::POP).return_top();
    a.finish()
}

/// Wrapping product of `n | 1` over the loop: a factorial over odd factors, so the
/// product never collapses to zero and every MUL stays a full 256-bit multiply.
fn factorial() -> Vec<u8> {
    let mut a = Asm::new();
    a.push_u64(1);
    load_n(&mut a); // [acc, n]
    counted_loop(&mut a, |a| {
        // [acc, n] -> [acc, n, n|1] -> [acc, n, acc*(n|1)] -> [acc', n, acc] -> [acc', n]
        a.op(op::DUP1).push_u64(1).op(op::OR).op(op::DUP3).op(op::MUL);
        a.ops(&[op::SWAP2, op::POP]);
    });
    a.return_top();
    a.finish()
}

/// `mem[0..32] = keccak256(mem[0..64])` n times, with `mem[32..64] = n` as the seed.
fn keccak_loop() -> Vec<u8> {
    let mut a = Asm::new();
    load_n(&mut a); // [n]
    a.op(op::DUP1).push_u64(32).op(op::MSTORE);
    counted_loop(&mut a, |a| {
        a.push_u64(64).push_u64(0).op(op::KECCAK256).push_u64(0).op(op::MSTORE);
    });
    a.push_u64(32).push_u64(0).op(op::RETURN);
    a.finish()
}

/// Writes `n` at `off = (n * 32) % 4096` and a byte at `off + 3`, reads back `off` and
/// the unaligned `off + 16`, and accumulates. Memory grows to ~4 KiB, then is reused.
fn memory_loop() -> Vec<u8> {
    let mut a = Asm::new();
    a.push_u64(0);
    load_n(&mut a); // [acc, n]
    counted_loop(&mut a, |a| {
        // off = (n << 5) % 4096
        a.push_u64(4096).op(op::DUP2).push_u64(5).op(op::SHL).op(op::MOD); // [acc, n, off]
        a.op(op::DUP2).op(op::DUP2).op(op::MSTORE); // mem[off] = n
        a.op(op::DUP2).op(op::DUP2).push_u64(3).op(op::ADD).op(op::MSTORE8); // mem8[off+3] = n
        a.op(op::DUP1).push_u64(16).op(op::ADD).op(op::MLOAD); // [acc, n, off, v2]
        a.op(op::SWAP1).op(op::MLOAD).op(op::XOR); // [acc, n, v]
        a.op(op::DUP3).op(op::ADD).op(op::SWAP2).op(op::POP); // [acc + v, n]
    });
    a.op(op::MSIZE).op(op::ADD).return_top();
    a.finish()
}

/// `P = 2^255 - 19`.
fn p25519() -> U256 {
    hex("0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed")
}

/// DIV by a small divisor, MOD by a 128-bit one, MULMOD/ADDMOD modulo a 255-bit prime,
/// SDIV by a small negative, SMOD by a large one; results mixed back into `x`.
fn divmod_loop() -> Vec<u8> {
    let mut a = Asm::new();
    a.push(hex("0x9a3c5e7f11d2b4a6c8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6"));
    load_n(&mut a); // [x, n]
    counted_loop(&mut a, |a| {
        // q = x / (n + 1)
        a.op(op::DUP1).push_u64(1).op(op::ADD).op(op::DUP3).op(op::DIV); // [x, n, q]
        // r = x % (K + n), K 128-bit
        a.push(hex("0xfedcba9876543210fedcba9876543210")).op(op::DUP3).op(op::ADD);
        a.op(op::DUP4).op(op::MOD); // [x, n, q, r]
        // m = x * q % P
        a.push(p25519()).op(op::DUP3).op(op::DUP6).op(op::MULMOD); // [x, n, q, r, m]
        // s = (m + r) % P
        a.push(p25519()).op(op::DUP3).op(op::DUP3).op(op::ADDMOD); // [x, n, q, r, m, s]
        // d = s / -(n + 3), signed
        a.op(op::DUP5).push_u64(3).op(op::ADD).push_u64(0).op(op::SUB);
        a.op(op::DUP2).op(op::SDIV); // [x, n, q, r, m, s, d]
        // e = x smod (q | 2^200)
        a.push(U256::from(1) << 200).op(op::DUP6).op(op::OR).op(op::DUP8).op(op::SMOD);
        // x' = q ^ r ^ m ^ s ^ d ^ e
        a.ops(&[op::XOR, op::XOR, op::XOR, op::XOR, op::XOR]); // [x, n, x']
        a.ops(&[op::SWAP2, op::POP]); // [x', n]
    });
    a.return_top();
    a.finish()
}

/// `x = (x ** n + x) | 1`: EXP with exponents growing to 3 bytes; `x` stays odd.
fn exp_loop() -> Vec<u8> {
    let mut a = Asm::new();
    a.push(hex("0x3b9aca07deadbeefcafebabe0123456789abcdef0123456789abcdef01234567"));
    load_n(&mut a); // [x, n]
    counted_loop(&mut a, |a| {
        a.op(op::DUP1).op(op::DUP3).op(op::EXP); // [x, n, x**n]
        a.op(op::DUP3).op(op::ADD).push_u64(1).op(op::OR); // [x, n, x']
        a.ops(&[op::SWAP2, op::POP]);
    });
    a.return_top();
    a.finish()
}

/// SHL/SAR/SHR by data-dependent amounts, BYTE, SIGNEXTEND, NOT; mixed back into `x`.
fn bitwise_loop() -> Vec<u8> {
    let mut a = Asm::new();
    a.push(hex("0xc0ffee00123456789abcdef0fedcba9876543210aa55aa55f0f0f0f00ff00ff1"));
    load_n(&mut a); // [x, n]
    counted_loop(&mut a, |a| {
        a.op(op::DUP2).op(op::DUP2).push_u64(0xff).op(op::AND).op(op::SHL); // x << (n & 255)
        a.op(op::DUP3).op(op::DUP3).push_u64(0x7f).op(op::AND).op(op::SAR); // x >>s (n & 127)
        a.op(op::DUP4).op(op::DUP4).push_u64(0x3f).op(op::AND).op(op::SHR); // x >> (n & 63)
        a.op(op::DUP5).op(op::DUP5).push_u64(31).op(op::AND).op(op::BYTE); // byte (n & 31) of x
        a.op(op::DUP6).op(op::DUP6).push_u64(31).op(op::AND).op(op::SIGNEXTEND);
        // [x, n, a, b, c, d, e] -> (b + (a ^ c ^ d)) ^ ~e ^ K
        a.ops(&[op::NOT, op::SWAP4, op::XOR, op::XOR, op::ADD, op::XOR]);
        a.push(hex("0x9e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251f86c6a11d0c18e95"));
        a.op(op::XOR); // [x, n, x']
        a.ops(&[op::SWAP2, op::POP]);
    });
    a.return_top();
    a.finish()
}

/// Fifteen words under the counter, updated in place with DUP/ADD/SWAP/POP and rotated
/// with SWAP15; returns their XOR.
fn push_dup_swap() -> Vec<u8> {
    let mut a = Asm::new();
    for i in 1..=15u32 {
        // Constants 3 to 31 bytes wide exercise most push sizes.
        a.push((U256::from(i) << (16 * i)) | U256::from(i));
    }
    load_n(&mut a); // [v1, .., v15, n]
    counted_loop(&mut a, |a| {
        // For the word at depth k (n is depth 1): w[k] += w[k + 1].
        for k in 2..=14u8 {
            a.op(op::DUP1 + k - 1).op(op::DUP1 + k + 1).op(op::ADD);
            a.op(op::SWAP1 + k - 1).op(op::POP);
        }
        a.ops(&[op::SWAP1, op::SWAP15, op::SWAP1]);
    });
    for _ in 1..15 {
        a.op(op::XOR);
    }
    a.return_top();
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use revmc_runtime::harness::Oracle;
    use revmc_runtime::{InstructionResult, JitProgram, OptLevel, SpecId, SyncCompiler};

    #[test]
    fn programs_agree_with_interpreter() {
        let mut compiler = SyncCompiler::new(OptLevel::O2).expect("JIT compiler");
        for p in all(Some(10)) {
            let expected = Oracle::new(&p.code, SpecId::CANCUN).run(&p.calldata, p.gas_limit);
            assert_eq!(expected.result, InstructionResult::Return, "{}: {expected:?}", p.name);
            assert_eq!(expected.output.len(), 32, "{}", p.name);
            let jit = JitProgram::compile(&mut compiler, &p.code, SpecId::CANCUN)
                .unwrap_or_else(|e| panic!("{}: compile failed: {e}", p.name));
            let got = jit.run(&p.calldata, p.gas_limit);
            assert_eq!(got, expected, "{}", p.name);
        }
    }

    #[test]
    fn zero_iterations_return() {
        for p in all(Some(0)) {
            let out = Oracle::new(&p.code, SpecId::CANCUN).run(&p.calldata, p.gas_limit);
            assert_eq!(out.result, InstructionResult::Return, "{}", p.name);
        }
    }
}
