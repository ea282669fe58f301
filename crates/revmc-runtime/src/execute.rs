//! Running one frame standalone (no child frames), compiled or interpreted, and what it
//! produced: the basis of the differential tests and the benchmarks.

use crate::frame::{CompiledRun, run_compiled};
use revm_interpreter::bytecode::Bytecode;
use revm_interpreter::context_interface::host::DummyHost;
use revm_interpreter::instruction_table;
use revm_interpreter::instructions::gas_table_spec;
use revm_interpreter::interpreter::{EthInterpreter, ExtBytecode, InputsImpl, SharedMemory};
use revm_interpreter::primitives::Bytes;
use revm_interpreter::{CallInput, InstructionResult, Interpreter, InterpreterAction};
use revmc_ir::SpecId;
use revmc_ir::abi::{RawEvmFn, Word};
use revmc_ir::ir::Leave;

/// What a frame produced. Stack, memory and output are meaningful for STOP, RETURN and
/// REVERT; after an exceptional halt a frame's gas is all spent and nothing else of it
/// is observable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionOutcome {
    /// How the frame ended.
    pub result: InstructionResult,
    /// Gas left (0 after `OutOfGas`, as in revm).
    pub gas_remaining: u64,
    /// Gas refunded (SSTORE clears).
    pub gas_refunded: i64,
    /// Final stack, bottom first.
    pub stack: Vec<Word>,
    /// Final memory.
    pub memory: Vec<u8>,
    /// RETURN / REVERT data.
    pub output: Vec<u8>,
}

/// A fresh interpreter for one frame of `bytecode`.
pub(crate) fn new_interpreter(
    bytecode: Bytecode,
    spec: SpecId,
    calldata: &[u8],
    gas_limit: u64,
) -> Interpreter<EthInterpreter> {
    let input = InputsImpl {
        input: CallInput::Bytes(Bytes::copy_from_slice(calldata)),
        ..Default::default()
    };
    Interpreter::new(SharedMemory::new(), ExtBytecode::new(bytecode), input, false, spec, gas_limit)
}

/// The outcome of a frame that ended with `action`.
pub(crate) fn outcome(
    interp: &Interpreter<EthInterpreter>,
    action: InterpreterAction,
) -> ExecutionOutcome {
    let InterpreterAction::Return(res) = action else {
        return ExecutionOutcome {
            result: InstructionResult::FatalExternalError,
            gas_remaining: 0,
            gas_refunded: 0,
            stack: Vec::new(),
            memory: Vec::new(),
            output: Vec::new(),
        };
    };
    let completed = matches!(
        res.result,
        InstructionResult::Stop | InstructionResult::Return | InstructionResult::Revert
    );
    ExecutionOutcome {
        result: res.result,
        gas_remaining: res.gas.remaining(),
        gas_refunded: res.gas.refunded(),
        stack: if completed { interp.stack.data().clone() } else { Vec::new() },
        memory: interp.memory.context_memory().to_vec(),
        output: res.output.to_vec(),
    }
}

/// Runs compiled `f` as one standalone frame over `calldata` with `gas_limit`, with a
/// host that has no state. A frame that calls out ends with `FatalExternalError`.
///
/// # Safety
/// `f` must be a function compiled from `code` for `spec`, whose code is live.
pub unsafe fn execute(
    f: RawEvmFn,
    code: &[u8],
    spec: SpecId,
    calldata: &[u8],
    gas_limit: u64,
) -> ExecutionOutcome {
    // SAFETY: guaranteed by the caller.
    unsafe { execute_reporting(f, code, spec, calldata, gas_limit) }.0
}

/// As [`execute`], with why the compiled code left the frame to the interpreter, if it
/// did.
///
/// # Safety
/// As for [`execute`].
pub unsafe fn execute_reporting(
    f: RawEvmFn,
    code: &[u8],
    spec: SpecId,
    calldata: &[u8],
    gas_limit: u64,
) -> (ExecutionOutcome, Option<Leave>) {
    let mut interp = new_interpreter(
        Bytecode::new_legacy(Bytes::copy_from_slice(code)),
        spec,
        calldata,
        gas_limit,
    );
    let mut host = DummyHost::new(spec);
    let mut resume_at = 0;
    let mut env = crate::EnvWords::new(&host, spec);
    // SAFETY: guaranteed by the caller.
    let (action, hand_off) =
        match unsafe { run_compiled(f, &mut resume_at, &mut interp, &mut host, &mut env) } {
            CompiledRun::Action(action) => (action, None),
            CompiledRun::Interpret { why } => {
                let table = instruction_table::<EthInterpreter, DummyHost>();
                let action = interp.run_plain(&table, &gas_table_spec(spec), &mut host);
                (action, Some(why))
            }
        };
    (outcome(&interp, action), hand_off)
}
