//! Decoding of legacy EVM bytecode into instructions.
//!
//! Uses revm's opcode table and JUMPDEST analysis so that what counts as an opcode, as
//! PUSH data, and as a valid jump destination is exactly what the interpreter sees.
//! PUSH data cut off by the end of the code reads as zeros, and execution that runs
//! off the end of the code meets an implicit STOP, which [`Decoded`] materializes as a
//! final instruction at `pc == code.len()` (or past truncated PUSH data).

use crate::U256;
use revm_interpreter::bytecode::{Bytecode, JumpTable, opcode};
use revm_interpreter::primitives::Bytes;

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instr {
    /// Offset of the opcode byte.
    pub pc: u32,
    /// The opcode byte.
    pub op: u8,
    /// PUSH immediate, zero-padded if truncated; zero for other opcodes.
    pub imm: U256,
}

/// Decoded bytecode.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Instructions in code order, ending with the implicit STOP.
    pub instrs: Vec<Instr>,
    /// Instruction index of each opcode byte's pc (`u32::MAX` inside PUSH data).
    pc_to_instr: Vec<u32>,
    jump_table: JumpTable,
    code_len: usize,
}

impl Decoded {
    /// Decodes `code`.
    pub fn new(code: &[u8]) -> Self {
        let bytecode = Bytecode::new_legacy(Bytes::copy_from_slice(code));
        let jump_table =
            bytecode.legacy_jump_table().expect("legacy bytecode has a jump table").clone();
        let mut instrs = Vec::with_capacity(code.len() + 1);
        let mut pc_to_instr = vec![u32::MAX; code.len()];
        let mut pc = 0usize;
        while pc < code.len() {
            let op = code[pc];
            pc_to_instr[pc] = instrs.len() as u32;
            let push_len = op.wrapping_sub(opcode::PUSH1).wrapping_add(1) as usize;
            let imm = if (1..=32).contains(&push_len) {
                let mut buf = [0u8; 32];
                let data = &code[(pc + 1).min(code.len())..(pc + 1 + push_len).min(code.len())];
                buf[32 - push_len..32 - push_len + data.len()].copy_from_slice(data);
                U256::from_be_bytes(buf)
            } else {
                U256::ZERO
            };
            instrs.push(Instr { pc: pc as u32, op, imm });
            pc += 1 + if (1..=32).contains(&push_len) { push_len } else { 0 };
        }
        instrs.push(Instr { pc: pc as u32, op: opcode::STOP, imm: U256::ZERO });
        Self { instrs, pc_to_instr, jump_table, code_len: code.len() }
    }

    /// Whether `pc` is a JUMPDEST the interpreter accepts as a jump target.
    pub fn is_valid_jump(&self, pc: usize) -> bool {
        self.jump_table.is_valid(pc)
    }

    /// Index of the instruction at `pc`, if an opcode starts there.
    pub fn instr_at(&self, pc: usize) -> Option<usize> {
        self.pc_to_instr.get(pc).filter(|&&i| i != u32::MAX).map(|&i| i as usize)
    }

    /// Length of the original code.
    pub fn code_len(&self) -> usize {
        self.code_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_push_is_zero_padded_and_followed_by_stop() {
        let d = Decoded::new(&[0x61, 0xAB]);
        assert_eq!(d.instrs.len(), 2);
        assert_eq!(d.instrs[0].imm, U256::from(0xAB00u64));
        assert_eq!(d.instrs[1].op, opcode::STOP);
        assert_eq!(d.instrs[1].pc, 3);
    }

    #[test]
    fn jumpdest_inside_push_data_is_not_valid() {
        // PUSH1 0x5b; JUMPDEST
        let d = Decoded::new(&[0x60, 0x5b, 0x5b]);
        assert!(!d.is_valid_jump(1));
        assert!(d.is_valid_jump(2));
        assert_eq!(d.instr_at(1), None);
        assert_eq!(d.instr_at(2), Some(1));
    }
}
