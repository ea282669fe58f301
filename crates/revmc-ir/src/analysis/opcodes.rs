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
    if crate::abi::EnvField::of_opcode(op).is_some() {
        // Loaded inline from the context's environment words.
        return OpKind::Compute;
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

/// What `op` needs of the stack: the interpreter raises `under` when fewer than `need`
/// entries are present, and `over` when the height would pass [`STACK_LIMIT`] after it
/// (`height + grow`). DUPn on a short stack reports `StackOverflow`, as revm does.
///
/// [`STACK_LIMIT`]: crate::abi::STACK_LIMIT
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRequirement {
    /// Entries the instruction reads.
    pub need: usize,
    /// Change of height.
    pub grow: isize,
    /// Error on a short stack.
    pub under: crate::InstructionResult,
    /// Error past the limit.
    pub over: crate::InstructionResult,
}

/// The stack requirement of `op`, `None` for undefined opcodes.
pub fn stack_requirement(op: u8) -> Option<StackRequirement> {
    use crate::InstructionResult::{StackOverflow, StackUnderflow};
    let (need, grow, under) = match op {
        opcode::DUP1..=opcode::DUP16 => ((op - opcode::DUP1 + 1) as usize, 1, StackOverflow),
        opcode::SWAP1..=opcode::SWAP16 => ((op - opcode::SWAP1 + 2) as usize, 0, StackUnderflow),
        _ => {
            let info = OpCode::new(op)?.info();
            let (inputs, outputs) = (info.inputs() as usize, info.outputs() as usize);
            (inputs, outputs as isize - inputs as isize, StackUnderflow)
        }
    };
    Some(StackRequirement { need, grow, under, over: StackOverflow })
}

/// The stack error executing `op` at stack height `height` raises, if any — exactly the
/// interpreter's.
pub fn stack_error(op: u8, height: usize) -> Option<crate::InstructionResult> {
    use crate::abi::STACK_LIMIT;
    let req = stack_requirement(op)?;
    if height < req.need {
        Some(req.under)
    } else if height as isize + req.grow > STACK_LIMIT as isize {
        Some(req.over)
    } else {
        None
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
        assert_eq!(kind(opcode::CALLER, SpecId::CANCUN), OpKind::Compute);
        assert_eq!(kind(opcode::BALANCE, SpecId::CANCUN), OpKind::Host);
        assert_eq!(kind(opcode::BASEFEE, SpecId::BERLIN), OpKind::NotActivated);
        assert_eq!(kind(opcode::PUSH0, SpecId::LONDON), OpKind::NotActivated);
        assert_eq!(kind(opcode::CLZ, SpecId::OSAKA), OpKind::Compute);
        assert_eq!(kind(0x0c, SpecId::OSAKA), OpKind::Unknown);
    }
}
