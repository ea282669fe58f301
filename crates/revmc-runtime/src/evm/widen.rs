//! The rest of a frame in revm's interpreter, recording the instructions it runs: frames
//! that leave code compiled from a profile at a block that had not run widen that
//! program's profile, so that compiling it again includes what they ran
//! (`Tuning::profile_widenings`).

use revm::handler::evm::ContextDbError;
use revm::handler::instructions::InstructionProvider;
use revm::handler::{EthFrame, EvmTr, FrameInitOrResult, ItemOrResult};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::{Jumps, LoopControl};
use revmc_cache::BlockProfile;

/// What `EvmTr::frame_run` does for revm's own EVM (`Interpreter::run_plain`, then the
/// frame's next action; as of revm 43, re-read on an upgrade), marking in `profile` the pc
/// of every instruction it reaches, before its gas is charged. A wrapped EVM with a
/// `frame_run` of its own runs its cold frames here, not there: `JitEvm` already runs
/// their compiled part itself.
pub(super) fn frame_run_marking<E>(
    evm: &mut E,
    profile: &BlockProfile,
) -> Result<FrameInitOrResult<EthFrame<EthInterpreter>>, ContextDbError<E::Context>>
where
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Instructions: InstructionProvider<
                Context = E::Context,
                InterpreterTypes = EthInterpreter,
            >,
        >,
{
    let (ctx, instructions, _, stack) = evm.all_mut();
    let frame = stack.get();
    let (table, gas_table) = (instructions.instruction_table(), instructions.gas_table());
    let interpreter = &mut frame.interpreter;
    let halted = loop {
        profile.mark(interpreter.bytecode.pc());
        if let Err(result) = interpreter.step(table, gas_table, ctx) {
            break result;
        }
    };
    if interpreter.bytecode.action().is_none() {
        interpreter.halt(halted);
    }
    debug_assert!(interpreter.bytecode.is_end());
    let action = interpreter.take_next_action();
    let next = frame.process_next_action::<_, ContextDbError<E::Context>>(ctx, action)?;
    if let ItemOrResult::Result(_) = &next {
        frame.set_finished(true);
    }
    Ok(next)
}
