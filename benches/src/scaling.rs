//! `--compile-scaling`: compile time against code size at every opt level, on generated
//! contracts shaped like compiler output (many small blocks joined by resolved jumps,
//! memory traffic, arithmetic). A near-linear pipeline keeps the per-KiB time flat.

use crate::asm::{Asm, op};
use revmc_runtime::{JitProgram, SpecId, U256};
use revmc_runtime::{OptLevel, SyncCompiler};
use std::time::Instant;

/// A contract of about `kib` KiB: a chain of blocks, each doing some arithmetic and
/// memory work on an accumulator and conditionally skipping the next block.
fn chain(kib: usize) -> Vec<u8> {
    let mut a = Asm::new();
    a.push_u64(0).op(op::CALLDATALOAD); // [acc]
    let mut i = 0;
    while a.len() < kib * 1024 {
        let next = format!("b{}", i + 1);
        a.label(&format!("b{i}"));
        a.push(U256::from(i as u64 * 0x9e37_79b9 + 1)).op(op::DUP2).op(op::ADD);
        a.push_u64(3).op(op::MUL).op(op::SWAP1).op(op::POP);
        a.op(op::DUP1).push_u64((i as u64 % 64) * 32).op(op::MSTORE);
        a.op(op::DUP1).push_u64(7).op(op::AND).op(op::ISZERO).jumpi(&next);
        a.push_u64((i as u64 % 64) * 32).op(op::MLOAD).op(op::XOR);
        i += 1;
    }
    a.label(&format!("b{i}"));
    a.return_top();
    a.finish()
}

/// Prints a table of compile times; returns `false` if any compilation failed.
pub fn run() -> anyhow::Result<bool> {
    let sizes = [1usize, 2, 4, 8, 16, 24];
    let levels = [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3];
    println!("compile time (translate + LLVM) by code size; ms, and ms per KiB in parentheses");
    print!("{:>8}", "size");
    for l in levels {
        print!("{:>18}", format!("{l:?}"));
    }
    println!();
    let mut ok = true;
    let mut phases = Vec::new();
    for kib in sizes {
        let code = chain(kib);
        print!("{:>6}KiB", code.len() / 1024);
        for level in levels {
            let mut compiler = SyncCompiler::new(level)?;
            let start = Instant::now();
            let r = JitProgram::compile(&mut compiler, &code, SpecId::CANCUN);
            let ms = start.elapsed().as_secs_f64() * 1e3;
            match r {
                Ok(p) => {
                    let ph = p.phases();
                    phases.push(format!(
                        "{kib}KiB {level:?}: lower {:?} optimize {:?} codegen {:?} link {:?}",
                        ph.lower, ph.optimize, ph.codegen, ph.link
                    ));
                    print!("{:>18}", format!("{ms:.0} ({:.1})", ms / kib as f64))
                }
                Err(e) => {
                    ok = false;
                    print!("{:>18}", format!("error: {e}"));
                }
            }
        }
        println!();
    }
    println!("\nby phase:");
    for p in phases {
        println!("  {p}");
    }
    Ok(ok)
}
