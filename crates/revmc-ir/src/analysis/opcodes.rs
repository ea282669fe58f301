//! Per-spec facts about opcodes that revm's opcode table does not carry: when each
//! opcode was activated and which ones this compiler translates.

use crate::SpecId;
use revm_interpreter::bytecode::opcode::{self, OpCode};

/// How an opcode behaves for the translator under a given spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Not an opcode: halts with `OpcodeNotFound`.
    Unknown,
    /// Defined, but not active in this spec: halts with `NotActivated` after its static gas.
    NotActivated,
    /// Needs the host (storage, environment, logs, calls): run by the runtime with revm's
    /// implementation.
    Host,
    /// Translated.
    Compute,
}

/// The spec in which `op` became active, for opcodes added after Frontier.
pub fn activation(op: u8) -> SpecId {
    use SpecId::*;
    match op {
        opcode::DELEGATECALL => HOMESTEAD,
        opcode::REVERT | opcode::RETURNDATASIZE | opcode::RETURNDATACOPY | opcode::STATICCALL => {
            BYZANTIUM
        }
        opcode::SHL | opcode::SHR | opcode::SAR | opcode::CREATE2 | opcode::EXTCODEHASH => {
            PETERSBURG
        }
        opcode::CHAINID | opcode::SELFBALANCE => ISTANBUL,
        opcode::BASEFEE => LONDON,
        opcode::PUSH0 => SHANGHAI,
        opcode::TLOAD | opcode::TSTORE | opcode::MCOPY | opcode::BLOBHASH | opcode::BLOBBASEFEE => {
            CANCUN
        }
        opcode::CLZ => OSAKA,
        opcode::DUPN | opcode::SWAPN | opcode::EXCHANGE | opcode::SLOTNUM => AMSTERDAM,
        _ => FRONTIER,
    }
}

/// Classifies `op` under `spec`.
pub fn kind(op: u8, spec: SpecId) -> OpKind {
    if OpCode::new(op).is_none() {
        return OpKind::Unknown;
    }
    if !spec.is_enabled_in(activation(op)) {
        return OpKind::NotActivated;
    }
    match op {
        opcode::ADDRESS..=opcode::CALLVALUE
        | opcode::GASPRICE..=opcode::EXTCODEHASH
        | opcode::BLOCKHASH..=opcode::BLOBBASEFEE
        | opcode::SLOAD
        | opcode::SSTORE
        | opcode::TLOAD
        | opcode::TSTORE
        | opcode::LOG0..=opcode::LOG4
        | opcode::CREATE
        | opcode::CALL
        | opcode::CALLCODE
        | opcode::DELEGATECALL
        | opcode::CREATE2
        | opcode::STATICCALL
        | opcode::SELFDESTRUCT => OpKind::Host,
        // Active from Amsterdam only, which this compiler does not support.
        opcode::DUPN | opcode::SWAPN | opcode::EXCHANGE | opcode::SLOTNUM => OpKind::Host,
        _ => OpKind::Compute,
    }
}

/// Whether `op` suspends the frame for a child call or create, ending its block; execution
/// resumes at the next instruction.
pub fn is_suspending(op: u8) -> bool {
    matches!(
        op,
        opcode::CALL
            | opcode::CALLCODE
            | opcode::DELEGATECALL
            | opcode::STATICCALL
            | opcode::CREATE
            | opcode::CREATE2
    )
}

/// Whether executing `op` ends the block with no fall-through successor.
pub fn is_terminal(op: u8, spec: SpecId) -> bool {
    match kind(op, spec) {
        OpKind::Unknown | OpKind::NotActivated => true,
        OpKind::Host => op == opcode::SELFDESTRUCT,
        OpKind::Compute => matches!(
            op,
            opcode::STOP | opcode::RETURN | opcode::REVERT | opcode::INVALID | opcode::JUMP
        ),
    }
}

/// The stack error executing `op` at stack height `height` raises, if any — exactly the
/// interpreter's: DUPn on a short stack reports `StackOverflow`, as revm does.
pub fn stack_error(op: u8, height: usize) -> Option<crate::InstructionResult> {
    use crate::InstructionResult::{StackOverflow, StackUnderflow};
    use crate::abi::STACK_LIMIT;
    match op {
        opcode::DUP1..=opcode::DUP16 => {
            let n = (op - opcode::DUP1 + 1) as usize;
            (height < n || height + 1 > STACK_LIMIT).then_some(StackOverflow)
        }
        opcode::SWAP1..=opcode::SWAP16 => {
            let n = (op - opcode::SWAP1 + 1) as usize;
            (height < n + 1).then_some(StackUnderflow)
        }
        _ => {
            let info = OpCode::new(op)?.info();
            let (inputs, outputs) = (info.inputs() as usize, info.outputs() as usize);
            if height < inputs {
                Some(StackUnderflow)
            } else if height - inputs + outputs > STACK_LIMIT {
                Some(StackOverflow)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_and_code_ops_are_compute() {
        for op in [
            opcode::CALLDATALOAD,
            opcode::CALLDATASIZE,
            opcode::CALLDATACOPY,
            opcode::CODESIZE,
            opcode::CODECOPY,
        ] {
            assert_eq!(kind(op, SpecId::CANCUN), OpKind::Compute, "{op:#x}");
        }
        assert_eq!(kind(opcode::CALLER, SpecId::CANCUN), OpKind::Host);
        assert_eq!(kind(opcode::PUSH0, SpecId::LONDON), OpKind::NotActivated);
        assert_eq!(kind(opcode::CLZ, SpecId::OSAKA), OpKind::Compute);
        assert_eq!(kind(0x0c, SpecId::OSAKA), OpKind::Unknown);
    }
}
