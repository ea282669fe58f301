//! revm's interpreter on the same frame a compiled function runs: the oracle that
//! compiled execution must match, and the fallback when compilation is refused.

use crate::ExecutionOutcome;
use revm_interpreter::bytecode::Bytecode;
use revm_interpreter::context_interface::host::DummyHost;
use revm_interpreter::instructions::gas_table_spec;
use revm_interpreter::interpreter::{EthInterpreter, ExtBytecode, InputsImpl, SharedMemory};
use revm_interpreter::primitives::Bytes;
use revm_interpreter::{CallInput, Interpreter, InterpreterAction, instruction_table};
use revmc_ir::{InstructionResult, SpecId};

/// A prepared interpreter run: the analysed bytecode and the instruction tables, built
/// once so that repeated runs (benchmarks) measure execution only.
#[derive(Debug)]
pub struct Oracle {
    bytecode: Bytecode,
    spec: SpecId,
}

impl Oracle {
    /// Analyses `code` for `spec`.
    pub fn new(code: &[u8], spec: SpecId) -> Self {
        Self { bytecode: Bytecode::new_legacy(Bytes::copy_from_slice(code)), spec }
    }

    /// Runs one frame in the interpreter.
    pub fn run(&self, calldata: &[u8], gas_limit: u64) -> ExecutionOutcome {
        let input = InputsImpl {
            input: CallInput::Bytes(Bytes::copy_from_slice(calldata)),
            ..Default::default()
        };
        let mut interp = Interpreter::<EthInterpreter>::new(
            SharedMemory::new(),
            ExtBytecode::new(self.bytecode.clone()),
            input,
            false,
            self.spec,
            gas_limit,
        );
        let table = instruction_table::<EthInterpreter, DummyHost>();
        let mut host = DummyHost::new(self.spec);
        let action = interp.run_plain(&table, &gas_table_spec(self.spec), &mut host);
        let InterpreterAction::Return(res) = action else {
            unreachable!("frames without host operations never call out")
        };
        let completed = matches!(
            res.result,
            InstructionResult::Stop | InstructionResult::Return | InstructionResult::Revert
        );
        let stack = if completed { interp.stack.data().clone() } else { Vec::new() };
        let memory = interp.memory.context_memory().to_vec();
        ExecutionOutcome {
            result: res.result,
            gas_remaining: res.gas.remaining(),
            stack,
            memory,
            output: res.output.to_vec(),
        }
    }
}

/// Runs `code` once in the interpreter.
pub fn run(code: &[u8], spec: SpecId, calldata: &[u8], gas_limit: u64) -> ExecutionOutcome {
    Oracle::new(code, spec).run(calldata, gas_limit)
}
