//! [`JitEvm`]: wraps a revm EVM and overrides only `frame_run`.
//!
//! revm's frame loop (`Handler::run_exec_loop`) calls `frame_run` for the top frame until
//! it ends or asks for a child frame, and resumes it after the child returns. The first
//! time a frame runs, `JitEvm` decides once whether it runs compiled (its code compiles)
//! or interpreted; a frame never switches mid-way, because an interpreted frame's resume
//! point is an interpreter pc, not a compiled resume point.
//!
//! `JitEvm` implements revm's execution traits (`ExecuteEvm`, `ExecuteCommitEvm`,
//! `SystemCallEvm`, `SystemCallCommitEvm`), so a block executor written against them takes
//! it in place of revm's mainnet EVM. With an inspector, `InspectEvm` runs the wrapped
//! EVM's own inspected loop: every inspected frame runs interpreted, by design — an
//! inspector sees each instruction's step, which compiled code does not have.

use super::{OnMiss, ProgramSource, RuntimeSource};
use crate::frame::{CompiledRun, run_compiled};
use crate::{EnvWords, Runtime};
use revm::context::{ContextSetters, ContextTr, JournalTr};
use revm::context_interface::result::{
    EVMError, ExecResultAndState, ExecutionResult, HaltReason, InvalidTransaction,
};
use revm::database_interface::{Database, DatabaseCommit};
use revm::handler::evm::{ContextDbError, FrameInitResult};
use revm::handler::instructions::InstructionProvider;
use revm::handler::system_call::SystemCallTx;
use revm::handler::{
    EthFrame, EvmTr, FrameInitOrResult, FrameTr, Handler, ItemOrResult, MainnetHandler,
    PrecompileProvider,
};
use revm::interpreter::InterpreterResult;
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::{Address, Bytes};
use revm::state::EvmState;
use revm::{
    ExecuteCommitEvm, ExecuteEvm, InspectCommitEvm, InspectEvm, SystemCallCommitEvm, SystemCallEvm,
};
use revmc_cache::{CompiledProgram, RuntimeCacheKey, Tier};
use revmc_ir::ir::Leave;
use std::sync::Arc;

/// How a frame on the stack runs.
#[derive(Debug, Clone)]
enum FrameMode {
    /// Pushed but not run yet.
    Undecided,
    /// In revm's interpreter; its gas is reported to the source when it ends.
    Interpreted { key: RuntimeCacheKey },
    /// In revm's interpreter, never hashed nor reported (init code the source chose not
    /// to look up).
    Unhashed,
    /// Natively, from resume point `resume_at`; first-tier code reports its gas when the
    /// frame ends.
    Compiled { key: RuntimeCacheKey, program: Arc<CompiledProgram>, resume_at: u64 },
    /// Compiled until its code left the rest of the frame to the interpreter (a path
    /// that can only fail, a jump its guard refused, or `cold` code, which did not run
    /// when the program was profiled); reported as compiled when it ends. A `cold` frame
    /// of a program with a profile records what it runs there (`widen.rs`).
    LeftToInterpreter { key: RuntimeCacheKey, program: Arc<CompiledProgram>, cold: bool },
}

/// A revm EVM whose frames run compiled code where the source has it.
///
/// `S` is where programs come from: a [`RuntimeSource`] (the compile service; owning an
/// `Arc<Runtime>` with [`JitEvm::with_runtime`]), a [`JitCache`](super::JitCache), or a
/// `&mut` to either.
pub struct JitEvm<E, S> {
    /// The wrapped EVM (e.g. `Context::mainnet()…build_mainnet()`).
    pub inner: E,
    /// Where compiled programs come from.
    pub source: S,
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
    /// Compiled frames whose code left the rest of the frame to the interpreter, on a
    /// path that can only fail, at cold code, or at an unresolved jump whose dispatch
    /// guard refused the stack's height (counted in `compiled` too).
    pub left_to_interpreter: u64,
    /// Of those, the frames that left at cold code: code not compiled because it had not
    /// run when profiled (`Tuning::compile_what_ran`). Such a frame records what it runs
    /// in the interpreter in the program's profile.
    pub left_cold: u64,
    /// Of those, the frames whose jump a dispatch guard refused (`Leave::Guard`): a stack
    /// fault ahead or, in code compiled from a profile, less room below the stack limit
    /// than the guard keeps (a frame over 896 entries deep) or too few entries for a
    /// block a few branches past the target. Many of them show a workload that recurses
    /// that deep, or takes ways the profile did not see, running interpreted.
    pub left_at_guard: u64,
}

impl std::ops::AddAssign for FrameStats {
    fn add_assign(&mut self, other: Self) {
        // Destructured, so that a new count cannot be left out of the sum.
        let Self { compiled, interpreted, left_to_interpreter, left_cold, left_at_guard } = other;
        self.compiled += compiled;
        self.interpreted += interpreted;
        self.left_to_interpreter += left_to_interpreter;
        self.left_cold += left_cold;
        self.left_at_guard += left_at_guard;
    }
}

/// A [`JitEvm`] that owns its share of the compile service: what a node keeps per
/// executor thread.
pub type RuntimeJitEvm<E> = JitEvm<E, RuntimeSource<Arc<Runtime>>>;

impl<E, S: ProgramSource> JitEvm<E, S> {
    /// Wraps `inner`, taking compiled programs from `source`.
    pub fn new(inner: E, source: S) -> Self {
        Self { inner, source, modes: Vec::new(), env: None, stats: FrameStats::default() }
    }
}

impl<E, S> JitEvm<E, S> {
    /// Forgets the frames of the last transaction: the next one starts afresh.
    fn begin_transaction(&mut self) {
        self.modes.clear();
        self.env = None;
    }
}

impl<E> RuntimeJitEvm<E> {
    /// Wraps `inner`, running hot code compiled by `runtime` (interpreting until then and
    /// reporting gas, so that the runtime compiles it in the background), or, with
    /// `Tuning::blocking`, compiling every frame's code on first sight.
    pub fn with_runtime(inner: E, runtime: Arc<Runtime>) -> Self {
        let on_miss = if runtime.is_blocking() { OnMiss::Compile } else { OnMiss::Background };
        Self::new(inner, RuntimeSource::new(runtime, on_miss))
    }
}

impl<E: std::fmt::Debug, S> std::fmt::Debug for JitEvm<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitEvm")
            .field("inner", &self.inner)
            .field("modes", &self.modes)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<E, S> EvmTr for JitEvm<E, S>
where
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Instructions: InstructionProvider<
                Context = <E as EvmTr>::Context,
                InterpreterTypes = EthInterpreter,
            >,
        >,
    S: ProgramSource,
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
            // Init code has no hash yet; the source may prefer not to pay for one.
            if frame.interpreter.bytecode.hash().is_none()
                && !self.source.look_up_unhashed(frame.interpreter.bytecode.original_byte_slice())
            {
                self.stats.interpreted += 1;
                self.modes[depth] = FrameMode::Unhashed;
                return self.inner.frame_run();
            }
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
            FrameMode::LeftToInterpreter { key, program, cold } => {
                let (key, program, cold) = (*key, program.clone(), *cold);
                return self.interpret_rest(key, &program, cold);
            }
            FrameMode::Unhashed => return self.inner.frame_run(),
            FrameMode::Undecided => unreachable!("decided above"),
        };
        let spec = frame.interpreter.runtime_flag.spec_id;
        let env = self.env.get_or_insert_with(|| EnvWords::new(&*ctx, spec));
        // SAFETY: the program was compiled from this frame's bytecode for its spec, and the
        // `Arc` keeps its code alive for the call.
        let run =
            unsafe { run_compiled(program.entry(), resume_at, &mut frame.interpreter, ctx, env) };
        let tier = program.tier();
        let action = match run {
            CompiledRun::Action(action) => action,
            CompiledRun::Interpret { why } => {
                let program = program.clone();
                let cold = why == Leave::Cold;
                self.modes[depth] =
                    FrameMode::LeftToInterpreter { key, program: program.clone(), cold };
                self.stats.left_to_interpreter += 1;
                self.stats.left_cold += u64::from(cold);
                self.stats.left_at_guard += u64::from(why == Leave::Guard);
                return self.interpret_rest(key, &program, cold);
            }
        };
        let next = frame.process_next_action::<_, ContextDbError<Self::Context>>(ctx, action)?;
        if let ItemOrResult::Result(result) = &next {
            frame.set_finished(true);
            self.compiled_frame_ended(key, tier, false, result.gas().total_gas_spent());
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

impl<E, S> JitEvm<E, S>
where
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Instructions: InstructionProvider<
                Context = <E as EvmTr>::Context,
                InterpreterTypes = EthInterpreter,
            >,
        >,
    S: ProgramSource,
{
    /// Runs the current frame in the interpreter from where `program`'s code left it; a
    /// frame that left at `cold` code records what it runs in the program's profile.
    fn interpret_rest(
        &mut self,
        key: RuntimeCacheKey,
        program: &CompiledProgram,
        cold: bool,
    ) -> Result<FrameInitOrResult<EthFrame<EthInterpreter>>, ContextDbError<E::Context>> {
        let next = match program.profile().filter(|_| cold && program.is_profiled()) {
            Some(profile) => super::widen::frame_run_marking(&mut self.inner, profile)?,
            None => self.inner.frame_run()?,
        };
        if let ItemOrResult::Result(result) = &next {
            let gas = result.gas().total_gas_spent();
            self.compiled_frame_ended(key, program.tier(), cold, gas);
        }
        Ok(next)
    }

    /// Reports a frame that ran compiled code and spent `gas`: first-tier code's gas
    /// counts towards its optimizing compilation, and the gas of frames that left at
    /// `cold` code towards compiling the program again (from its widened profile, or
    /// whole).
    fn compiled_frame_ended(&mut self, key: RuntimeCacheKey, tier: Tier, cold: bool, gas: u64) {
        if !(tier == Tier::First || cold) || !self.source.records_interpreted() {
            return;
        }
        // The frame is still on the stack until its result is returned.
        let frame = self.inner.all_mut().3.get();
        let code = frame.interpreter.bytecode.original_bytes();
        if tier == Tier::First {
            self.source.first_tier_ran(key, &code, gas);
        } else {
            self.source.left_cold(key, &code, gas);
        }
    }
}

/// revm's mainnet handler driving a `JitEvm` (whose `frame_run` it calls).
type Mainnet<T> = MainnetHandler<T, <T as ExecuteEvm>::Error, EthFrame<EthInterpreter>>;

impl<E, S> ExecuteEvm for JitEvm<E, S>
where
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Context: ContextTr<Journal: JournalTr<State = EvmState>> + ContextSetters,
            Instructions: InstructionProvider<
                Context = E::Context,
                InterpreterTypes = EthInterpreter,
            >,
            Precompiles: PrecompileProvider<E::Context, Output = InterpreterResult>,
        >,
    S: ProgramSource,
{
    type ExecutionResult = ExecutionResult<HaltReason>;
    type State = EvmState;
    type Error = EVMError<<<E::Context as ContextTr>::Db as Database>::Error, InvalidTransaction>;
    type Tx = <E::Context as ContextTr>::Tx;
    type Block = <E::Context as ContextTr>::Block;

    fn set_block(&mut self, block: Self::Block) {
        self.inner.ctx().set_block(block);
    }

    fn transact_one(&mut self, tx: Self::Tx) -> Result<Self::ExecutionResult, Self::Error> {
        self.begin_transaction();
        self.inner.ctx().set_tx(tx);
        Mainnet::<Self>::default().run(self)
    }

    fn finalize(&mut self) -> Self::State {
        self.inner.ctx().journal_mut().finalize()
    }

    fn replay(
        &mut self,
    ) -> Result<ExecResultAndState<Self::ExecutionResult, Self::State>, Self::Error> {
        self.begin_transaction();
        let result = Mainnet::<Self>::default().run(self);
        // The journal is finalized (cleared) on error too, as revm's `replay` does.
        let state = self.finalize();
        result.map(|result| ExecResultAndState::new(result, state))
    }
}

impl<E, S> ExecuteCommitEvm for JitEvm<E, S>
where
    Self: ExecuteEvm<State = EvmState>,
    E: EvmTr<Context: ContextTr<Db: DatabaseCommit>>,
{
    fn commit(&mut self, state: Self::State) {
        self.inner.ctx().db_mut().commit(state);
    }
}

impl<E, S> SystemCallEvm for JitEvm<E, S>
where
    Self: ExecuteEvm<
            ExecutionResult = ExecutionResult<HaltReason>,
            Error = EVMError<
                <<E::Context as ContextTr>::Db as Database>::Error,
                InvalidTransaction,
            >,
        >,
    E: EvmTr<
            Frame = EthFrame<EthInterpreter>,
            Context: ContextTr<Journal: JournalTr<State = EvmState>, Tx: SystemCallTx>
                         + ContextSetters,
            Instructions: InstructionProvider<
                Context = E::Context,
                InterpreterTypes = EthInterpreter,
            >,
            Precompiles: PrecompileProvider<E::Context, Output = InterpreterResult>,
        >,
    S: ProgramSource,
{
    fn system_call_one_with_caller(
        &mut self,
        caller: Address,
        system_contract_address: Address,
        data: Bytes,
    ) -> Result<Self::ExecutionResult, Self::Error> {
        self.begin_transaction();
        let tx = <E::Context as ContextTr>::Tx::new_system_tx_with_caller(
            caller,
            system_contract_address,
            data,
        );
        self.inner.ctx().set_tx(tx);
        Mainnet::<Self>::default().run_system_call(self)
    }
}

impl<E, S> SystemCallCommitEvm for JitEvm<E, S>
where
    Self: SystemCallEvm + ExecuteCommitEvm,
{
    fn system_call_with_caller_commit(
        &mut self,
        caller: Address,
        system_contract_address: Address,
        data: Bytes,
    ) -> Result<Self::ExecutionResult, Self::Error> {
        let result = self.system_call_with_caller(caller, system_contract_address, data)?;
        self.commit(result.state);
        Ok(result.result)
    }
}

/// Inspection runs the wrapped EVM's inspected loop: every frame of an inspected
/// transaction runs in the interpreter, so that the inspector sees every step.
impl<E, S> InspectEvm for JitEvm<E, S>
where
    Self: ExecuteEvm,
    E: InspectEvm<
            Tx = <Self as ExecuteEvm>::Tx,
            ExecutionResult = <Self as ExecuteEvm>::ExecutionResult,
            Error = <Self as ExecuteEvm>::Error,
        >,
{
    type Inspector = E::Inspector;

    fn set_inspector(&mut self, inspector: Self::Inspector) {
        self.inner.set_inspector(inspector);
    }

    fn inspect_one_tx(&mut self, tx: Self::Tx) -> Result<Self::ExecutionResult, Self::Error> {
        self.begin_transaction();
        self.inner.inspect_one_tx(tx)
    }
}

impl<E, S> InspectCommitEvm for JitEvm<E, S> where Self: InspectEvm + ExecuteCommitEvm {}
