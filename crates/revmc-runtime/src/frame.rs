//! Running a compiled function as (a slice of) one revm frame.
//!
//! The compiled function works directly on the frame's [`Interpreter`]: its stack array,
//! gas, memory and return data. It runs until the frame ends or suspends for a child
//! call; [`run_compiled`] then turns the exit code into the [`InterpreterAction`] revm's
//! frame loop expects, exactly as `Interpreter::run_plain` would. After the child
//! returns, revm has pushed its result and updated gas and memory; calling
//! [`run_compiled`] again with the saved resume point continues after the call.
//!
//! Compiled code may also leave the rest of the frame to the interpreter (the paths
//! that can only fail are not compiled, `revmc_ir`'s `translate/failing.rs`): the frame's
//! stack, gas and pc are then set for revm's interpreter to continue where it stopped. A
//! jump the compiled code left to the interpreter (`INTERPRET_JUMP`) is checked here
//! first, as JUMP checks its target.

use crate::EnvWords;
use crate::builtins::{self, FrameRuntime};
use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::interpreter_types::{Jumps, LoopControl};
use revm_interpreter::primitives::Bytes;
use revm_interpreter::{CallInput, Host, InstructionResult, Interpreter, InterpreterAction};
use revmc_ir::abi::{EvmContext, RawEvmFn, STACK_LIMIT, Word, exit_code_to_result, interpret_exit};
use revmc_ir::ir::Leave;

/// What [`run_compiled`] fills the stack array's unused capacity with before it runs
/// compiled code, in debug builds.
pub(crate) const UNWRITTEN: Word = Word::from_limbs([0xdead_beef_0bad_f00d; 4]);

/// How a compiled run of a frame ended.
#[derive(Debug)]
pub enum CompiledRun {
    /// The frame ended or suspended: the action revm's frame loop expects.
    Action(InterpreterAction),
    /// The compiled code left the frame to the interpreter, whose stack, gas and pc are
    /// set: run the interpreter on it for the rest of the frame, including after any
    /// child call.
    Interpret {
        /// Why: code that can only fail, code not compiled because it did not run when the
        /// program was profiled, or a jump whose dispatch guard refused the stack's height.
        why: Leave,
    },
}

/// Runs `f` on `interp` from resume point `*resume_at` (0: a fresh frame), updating it
/// when the frame suspends. `env` holds the transaction's environment words
/// ([`EnvWords::new`] of this host); the frame's own words are written into it here.
///
/// # Safety
/// `f` must be compiled from the bytecode `interp` runs, for its spec, and be live.
pub unsafe fn run_compiled<H: Host>(
    f: RawEvmFn,
    resume_at: &mut u64,
    interp: &mut Interpreter<EthInterpreter>,
    host: &mut H,
    env: &mut EnvWords,
) -> CompiledRun {
    if interp.stack.data().capacity() < STACK_LIMIT {
        let len = interp.stack.len();
        interp.stack.data_mut().reserve_exact(STACK_LIMIT - len);
    }
    if *resume_at == 0
        && let CallInput::SharedBuffer(_) = interp.input.input
    {
        // Nested call data lives in the parent's memory, which this frame's growth can
        // move; a private copy keeps the context's pointer valid.
        // revm marks empty input with an out-of-range range; it never slices it.
        let copy = if interp.input.input.is_empty() {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(&interp.input.input.as_bytes_memory(&interp.memory))
        };
        interp.input.input = CallInput::Bytes(copy);
    }
    env.set_frame(interp);
    let table = builtins::table_for::<H>();
    let mut rt = FrameRuntime {
        interp: &raw mut *interp,
        gas_params: host.gas_params(),
        host: (&raw mut *host).cast(),
        panic: None,
    };
    let (calldata, calldata_len) = match &interp.input.input {
        CallInput::Bytes(b) => (b.as_ptr(), b.len()),
        CallInput::SharedBuffer(_) => unreachable!("replaced by a copy above"),
    };
    let code = interp.bytecode.original_byte_slice();
    let mut ctx = EvmContext {
        gas_remaining: interp.gas.remaining(),
        memory: std::ptr::null_mut(),
        memory_len: 0,
        calldata,
        calldata_len,
        code: code.as_ptr(),
        code_len: code.len(),
        return_offset: 0,
        return_len: 0,
        builtins: table.as_ptr(),
        runtime: (&raw mut rt).cast(),
        resume_at: *resume_at,
        env: env.as_ptr(),
        word_ops: revmc_ir::abi::WORD_OPS.as_ptr(),
        builtins_by_ref: revmc_ir::abi::BUILTINS_BY_REF.as_ptr(),
        grow_memory: Some(builtins::grow_memory),
    };
    builtins::publish_memory(&mut ctx, interp);
    if cfg!(debug_assertions) {
        // Entries above the stack's length are dead. Overwritten with a marker, an entry
        // the compiled code should have written back but did not differs from the
        // interpreter's in tests, instead of holding what a reused allocation kept (for
        // a rerun of the same input, the right value).
        for entry in interp.stack.data_mut().spare_capacity_mut() {
            entry.write(UNWRITTEN);
        }
    }
    let stack = interp.stack.data_mut().as_mut_ptr();
    let mut stack_len = interp.stack.len();
    // SAFETY: the context's pointers are valid for the call (interpreter, host, call data
    // and code outlive it); the stack array has STACK_LIMIT words of capacity.
    let rc = unsafe { f(&mut ctx, stack, &mut stack_len) };
    if let Some(payload) = rt.panic.take() {
        // The host panicked inside a builtin: continue the panic here, in Rust, as if the
        // interpreter had called the host.
        std::panic::resume_unwind(payload);
    }
    interp.gas.set_remaining(ctx.gas_remaining);
    let mut rc = rc;
    let pc = usize::try_from(ctx.resume_at).ok().filter(|&pc| pc < ctx.code_len);
    if let Some((why, jump)) = interpret_exit(rc) {
        // A jump left to the interpreter is checked as JUMP checks it, failing as the
        // compiled code's own invalid jumps do. A pc outside the code would be a bug of
        // the compiled code: it ends the frame as an unknown exit code does, below.
        if jump && !pc.is_some_and(|pc| is_jumpdest(interp, pc)) {
            interp.gas.set_remaining(0);
            rc = InstructionResult::InvalidJump as u8;
        } else if let Some(pc) = pc {
            // SAFETY: compiled code wrote every entry below `stack_len` before leaving.
            unsafe { interp.stack.data_mut().set_len(stack_len.min(STACK_LIMIT)) };
            interp.bytecode.absolute_jump(pc);
            return CompiledRun::Interpret { why };
        }
    }
    *resume_at = ctx.resume_at;
    let result = exit_code_to_result(rc).unwrap_or(InstructionResult::FatalExternalError);
    let keeps_stack = matches!(
        result,
        InstructionResult::Stop
            | InstructionResult::Return
            | InstructionResult::Revert
            | InstructionResult::Suspend
    );
    // SAFETY: on these exits compiled code wrote every entry below `stack_len`; otherwise
    // the stack is dropped with the frame.
    unsafe {
        interp.stack.data_mut().set_len(if keeps_stack { stack_len.min(STACK_LIMIT) } else { 0 })
    };
    match result {
        InstructionResult::Return | InstructionResult::Revert => {
            let output =
                Bytes::copy_from_slice(&interp.memory.slice_len(ctx.return_offset, ctx.return_len));
            interp.bytecode.set_action(InterpreterAction::new_return(result, output, interp.gas));
        }
        // CALL / CREATE set the action themselves.
        InstructionResult::Suspend if interp.bytecode.action().is_some() => {}
        _ => interp.halt(result),
    }
    CompiledRun::Action(interp.take_next_action())
}

/// Whether `pc` is a JUMPDEST of the frame's code (not inside push data).
fn is_jumpdest(interp: &Interpreter<EthInterpreter>, pc: usize) -> bool {
    interp.bytecode.legacy_jump_table().is_some_and(|table| table.is_valid(pc))
}
