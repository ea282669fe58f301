//! A tiny EVM assembler: opcodes, shortest-form pushes and named jump labels.
//!
//! Labels are resolved in [`Asm::finish`]; jumps always use `PUSH2 <label> JUMP/JUMPI`,
//! so the compiler can resolve every target statically.

pub use revm_interpreter::bytecode::opcode as op;
use revmc_runtime::U256;
use std::collections::HashMap;

/// Bytecode under construction.
#[derive(Debug, Default)]
pub struct Asm {
    code: Vec<u8>,
    labels: HashMap<String, usize>,
    /// `(offset of the PUSH2 immediate, label)` pairs patched by [`Asm::finish`].
    fixups: Vec<(usize, String)>,
}

impl Asm {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes emitted so far.
    #[allow(clippy::len_without_is_empty, reason = "an assembler is never asked if it is empty")]
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Appends one opcode byte.
    pub fn op(&mut self, op: u8) -> &mut Self {
        self.code.push(op);
        self
    }

    /// Appends several opcode bytes.
    pub fn ops(&mut self, ops: &[u8]) -> &mut Self {
        self.code.extend_from_slice(ops);
        self
    }

    /// Pushes `value` with the shortest push (`PUSH0` for zero).
    pub fn push(&mut self, value: U256) -> &mut Self {
        let bytes = value.to_be_bytes::<32>();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let imm = &bytes[skip..];
        if imm.is_empty() {
            return self.op(op::PUSH0);
        }
        self.op(op::PUSH1 + (imm.len() - 1) as u8);
        self.code.extend_from_slice(imm);
        self
    }

    /// Pushes a `u64` with the shortest push.
    pub fn push_u64(&mut self, value: u64) -> &mut Self {
        self.push(U256::from(value))
    }

    /// Defines `name` here and emits its `JUMPDEST`.
    ///
    /// # Panics
    /// If `name` is already defined.
    pub fn label(&mut self, name: &str) -> &mut Self {
        let prev = self.labels.insert(name.to_owned(), self.code.len());
        assert!(prev.is_none(), "label `{name}` defined twice");
        self.op(op::JUMPDEST)
    }

    /// Pushes the address of `name` as `PUSH2`, patched when the program is finished.
    pub fn push_label(&mut self, name: &str) -> &mut Self {
        self.op(op::PUSH2);
        self.fixups.push((self.code.len(), name.to_owned()));
        self.code.extend_from_slice(&[0, 0]);
        self
    }

    /// `PUSH2 <name> JUMP`.
    pub fn jump(&mut self, name: &str) -> &mut Self {
        self.push_label(name).op(op::JUMP)
    }

    /// `PUSH2 <name> JUMPI`: jumps when the top of the stack is non-zero.
    pub fn jumpi(&mut self, name: &str) -> &mut Self {
        self.push_label(name).op(op::JUMPI)
    }

    /// `PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`: returns the top of the stack as 32 bytes.
    pub fn return_top(&mut self) -> &mut Self {
        self.push_u64(0).op(op::MSTORE).push_u64(32).push_u64(0).op(op::RETURN)
    }

    /// Resolves the labels and returns the bytecode.
    ///
    /// # Panics
    /// On a reference to an undefined label, or a label beyond `PUSH2` range: both are
    /// bugs in the program being assembled.
    pub fn finish(mut self) -> Vec<u8> {
        for (at, name) in &self.fixups {
            let at = *at;
            let target =
                *self.labels.get(name).unwrap_or_else(|| panic!("undefined label `{name}`"));
            let target = u16::try_from(target).expect("label beyond PUSH2 range");
            self.code[at..at + 2].copy_from_slice(&target.to_be_bytes());
        }
        self.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_forward_label() {
        let mut a = Asm::new();
        a.jump("end").op(op::INVALID).label("end").op(op::STOP);
        let code = a.finish();
        assert_eq!(code, [op::PUSH2, 0x00, 0x05, op::JUMP, op::INVALID, op::JUMPDEST, op::STOP]);
    }

    #[test]
    fn shortest_push() {
        let mut a = Asm::new();
        a.push_u64(0).push_u64(0xff).push_u64(0x100).push(U256::MAX);
        let code = a.finish();
        assert_eq!(&code[..6], [op::PUSH0, op::PUSH1, 0xff, op::PUSH2, 0x01, 0x00]);
        assert_eq!(code[6], op::PUSH32);
        assert_eq!(code.len(), 6 + 33);
    }

    #[test]
    #[should_panic(expected = "undefined label `nowhere`")]
    fn unknown_label_panics() {
        let mut a = Asm::new();
        a.jump("nowhere");
        a.finish();
    }
}
