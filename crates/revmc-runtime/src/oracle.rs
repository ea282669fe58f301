//! revm's interpreter on the same frame a compiled function runs: the oracle that
//! compiled execution must match, and the fallback when compilation is refused.

use crate::execute::{new_interpreter, outcome};
use crate::harness::ExecutionOutcome;
use revm_interpreter::bytecode::Bytecode;
use revm_interpreter::context_interface::host::DummyHost;
use revm_interpreter::instruction_table;
use revm_interpreter::instructions::gas_table_spec;
use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::primitives::Bytes;
use revmc_ir::SpecId;

/// A prepared interpreter run: the analysed bytecode, built once so that repeated runs
/// (benchmarks) measure execution only.
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

    /// Runs one standalone frame in the interpreter, with a host that has no state.
    pub fn run(&self, calldata: &[u8], gas_limit: u64) -> ExecutionOutcome {
        let mut interp = new_interpreter(self.bytecode.clone(), self.spec, calldata, gas_limit);
        let table = instruction_table::<EthInterpreter, DummyHost>();
        let mut host = DummyHost::new(self.spec);
        let action = interp.run_plain(&table, &gas_table_spec(self.spec), &mut host);
        outcome(&interp, action)
    }
}
