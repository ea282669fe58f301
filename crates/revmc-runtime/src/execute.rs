//! Running a compiled function as one EVM frame.

use crate::builtins::{self, FrameState};
use revm_interpreter::context_interface::cfg::GasParams;
use revmc_ir::InstructionResult;
use revmc_ir::abi::{EvmContext, RawEvmFn, STACK_LIMIT, Word, exit_code_to_result};

/// What a frame produced. Stack, memory and output are meaningful for STOP, RETURN and
/// REVERT; after an exceptional halt the frame's gas is all spent and nothing else of it
/// is observable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionOutcome {
    /// How the frame ended.
    pub result: InstructionResult,
    /// Gas left (0 after `OutOfGas`, as in revm).
    pub gas_remaining: u64,
    /// Final stack, bottom first.
    pub stack: Vec<Word>,
    /// Final memory.
    pub memory: Vec<u8>,
    /// RETURN / REVERT data.
    pub output: Vec<u8>,
}

/// Runs `f` over `calldata` with `gas_limit`.
///
/// # Safety
/// `f` must be a function compiled from `code` for the spec of `gas_params`, whose code
/// is live.
pub unsafe fn execute(
    f: RawEvmFn,
    code: &[u8],
    gas_params: &GasParams,
    calldata: &[u8],
    gas_limit: u64,
) -> ExecutionOutcome {
    let mut state = FrameState::new(gas_params.clone());
    let mut stack = vec![Word::ZERO; STACK_LIMIT];
    let mut stack_len = 0usize;
    let mut ctx = EvmContext {
        gas_remaining: gas_limit,
        memory: state.memory.as_mut_ptr(),
        memory_len: 0,
        calldata: calldata.as_ptr(),
        calldata_len: calldata.len(),
        code: code.as_ptr(),
        code_len: code.len(),
        return_offset: 0,
        return_len: 0,
        builtins: builtins::TABLE.as_ptr(),
        runtime: (&raw mut state).cast(),
    };
    // SAFETY: the context's pointers are valid for the call: `state` (memory, runtime),
    // `calldata` and `code` outlive it; the stack has `STACK_LIMIT` words.
    let rc = unsafe { f(&mut ctx, stack.as_mut_ptr(), &mut stack_len) };
    let result = exit_code_to_result(rc).unwrap_or(InstructionResult::FatalExternalError);
    let memory = state.memory[..ctx.memory_len].to_vec();
    let output = match result {
        InstructionResult::Return | InstructionResult::Revert => {
            memory[ctx.return_offset..ctx.return_offset + ctx.return_len].to_vec()
        }
        _ => Vec::new(),
    };
    let completed = matches!(
        result,
        InstructionResult::Stop | InstructionResult::Return | InstructionResult::Revert
    );
    stack.truncate(if completed { stack_len } else { 0 });
    let gas_remaining = if result == InstructionResult::OutOfGas { 0 } else { ctx.gas_remaining };
    ExecutionOutcome { result, gas_remaining, stack, memory, output }
}
