//! Basic blocks of decoded bytecode.
//!
//! A block starts at the first instruction, at every JUMPDEST, and after every
//! instruction that ends control flow (JUMP, JUMPI, STOP, RETURN, …) or suspends the frame
//! (CALL, CREATE, …: execution resumes at the next block). A block that does
//! not end in a terminal instruction falls through to the next one. This is a pure
//! function of the code and the spec; which blocks are reachable and where dynamic
//! jumps go is decided by [`jumps`](super::jumps).

use super::opcodes::{OpKind, is_suspending, is_terminal, kind};
use crate::SpecId;
use crate::bytecode::Decoded;
use revm_interpreter::bytecode::opcode;

/// An EVM basic block: instruction indices `start..end` of [`Decoded::instrs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvmBlock {
    /// First instruction index.
    pub start: usize,
    /// One past the last instruction index.
    pub end: usize,
}

/// Basic blocks of a program, in code order.
#[derive(Debug, Clone, Default)]
pub struct Cfg {
    /// The blocks; block 0 starts at pc 0.
    pub blocks: Vec<EvmBlock>,
    /// Block index of every instruction.
    pub block_of_instr: Vec<u32>,
}

impl Cfg {
    /// Splits `code` into basic blocks.
    pub fn compute(code: &Decoded, spec: SpecId) -> Self {
        let mut cfg = Cfg::default();
        let n = code.instrs.len();
        cfg.block_of_instr.reserve(n);
        let mut start = 0;
        for (i, instr) in code.instrs.iter().enumerate() {
            if instr.op == opcode::JUMPDEST && i != start {
                cfg.blocks.push(EvmBlock { start, end: i });
                start = i;
            }
            cfg.block_of_instr.push(cfg.blocks.len() as u32);
            let suspends = is_suspending(instr.op) && kind(instr.op, spec) == OpKind::Host;
            if instr.op == opcode::JUMPI || suspends || is_terminal(instr.op, spec) || i + 1 == n {
                cfg.blocks.push(EvmBlock { start, end: i + 1 });
                start = i + 1;
            }
        }
        cfg
    }

    /// Whether block `b` ends by falling through (its last instruction is not terminal).
    pub fn falls_through(&self, code: &Decoded, spec: SpecId, b: usize) -> bool {
        let last = code.instrs[self.blocks[b].end - 1].op;
        !is_terminal(last, spec) && b + 1 < self.blocks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_jumpdest_and_after_jumps() {
        // PUSH1 4; JUMP; INVALID; JUMPDEST; PUSH1 0; PUSH1 4; JUMPI; STOP
        let code = Decoded::new(&[0x60, 4, 0x56, 0xfe, 0x5b, 0x60, 0, 0x60, 4, 0x57, 0x00]);
        let cfg = Cfg::compute(&code, SpecId::CANCUN);
        let starts: Vec<_> = cfg.blocks.iter().map(|b| code.instrs[b.start].pc).collect();
        // The implicit STOP after the explicit one is its own block.
        assert_eq!(starts, [0, 3, 4, 10, 11]);
        assert!(cfg.falls_through(&code, SpecId::CANCUN, 2));
        assert!(!cfg.falls_through(&code, SpecId::CANCUN, 0));
    }
}
