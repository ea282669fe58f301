//! Lowering of revmc IR to LLVM IR.
//!
//! The function has the [`RawEvmFn`](revmc_ir::abi::RawEvmFn) signature. Stack slots and
//! the gas counter are `alloca`s in the entry block, so LLVM's SSA construction (SROA /
//! mem2reg in the pipeline) turns them into registers and phis; the context is only
//! touched where the ABI requires it (builtin calls, exits, memory).
//!
//! At [`OptLevel::O0`], the first tier, values are kept in memory instead and 256-bit
//! operations are calls (`memory/`), which LLVM's fast instruction selector can take.

mod arith;
mod calls;
mod context;
mod dispatch;
mod entry;
mod evm_memory;
mod exits;
mod gas;
mod locals;
mod memory;
mod ops;
mod split;
mod stack;
mod stack_fault;
mod terminator;

use exits::{CodeExit, exit_blocks};
use locals::Locals;

use crate::{LlvmError, OptLevel};
use inkwell::AddressSpace;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::types::{FunctionType, IntType, PointerType};
use inkwell::values::{FunctionValue, IntValue, PointerValue};
use revmc_ir::abi::EvmContext;
use revmc_ir::ir::{Block, Function, Value};

/// How a function is lowered, beyond its level.
#[derive(Debug, Clone, Copy)]
pub struct LowerOptions {
    /// At the first tier, a function whose estimated compile cost
    /// ([`revmc_ir::compile_cost`]) exceeds this is split into functions of about this
    /// cost each (`split.rs`).
    pub chunk_cost: usize,
    /// The target has 32-byte vectors: the first tier copies a word in one move.
    pub wide_copies: bool,
    /// Where the code records the blocks it runs ([`revmc_ir::profile`]).
    pub block_profile: Option<ProfileBuffer>,
}

/// A profile's bytes, two per pc: on entering a block whose profile key
/// ([`revmc_ir::profile::key`] of its pc and kind) is `k < len`, the code stores 1 at
/// `address + k`. They must stay writable for as long as the code can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileBuffer {
    /// The first byte's address.
    pub address: usize,
    /// How many bytes there are.
    pub len: usize,
}

impl Default for LowerOptions {
    fn default() -> Self {
        Self {
            chunk_cost: revmc_ir::DEFAULT_FIRST_TIER_CHUNK_COST,
            wide_copies: false,
            block_profile: None,
        }
    }
}

/// Lowers `func` into a new module of `cx` holding one external function named `name`,
/// in the form the pipeline of `level` compiles best, with `options`.
///
/// At O1–O3 the module calls opaque truncations (`opaque_trunc.rs`) that only
/// [`crate::opt::optimize`] defines away: run it before code generation.
pub fn lower<'ctx>(
    cx: &'ctx Context,
    func: &Function,
    name: &str,
    level: OptLevel,
    options: &LowerOptions,
) -> Result<Module<'ctx>, LlvmError> {
    let module = cx.create_module(name);
    let first_tier = level == OptLevel::O0;
    let new = |memory_values, split| {
        let mut l =
            Lowerer::new(cx, &module, func, name, memory_values, split, options.wide_copies)?;
        l.block_profile = options.block_profile;
        Ok::<_, LlvmError>(l)
    };
    match first_tier.then(|| split::partition(func, options.chunk_cost)).flatten() {
        Some(chunks) => new(true, true)?.run_split(&chunks)?,
        None => new(first_tier, false)?.run()?,
    }
    // LLVM's verifier takes a tenth of a first-tier compilation. Every lowering is
    // verified in debug builds (all tests) and at the optimizing levels.
    if cfg!(debug_assertions) || !first_tier {
        module.verify().map_err(|e| LlvmError::Verify(e.to_string()))?;
    }
    Ok(module)
}

/// An operand of a builtin call, stored into the operand buffer.
#[derive(Debug, Clone, Copy)]
enum Arg<'ctx> {
    /// An `i256` value.
    Word(IntValue<'ctx>),
    /// An `i64` operand of the `Host` builtin, which reads only the low limb of each
    /// operand: only that limb is stored (one store instead of four).
    Small(IntValue<'ctx>),
}

struct Lowerer<'ctx, 'a> {
    cx: &'ctx Context,
    module: &'a Module<'ctx>,
    b: Builder<'ctx>,
    func: &'a Function,
    f: FunctionValue<'ctx>,
    i8: IntType<'ctx>,
    i64: IntType<'ctx>,
    i256: IntType<'ctx>,
    ptr: PointerType<'ctx>,
    builtin_ty: FunctionType<'ctx>,
    ctx: PointerValue<'ctx>,
    stack: PointerValue<'ctx>,
    stack_len: PointerValue<'ctx>,
    gas: PointerValue<'ctx>,
    /// The base of dynamic-shape blocks (an index into the stack array).
    base: PointerValue<'ctx>,
    /// The address of the base's entry of the stack array (values in memory only).
    base_ptr: PointerValue<'ctx>,
    /// The context's word operation table, loaded once (values in memory only).
    word_ops: PointerValue<'ctx>,
    /// The target of an unresolved jump, on its way to the dispatch block.
    jump_target: PointerValue<'ctx>,
    args: PointerValue<'ctx>,
    slots: Vec<PointerValue<'ctx>>,
    /// The LLVM block of each IR block the current function reaches: its own, or (when
    /// split) a block that continues in the function holding it.
    blocks: Vec<Option<BasicBlock<'ctx>>>,
    /// Whether the current function is a chunk of a split program, returning `i64`.
    in_chunk: bool,
    /// In a chunk, its `frame` parameter: stack slots and shared temporaries are
    /// addressed from it where they are used (`split.rs`).
    chunk_frame: Option<PointerValue<'ctx>>,
    values: Vec<Option<IntValue<'ctx>>>,
    oog: BasicBlock<'ctx>,
    /// The function's one exit after a builtin that halted: returns the builtin's code
    /// (a phi), the gas being in the context already.
    halt: CodeExit<'ctx>,
    /// The function's one exceptional exit: spends all gas and returns the code (a phi).
    fail: CodeExit<'ctx>,
    /// The shared exit of failing dynamic-shape sections, once one needs it.
    stack_fault: Option<stack_fault::StackFaultExit<'ctx>>,
    /// The check tables of the function so far (`stack_fault.rs`).
    check_tables: stack_fault::CheckTables<'ctx>,
    /// Resume block and live stack height, by the IR block a static-shape suspension
    /// resumes in.
    resume_blocks: std::collections::HashMap<usize, (BasicBlock<'ctx>, u64)>,
    /// Values live in memory (`memory/`): `words` and `temps` instead of `values`.
    memory_values: bool,
    /// Whether the target moves a word in one vector load and store (`copy_word`).
    wide_copies: bool,
    /// Where each value lives, when values are in memory.
    words: Vec<Option<PointerValue<'ctx>>>,
    /// The temporaries of `temp_plan`, allocas of the entry block.
    temps: Vec<PointerValue<'ctx>>,
    temp_plan: memory::temps::TempPlan,
    /// The constant globals emitted so far, by value.
    word_consts: std::collections::HashMap<revmc_ir::abi::Word, PointerValue<'ctx>>,
    /// `i8(ptr, ptr, ptr)`: [`revmc_ir::abi::WordOpFn`].
    word_op_ty: FunctionType<'ctx>,
    /// A `MemoryExpand` left for the memory access after it (values in memory only).
    pending_expand: Option<revmc_ir::ir::Inst>,
    /// The IR block being lowered.
    lowering: Block,
    /// Per value, the last block that expanded memory over it as an offset, by a non-zero
    /// width: there it is below the memory's length, an allocation's, so below 2^63
    /// (`ops::memory_expand`). A table by value, so that a block of many expansions
    /// records and finds each in constant time.
    expanded_in: Vec<Option<Block>>,
    /// `i8(ptr, ptr, ptr, ptr, ptr)`: [`revmc_ir::abi::BuiltinRefFn`].
    builtin_ref_ty: FunctionType<'ctx>,
    /// `i8(ptr, i64, i64, i64)`: [`revmc_ir::abi::GrowMemoryFn`].
    grow_memory_ty: FunctionType<'ctx>,
    /// Wide operations lowered so far (`ops::past_wide_budget`).
    wide_ops: u32,
    /// Gas checks lowered so far (`ops::charge`).
    charges: u32,
    /// Where blocks record that they ran (`LowerOptions::block_profile`).
    block_profile: Option<ProfileBuffer>,
}

/// One gas check in this many is a `usub.with.overflow` instead of a compare and a
/// subtraction, which cuts the chain of conditions InstCombine relates: a run of
/// thousands of sections (24 KiB of `MSIZE GAS ADD POP`) took it 15 s, quadratic in the
/// run. Programs of fewer checks lower as before.
pub(crate) const OPAQUE_CHARGE_INTERVAL: u32 = 64;

impl<'ctx, 'a> Lowerer<'ctx, 'a> {
    fn new(
        cx: &'ctx Context,
        module: &'a Module<'ctx>,
        func: &'a Function,
        name: &str,
        memory_values: bool,
        split: bool,
        wide_copies: bool,
    ) -> Result<Self, LlvmError> {
        let i8 = cx.i8_type();
        let i64 = cx.i64_type();
        let i256 = cx
            .custom_width_int_type(std::num::NonZeroU32::new(256).expect("non-zero"))
            .map_err(|e| LlvmError::Target(e.to_string()))?;
        let ptr = cx.ptr_type(AddressSpace::default());
        let fn_ty = i8.fn_type(&[ptr.into(), ptr.into(), ptr.into()], false);
        let f = module.add_function(name, fn_ty, None);
        // No `noalias` on any parameter: builtins reach the context and the stack array
        // through the runtime's own pointers (revm's interpreter), not through ours.
        let nounwind = cx.create_enum_attribute(
            inkwell::attributes::Attribute::get_named_enum_kind_id("nounwind"),
            0,
        );
        f.add_attribute(inkwell::attributes::AttributeLoc::Function, nounwind);
        let builtin_ty = i8.fn_type(&[ptr.into(), ptr.into()], false);
        let b = cx.create_builder();
        let entry = cx.append_basic_block(f, "entry");
        b.position_at_end(entry);
        let ctx = f.get_nth_param(0).expect("param").into_pointer_value();
        let stack = f.get_nth_param(1).expect("param").into_pointer_value();
        let stack_len = f.get_nth_param(2).expect("param").into_pointer_value();
        let temp_plan = if memory_values {
            memory::temps::plan(func)
        } else {
            memory::temps::TempPlan::empty()
        };
        // A split program keeps the state its functions share in one frame (`split.rs`).
        let Locals { gas, base, base_ptr, word_ops, jump_target, args, slots, temps } = if split {
            let layout = split::FrameLayout::new(func.num_slots, &temp_plan);
            let frame = b.build_array_alloca(i64, i64.const_int(layout.words(), false), "frame")?;
            layout.pointers(&b, frame)?
        } else {
            Locals::allocas(&b, i256, func.num_slots, temp_plan.count)?
        };
        // Static shapes are a dynamic stack on base 0: it starts at 0 and only dynamic
        // blocks move it.
        b.build_store(base, i64.const_zero())?;
        // With values in memory, the address of the base's entry too.
        if memory_values {
            b.build_store(base_ptr, stack)?;
            // SAFETY: the offset is within `EvmContext`.
            let field = unsafe {
                b.build_in_bounds_gep(
                    i8,
                    ctx,
                    &[i64.const_int(EvmContext::OFFSET_WORD_OPS as u64, false)],
                    "",
                )?
            };
            b.build_store(word_ops, b.build_load(ptr, field, "")?)?;
        }
        // The split program's own function runs no IR block: `run_split` sets the
        // blocks it branches to.
        let blocks = match split {
            true => vec![None; func.blocks.len()],
            false => func
                .block_ids()
                .map(|blk| Some(cx.append_basic_block(f, &blk.to_string())))
                .collect(),
        };
        let (oog, halt, fail) = exit_blocks(cx, &b, f)?;
        b.position_at_end(entry);
        Ok(Self {
            cx,
            module,
            b,
            func,
            f,
            i8,
            i64,
            i256,
            ptr,
            builtin_ty,
            ctx,
            stack,
            stack_len,
            gas,
            base,
            base_ptr,
            word_ops,
            jump_target,
            args,
            slots,
            blocks,
            in_chunk: false,
            chunk_frame: None,
            values: vec![None; func.values.len()],
            oog,
            halt,
            fail,
            stack_fault: None,
            check_tables: Default::default(),
            resume_blocks: Default::default(),
            memory_values,
            wide_copies,
            words: vec![None; func.values.len()],
            temps,
            temp_plan,
            word_consts: Default::default(),
            word_op_ty: i8.fn_type(&[ptr.into(), ptr.into(), ptr.into()], false),
            pending_expand: None,
            lowering: func.entry(),
            expanded_in: vec![None; func.values.len()],
            builtin_ref_ty: i8.fn_type(&[ptr.into(); 5], false),
            grow_memory_ty: i8.fn_type(&[ptr.into(), i64.into(), i64.into(), i64.into()], false),
            wide_ops: 0,
            charges: 0,
            block_profile: None,
        })
    }

    fn run(mut self) -> Result<(), LlvmError> {
        // Entry: gas into its local, then the first block.
        let g = self.load_ctx_field(EvmContext::OFFSET_GAS_REMAINING, self.i64)?;
        self.b.build_store(self.gas, g)?;
        self.resume_dispatch()?;
        self.emit_exits()?;
        self.lower_blocks(0..self.func.blocks.len())?;
        self.emit_stack_fault_scan()?;
        Ok(())
    }

    /// Lowers the IR blocks `range`.
    fn lower_blocks(&mut self, range: std::ops::Range<usize>) -> Result<(), LlvmError> {
        for blk in range.map(Block::new) {
            self.b.position_at_end(self.block(blk));
            self.record_ran(blk)?;
            self.lowering = blk;
            let insts = &self.func.block(blk).insts;
            for (i, &inst) in insts.iter().enumerate() {
                if self.memory_values {
                    if let Some(&next) = insts.get(i + 1)
                        && self.expands_for(inst, next)
                    {
                        self.pending_expand = Some(inst);
                        continue;
                    }
                    let p = self.inst_in_memory(inst, self.func.inst(inst))?;
                    if let Some(result) = self.func.inst_result(inst) {
                        self.words[result.index()] =
                            Some(p.expect("instruction with a result produced a value"));
                    }
                    continue;
                }
                let v = self.inst(self.func.inst(inst))?;
                if let Some(result) = self.func.inst_result(inst) {
                    self.values[result.index()] =
                        Some(v.expect("instruction with a result produced a value"));
                }
            }
            self.terminator(&self.func.block(blk).term)?;
        }
        Ok(())
    }

    /// With a profile, marks that `blk` ran: one byte store at a constant address. Plain,
    /// not atomic: frames on several threads store the same 1, the runtime reads the
    /// bytes atomically, and an atomic store would take the whole block out of FastISel.
    fn record_ran(&self, blk: Block) -> Result<(), LlvmError> {
        let data = self.func.block(blk);
        let (Some(profile), Some(pc)) = (self.block_profile, data.pc) else {
            return Ok(());
        };
        let key = revmc_ir::profile::key(pc as usize, data.dynamic);
        // The implicit STOP past the end of the code may be past the buffer.
        if key >= profile.len {
            return Ok(());
        }
        let address = self.i64.const_int((profile.address + key) as u64, false);
        let p = self.b.build_int_to_ptr(address, self.ptr, "")?;
        self.b.build_store(p, self.i8.const_int(1, false))?;
        Ok(())
    }

    /// A new block for the code that follows the current one. With values in memory it
    /// is placed right after the current block: there is no block placement at O0, and
    /// FastISel omits the branch to a layout successor.
    fn continuation(&self, name: &str) -> BasicBlock<'ctx> {
        match self.memory_values {
            true => {
                let here = self.b.get_insert_block().expect("positioned");
                self.cx.insert_basic_block_after(here, name)
            }
            false => self.cx.append_basic_block(self.f, name),
        }
    }

    fn value(&self, v: Value) -> IntValue<'ctx> {
        self.values[v.index()].expect("value used before lowering its definition")
    }

    fn block(&self, b: Block) -> BasicBlock<'ctx> {
        self.blocks[b.index()].expect("a block the current function reaches")
    }
}
