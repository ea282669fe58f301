//! Host operations: revm's own instruction, run on the frame's interpreter and host.
//!
//! Compiled code has already paid the opcode's static gas and stored its operands at
//! the top of the interpreter's stack array; the builtin sets the stack length, runs
//! the instruction (which pops, charges dynamic gas, talks to the host, pushes), and
//! publishes gas and memory back. CALL and CREATE set the frame's next action and
//! return `Suspend`.

use super::{FrameRuntime, args, frame, with_interp};
use revm_interpreter::bytecode::opcode::OpCode;
use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::{Host, InstructionContext, InstructionResult, instruction_table};
use revmc_ir::abi::{CONTINUE, EvmContext, STACK_LIMIT, Word};
use revmc_ir::analysis::opcodes::is_suspending;

/// Runs host opcode `args[0]` at stack height `args[1]`, keeping the first `args[2]`
/// entries of the array.
///
/// The host and its database are the embedder's code and may panic; the panic is caught
/// here (it must not unwind through compiled code), the frame halts, and
/// [`crate::frame::run_compiled`] resumes it.
pub(super) unsafe extern "C" fn host_op<H: Host>(ctx: *mut EvmContext, a: *mut Word) -> u8 {
    // SAFETY: compiled code passes its live context and three operand words.
    let ((ctx, rt), a) = unsafe { (frame(ctx), args::<3>(a)) };
    let rt: &mut FrameRuntime = rt;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: as for this function.
        unsafe { run_host_op::<H>(ctx, rt, a) }
    })) {
        Ok(rc) => rc,
        Err(payload) => {
            rt.panic = Some(payload);
            InstructionResult::FatalExternalError as u8
        }
    }
}

/// The body of [`host_op`].
///
/// # Safety
/// As for [`host_op`].
unsafe fn run_host_op<H: Host>(ctx: &mut EvmContext, rt: &mut FrameRuntime, a: &[Word; 3]) -> u8 {
    let op = a[0].as_limbs()[0] as u8;
    let height = (a[1].as_limbs()[0] as usize).min(STACK_LIMIT);
    let keep = (a[2].as_limbs()[0] as usize).min(height);
    // SAFETY: `host` is the `*mut H` this table was built for, live for the frame.
    let host = unsafe { &mut *(rt.host as *mut H) };
    let table = &const { instruction_table::<EthInterpreter, H>() };
    let inputs = OpCode::new(op).map_or(0, |o| o.inputs() as usize).min(height);
    with_interp(ctx, rt, |interp, _, _| {
        // For most operations the entries below the operands live in compiled code's
        // registers and the array may never have been written there: zero them so that
        // every entry below `height` is initialized (the instruction reads only its
        // operands). Before a CALL / CREATE compiled code spills every live entry, and a
        // dynamic shape keeps the entries below its base in the array: those are kept.
        let data = interp.stack.data_mut();
        let from = data.len().max(keep);
        let below = if is_suspending(op) { 0 } else { (height - inputs).saturating_sub(from) };
        let skip = from - data.len();
        for e in data.spare_capacity_mut().iter_mut().skip(skip).take(below) {
            e.write(Word::ZERO);
        }
        // SAFETY: the array has capacity STACK_LIMIT; entries below the operands are
        // initialized (above, or earlier) and compiled code stored the operands at the top.
        unsafe { data.set_len(height) };
        let r = table[op as usize].execute(InstructionContext { interpreter: interp, host });
        match r {
            Ok(()) => CONTINUE,
            Err(e) => e as u8,
        }
    })
}

/// The `Host` entry of a table built without a host: compiled code that needs one
/// cannot run there.
pub(super) unsafe extern "C" fn no_host(_ctx: *mut EvmContext, _a: *mut Word) -> u8 {
    InstructionResult::FatalExternalError as u8
}
