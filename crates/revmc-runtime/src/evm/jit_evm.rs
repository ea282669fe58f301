//! [`JitEvm`]: wraps a revm EVM and overrides only `frame_run`.
//!
//! revm's frame loop (`Handler::run_exec_loop`) calls `frame_run` for the top frame until
//! it ends or asks for a child frame, and resumes it after the child returns. The first
//! time a frame runs, `JitEvm` decides once whether it runs compiled (its code compiles)
//! or interpreted; a frame never switches mid-way, because an interpreted frame's resume
//! point is an interpreter pc, not a compiled resume point.

use super::ProgramSource;
use crate::EnvWords;
use crate::frame::run_compiled;
use revm::context::{ContextSetters, ContextTr, JournalTr};
use revm::context_interface::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction};
use revm::database_interface::{Database, DatabaseCommit};
use revm::handler::ItemOrResult;
use revm::handler::evm::{ContextDbError, FrameInitResult};
use revm::handler::instructions::InstructionProvider;
use revm::handler::{
    EthFrame, EvmTr, FrameInitOrResult, FrameTr, Handler, MainnetHandler, PrecompileProvider,
};
use revm::interpreter::InterpreterResult;
use revm::interpreter::interpreter::EthInterpreter;
use revm::state::EvmState;
use revmc_cache::{CompiledProgram, RuntimeCacheKey, Tier};
use std::sync::Arc;

/// How a frame on the stack runs.
#[derive(Debug, Clone)]
enum FrameMode {
    /// Pushed but not run yet.
    Undecided,
    /// In revm's interpreter; its gas is reported to the source when it ends.
    Interpreted { key: RuntimeCacheKey },
    /// Natively, from resume point `resume_at`; first-tier code reports its gas when the
    /// frame ends.
    Compiled { key: RuntimeCacheKey, program: Arc<CompiledProgram>, resume_at: u64 },
}

/// A revm EVM whose frames run compiled code where the source has it.
pub struct JitEvm<'c, E> {
    /// The wrapped EVM (e.g. `Context::mainnet()…build_mainnet()`).
    pub inner: E,
    source: &'c mut dyn ProgramSource,
    /// Mode of the frame at each depth of the frame stack.
    modes: Vec<FrameMode>,
    /// The current transaction's environment words, taken when its first compiled frame
    /// runs.
    env: Option<EnvWords>,
    /// Frames run compiled / interpreted, for reports.
    pub stats: FrameStats,
}

/// Counts of frames by how they ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Frames that ran natively.
    pub compiled: u64,
    /// Frames that ran in the interpreter.
    pub interpreted: u64,
}

impl<'c, E> JitEvm<'c, E> {
    /// Wraps `inner`, taking compiled programs from `source`.
    pub fn new(inner: E, source: &'c mut dyn ProgramSource) -> Self {
        Self { inner, source, modes: Vec::new(), env: None, stats: FrameStats::default() }
    }
}

impl<E: std::fmt::Debug> std::fmt::Debug for JitEvm<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitEvm")
            .field("inner", &self.inner)
            .field("modes", &self.modes)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<E> EvmTr for JitEvm<'_, E>
where
    E: EvmTr<Frame = EthFrame<EthInterpreter>>,
{
    type Context = E::Context;
    type Instructions = E::Instructions;
    type Precompiles = E::Precompiles;
    type Frame = EthFrame<EthInterpreter>;

    fn all(
        &self,
    ) -> (
        &Self::Context,
        &Self::Instructions,
        &Self::Precompiles,
        &revm::context_interface::FrameStack<Self::Frame>,
    ) {
        self.inner.all()
    }

    fn all_mut(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut revm::context_interface::FrameStack<Self::Frame>,
    ) {
        self.inner.all_mut()
    }

    fn frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<Self::Context>> {
        let depth = frame_input.depth;
        if self.modes.len() <= depth {
            self.modes.resize(depth + 1, FrameMode::Undecided);
        }
        // A frame pushed at this depth replaces whatever ran there before.
        self.modes[depth] = FrameMode::Undecided;
        self.inner.frame_init(frame_input)
    }

    fn frame_run(
        &mut self,
    ) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<Self::Context>> {
        let (ctx, _, _, stack) = self.inner.all_mut();
        let frame = stack.get();
        let depth = frame.depth;
        if self.modes.len() <= depth {
            self.modes.resize(depth + 1, FrameMode::Undecided);
        }
        if let FrameMode::Undecided = self.modes[depth] {
            let spec = frame.interpreter.runtime_flag.spec_id;
            let key =
                RuntimeCacheKey::new(frame.interpreter.bytecode.get_or_calculate_hash(), spec);
            let code = frame.interpreter.bytecode.original_byte_slice();
            self.modes[depth] = match self.source.program(key, code) {
                Some(program) => {
                    self.stats.compiled += 1;
                    FrameMode::Compiled { key, program, resume_at: 0 }
                }
                None => {
                    self.stats.interpreted += 1;
                    FrameMode::Interpreted { key }
                }
            };
        }
        let (key, program, resume_at) = match &mut self.modes[depth] {
            FrameMode::Compiled { key, program, resume_at } => (*key, program, resume_at),
            FrameMode::Interpreted { key } => {
                let key = *key;
                let next = self.inner.frame_run()?;
                if let ItemOrResult::Result(result) = &next
                    && self.source.records_interpreted()
                {
                    // The frame is still on the stack until its result is returned.
                    let frame = self.inner.all_mut().3.get();
                    let code = frame.interpreter.bytecode.original_bytes();
                    self.source.interpreted(key, &code, result.gas().total_gas_spent());
                }
                return Ok(next);
            }
            FrameMode::Undecided => unreachable!("decided above"),
        };
        let spec = frame.interpreter.runtime_flag.spec_id;
        let env = self.env.get_or_insert_with(|| EnvWords::new(&*ctx, spec));
        // SAFETY: the program was compiled from this frame's bytecode for its spec, and the
        // `Arc` keeps its code alive for the call.
        let action =
            unsafe { run_compiled(program.entry(), resume_at, &mut frame.interpreter, ctx, env) };
        let first_tier = program.tier() == Tier::First;
        let next = frame.process_next_action::<_, ContextDbError<Self::Context>>(ctx, action)?;
        if let ItemOrResult::Result(result) = &next {
            frame.set_finished(true);
            if first_tier && self.source.records_interpreted() {
                let code = frame.interpreter.bytecode.original_bytes();
                self.source.first_tier_ran(key, &code, result.gas().total_gas_spent());
            }
        }
        Ok(next)
    }

    fn frame_return_result(
        &mut self,
        result: <Self::Frame as FrameTr>::FrameResult,
    ) -> Result<Option<<Self::Frame as FrameTr>::FrameResult>, ContextDbError<Self::Context>> {
        self.inner.frame_return_result(result)
    }
}

impl<E> JitEvm<'_, E>
where
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Context: ContextTr<Journal: JournalTr<State = EvmState>, Db: DatabaseCommit>
                         + ContextSetters,
            Instructions: InstructionProvider<
                Context = E::Context,
                InterpreterTypes = EthInterpreter,
            >,
            Precompiles: PrecompileProvider<E::Context, Output = InterpreterResult>,
        >,
{
    /// Runs `tx` and commits its state to the database, as revm's `transact_commit`:
    /// on error the journal is discarded.
    #[allow(clippy::type_complexity)]
    pub fn transact_commit(
        &mut self,
        tx: <E::Context as ContextTr>::Tx,
    ) -> Result<
        ExecutionResult<HaltReason>,
        EVMError<<<E::Context as ContextTr>::Db as Database>::Error, InvalidTransaction>,
    > {
        self.modes.clear();
        self.env = None;
        self.inner.ctx().set_tx(tx);
        let result = MainnetHandler::<_, EVMError<_, InvalidTransaction>, EthFrame<EthInterpreter>>::default().run(self);
        let state = self.inner.ctx().journal_mut().finalize();
        if result.is_ok() {
            self.inner.ctx().db_mut().commit(state);
        }
        result
    }
}
