//! Lowering of revmc IR to LLVM IR.
//!
//! The function has the [`RawEvmFn`](revmc_ir::abi::RawEvmFn) signature. Stack slots and
//! the gas counter are `alloca`s in the entry block, so LLVM's SSA construction (SROA /
//! mem2reg in the pipeline) turns them into registers and phis; the context is only
//! touched where the ABI requires it (builtin calls, exits, memory).
//!
//! At [`OptLevel::O0`], the first tier, values are kept in memory instead and 256-bit
//! operations are calls (`memory/`), which LLVM's fast instruction selector can take.

mod dispatch;
mod memory;
mod ops;
mod split;
mod stack_fault;

use crate::{LlvmError, OptLevel};
use inkwell::AddressSpace;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::types::{FunctionType, IntType, PointerType};
use inkwell::values::{FunctionValue, IntValue, PhiValue, PointerValue};
use revmc_ir::InstructionResult;
use revmc_ir::abi::EvmContext;
use revmc_ir::ir::{Block, Function, Height, Terminator, Value};

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

/// Where a function keeps the program's state: allocas of its own, or (in a split
/// program) fields of the frame its chunks share.
struct Locals<'ctx> {
    gas: PointerValue<'ctx>,
    base: PointerValue<'ctx>,
    base_ptr: PointerValue<'ctx>,
    word_ops: PointerValue<'ctx>,
    jump_target: PointerValue<'ctx>,
    args: PointerValue<'ctx>,
    slots: Vec<PointerValue<'ctx>>,
    /// The temporaries (none in a split program's own function, which reads none).
    temps: Vec<PointerValue<'ctx>>,
}

impl<'ctx> Locals<'ctx> {
    /// Allocas for all of it, where `b` is (the entry block).
    fn allocas(
        b: &Builder<'ctx>,
        i256: IntType<'ctx>,
        slots: u32,
        temps: u32,
    ) -> Result<Self, LlvmError> {
        let cx = i256.get_context();
        let (i64, ptr) = (cx.i64_type(), cx.ptr_type(AddressSpace::default()));
        let words = |n: u32, name: &str| {
            (0..n).map(|i| b.build_alloca(i256, &format!("{name}{i}"))).collect::<Result<_, _>>()
        };
        Ok(Self {
            gas: b.build_alloca(i64, "gas")?,
            base: b.build_alloca(i64, "base")?,
            base_ptr: b.build_alloca(ptr, "base_ptr")?,
            word_ops: b.build_alloca(ptr, "word_ops")?,
            jump_target: b.build_alloca(i256, "jump_target")?,
            args: b.build_array_alloca(i256, i64.const_int(4, false), "args")?,
            slots: words(slots, "slot")?,
            temps: words(temps, "t")?,
        })
    }
}

/// A shared exit that returns a code: its block and the phi of the code.
type CodeExit<'ctx> = (BasicBlock<'ctx>, PhiValue<'ctx>);

/// A function's shared exits, empty: `out_of_gas`, `halt` and `fail` (filled by
/// `Lowerer::emit_exits`). Leaves `b` in `fail`.
fn exit_blocks<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    f: FunctionValue<'ctx>,
) -> Result<(BasicBlock<'ctx>, CodeExit<'ctx>, CodeExit<'ctx>), LlvmError> {
    let oog = cx.append_basic_block(f, "out_of_gas");
    let halt = cx.append_basic_block(f, "halt");
    let fail = cx.append_basic_block(f, "fail");
    b.position_at_end(halt);
    let halt_code = b.build_phi(cx.i8_type(), "halt_code")?;
    b.position_at_end(fail);
    let fail_code = b.build_phi(cx.i8_type(), "fail_code")?;
    Ok((oog, (halt, halt_code), (fail, fail_code)))
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

    /// The current function's shared exits.
    fn emit_exits(&mut self) -> Result<(), LlvmError> {
        // Shared out-of-gas exit. It could store 0 like other halts, but keeping the gas
        // live here measured better register allocation in hot loops (docs/compute-core.md).
        self.b.position_at_end(self.oog);
        self.sync_gas_out()?;
        let code = self.i8.const_int(revmc_ir::InstructionResult::OutOfGas as u64, false);
        self.ret(code)?;

        // The shared halting exits: one `ret` each instead of one per halting site, which
        // spares codegen an epilogue per site.
        self.b.position_at_end(self.halt.0);
        self.ret(self.halt.1.as_basic_value().into_int_value())?;
        self.b.position_at_end(self.fail.0);
        self.spend_all_gas()?;
        self.ret(self.fail.1.as_basic_value().into_int_value())?;
        Ok(())
    }

    /// Returns the halt code `code` (an `i8`): as it is, or widened in a chunk.
    fn ret(&self, code: IntValue<'ctx>) -> Result<(), LlvmError> {
        if self.in_chunk {
            let wide = self.b.build_int_z_extend(code, self.i64, "")?;
            self.b.build_return(Some(&wide))?;
        } else {
            self.b.build_return(Some(&code))?;
        }
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

    /// The entry block's switch on `resume_at`: 0 starts the program; `k` continues after
    /// suspension `k`. A static-shape suspension reloads the stack slots live after it
    /// from the stack array (where revm pushed the child's result); a dynamic-shape one
    /// takes the array's length as its base.
    fn resume_dispatch(&mut self) -> Result<(), LlvmError> {
        let mut cases = Vec::new();
        let mut dynamic = Vec::new();
        for blk in self.func.block_ids() {
            let Terminator::Suspend { args, height, index, resume, .. } =
                &self.func.block(blk).term
            else {
                continue;
            };
            let bb = self.cx.append_basic_block(self.f, &format!("resume{index}"));
            cases.push((self.i64.const_int(*index as u64, false), bb));
            match height {
                Height::Abs(h) => {
                    let live = (*h as usize - args.len() + 1) as u64;
                    self.resume_blocks.insert(resume.index(), (bb, live));
                }
                Height::Rel(_) => dynamic.push((bb, *resume)),
            }
        }
        let entry = self.b.get_insert_block().expect("positioned");
        let start = self.block(Block::new(0));
        if cases.is_empty() {
            self.b.build_unconditional_branch(start)?;
            return Ok(());
        }
        let at = self.load_ctx_field(EvmContext::OFFSET_RESUME_AT, self.i64)?.into_int_value();
        self.b.build_switch(at, start, &cases)?;
        let resumes: Vec<_> =
            self.resume_blocks.iter().map(|(&r, &(bb, live))| (r, bb, live)).collect();
        for (resume, bb, live) in resumes {
            self.fill_static_resume(bb, live, Block::new(resume))?;
        }
        for (bb, resume) in dynamic {
            self.b.position_at_end(bb);
            let len = self.b.build_load(self.i64, self.stack_len, "len")?.into_int_value();
            self.set_base(len)?;
            self.b.build_unconditional_branch(self.block(resume))?;
        }
        self.b.position_at_end(entry);
        Ok(())
    }

    /// Fills `bb`, where a static-shape suspension resumes: the `live` stack slots from
    /// the stack array, then block `resume`.
    fn fill_static_resume(
        &mut self,
        bb: BasicBlock<'ctx>,
        live: u64,
        resume: Block,
    ) -> Result<(), LlvmError> {
        self.b.position_at_end(bb);
        for i in 0..live {
            if self.memory_values {
                let src = self.stack_ptr(self.i64.const_int(i, false))?;
                self.copy_word(self.slot(i as u32), src)?;
            } else {
                let v = self.load_stack(i)?;
                self.b.build_store(self.slots[i as usize], v)?;
            }
        }
        self.b.build_unconditional_branch(self.block(resume))?;
        Ok(())
    }

    /// Sets the base of dynamic-shape blocks to `index` (and, with values in memory, the
    /// address of its entry).
    fn set_base(&self, index: IntValue<'ctx>) -> Result<(), LlvmError> {
        self.b.build_store(self.base, index)?;
        if self.memory_values {
            let p = self.stack_ptr(index)?;
            self.b.build_store(self.base_ptr, p)?;
        }
        Ok(())
    }

    /// Before the function returns: writes the gas back, the static slots of a stack
    /// `stack_len` high, and, `with_len`, that height.
    fn write_back(&self, stack_len: Height, with_len: bool) -> Result<(), LlvmError> {
        self.sync_gas_out()?;
        if let Height::Abs(n) = stack_len {
            self.spill_slots(u64::from(n))?;
        }
        if with_len {
            let len = self.height(stack_len)?;
            self.b.build_store(self.stack_len, len)?;
        }
        Ok(())
    }

    /// The recorded jump target as an `i64` pc: itself below 2^64, else `u64::MAX`, which
    /// is no pc of any code ([`revmc_ir::abi::INTERPRET_JUMP`]).
    fn jump_target_pc(&self) -> Result<IntValue<'ctx>, LlvmError> {
        let (fits, low) = if self.memory_values {
            self.word_below(self.jump_target, 64)?
        } else {
            let v = self.b.build_load(self.i256, self.jump_target, "")?.into_int_value();
            self.value_below(v, 64)?
        };
        let none = self.i64.const_all_ones();
        Ok(self.b.build_select(fits, low, none, "")?.into_int_value())
    }

    /// Whether the `i256` value `v` is below `2^bits`, and its low 64 bits: the SSA form
    /// of `word_below`.
    fn value_below(
        &self,
        v: IntValue<'ctx>,
        bits: u64,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>), LlvmError> {
        let hi = self.b.build_right_shift(v, self.i256.const_int(bits, false), false, "")?;
        let zero = self.i256.const_zero();
        let fits = self.b.build_int_compare(inkwell::IntPredicate::EQ, hi, zero, "")?;
        Ok((fits, self.b.build_int_truncate(v, self.i64, "")?))
    }

    /// Writes stack slots `0..n` to the caller's stack array.
    fn spill_slots(&self, n: u64) -> Result<(), LlvmError> {
        for i in 0..n {
            if self.memory_values {
                let dst = self.stack_ptr(self.i64.const_int(i, false))?;
                self.copy_word(dst, self.slot(i as u32))?;
                continue;
            }
            let v = self.b.build_load(self.i256, self.slots[i as usize], "")?.into_int_value();
            self.store_stack(i, v)?;
        }
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

    /// A private constant global holding `init`: the constant words, check tables and
    /// dispatch tables of the lowering.
    fn private_constant(
        &self,
        init: inkwell::values::ArrayValue<'ctx>,
        name: &str,
    ) -> inkwell::values::GlobalValue<'ctx> {
        let global = self.module.add_global(init.get_type(), None, name);
        global.set_initializer(&init);
        global.set_constant(true);
        global.set_linkage(inkwell::module::Linkage::Private);
        global.set_unnamed_addr(true);
        global
    }

    /// An `[N x i64]` constant of `words`.
    fn i64_array(&self, words: &[u64]) -> inkwell::values::ArrayValue<'ctx> {
        let consts: Vec<IntValue<'ctx>> =
            words.iter().map(|&w| self.i64.const_int(w, false)).collect();
        self.i64.const_array(&consts)
    }

    /// Pointer to the context field at `offset`.
    fn ctx_field(&self, offset: usize) -> Result<PointerValue<'ctx>, LlvmError> {
        // SAFETY: the offset comes from `EvmContext`'s layout and is within the struct.
        Ok(unsafe {
            self.b.build_in_bounds_gep(
                self.cx.i8_type(),
                self.ctx,
                &[self.i64.const_int(offset as u64, false)],
                "",
            )?
        })
    }

    fn load_ctx_field<T: inkwell::types::BasicType<'ctx>>(
        &self,
        offset: usize,
        ty: T,
    ) -> Result<inkwell::values::BasicValueEnum<'ctx>, LlvmError> {
        let p = self.ctx_field(offset)?;
        Ok(self.b.build_load(ty, p, "")?)
    }

    /// Calls entry `index` of the function table at `table` (of type `ty`) with `args`;
    /// returns the code it returns. Every table of the ABI (builtins, builtins by
    /// reference, word operations) is called this way.
    fn call_table_entry(
        &self,
        table: PointerValue<'ctx>,
        index: u64,
        name: &str,
        ty: FunctionType<'ctx>,
        args: &[inkwell::values::BasicMetadataValueEnum<'ctx>],
    ) -> Result<IntValue<'ctx>, LlvmError> {
        // SAFETY: compiled code indexes a table only with an entry of its enum
        // (`Builtin`, `WordOp`), and every table has one entry per variant.
        let slot = unsafe {
            self.b.build_in_bounds_gep(self.ptr, table, &[self.i64.const_int(index, false)], "")?
        };
        let f = self.b.build_load(self.ptr, slot, name)?.into_pointer_value();
        let call = self.b.build_indirect_call(ty, f, args, "")?;
        Ok(call.try_as_basic_value().basic().expect("table entries return a code").into_int_value())
    }

    /// Emits `call` (a call that may charge gas) with the gas local written to the
    /// context before it and read back after it when `sync`; returns its result.
    fn gas_synced(
        &self,
        sync: bool,
        call: impl FnOnce() -> Result<IntValue<'ctx>, LlvmError>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        if sync {
            self.sync_gas_out()?;
        }
        let rc = call()?;
        if sync {
            self.sync_gas_in()?;
        }
        Ok(rc)
    }

    /// Writes the gas local back to the context.
    fn sync_gas_out(&self) -> Result<(), LlvmError> {
        let g = self.b.build_load(self.i64, self.gas, "gas")?;
        let p = self.ctx_field(EvmContext::OFFSET_GAS_REMAINING)?;
        self.b.build_store(p, g)?;
        Ok(())
    }

    /// Writes 0 as the gas left: an exceptional halt consumes the frame's gas (revm's
    /// frame settlement spends it all), so the local's value does not matter, and not
    /// reading it spares the shared halting blocks a phi with an incoming value from
    /// every gas check of the program.
    pub(super) fn spend_all_gas(&self) -> Result<(), LlvmError> {
        let p = self.ctx_field(EvmContext::OFFSET_GAS_REMAINING)?;
        self.b.build_store(p, self.i64.const_zero())?;
        Ok(())
    }

    /// Branches to the shared exceptional exit with `code`.
    fn exit_failing(&self, code: IntValue<'ctx>) -> Result<(), LlvmError> {
        let here = self.b.get_insert_block().expect("positioned");
        self.fail.1.add_incoming(&[(&code, here)]);
        self.b.build_unconditional_branch(self.fail.0)?;
        Ok(())
    }

    /// Reads the context's gas back into the local.
    fn sync_gas_in(&self) -> Result<(), LlvmError> {
        let g = self.load_ctx_field(EvmContext::OFFSET_GAS_REMAINING, self.i64)?;
        self.b.build_store(self.gas, g)?;
        Ok(())
    }

    fn terminator(&mut self, term: &Terminator) -> Result<(), LlvmError> {
        match term {
            Terminator::Unset => unreachable!("verified IR has no unset terminators"),
            Terminator::Jump(t) => {
                self.b.build_unconditional_branch(self.block(*t))?;
            }
            Terminator::Branch { cond, then, else_ } if self.memory_values => {
                let c = self.word_is_nonzero(self.word(*cond))?;
                self.b.build_conditional_branch(c, self.block(*then), self.block(*else_))?;
            }
            Terminator::Switch { value, cases, default, guard } if self.memory_values => {
                // The switch has a block of its own: FastISel cannot select it, and a
                // block it fails on goes wholly to SelectionDAG.
                let (small, v64) = self.word_below(self.word(*value), 32)?;
                let v32 = self.b.build_int_truncate(v64, self.cx.i32_type(), "")?;
                let sw = self.continuation("switch");
                self.b.build_conditional_branch(small, sw, self.block(*default))?;
                self.b.position_at_end(sw);
                self.switch_on_pc(v32, cases, *default, guard.as_deref())?;
            }
            Terminator::Branch { cond, then, else_ } => {
                let zero = self.i256.const_zero();
                let c = self.b.build_int_compare(
                    inkwell::IntPredicate::NE,
                    self.value(*cond),
                    zero,
                    "",
                )?;
                self.b.build_conditional_branch(c, self.block(*then), self.block(*else_))?;
            }
            Terminator::Switch { value, cases, default, guard } => {
                // Jump targets are pcs below 2^32; anything wider goes to the default.
                let (small, v64) = self.value_below(self.value(*value), 32)?;
                let sw = self.cx.append_basic_block(self.f, "switch");
                self.b.build_conditional_branch(small, sw, self.block(*default))?;
                self.b.position_at_end(sw);
                let v32 = self.b.build_int_truncate(v64, self.cx.i32_type(), "")?;
                self.switch_on_pc(v32, cases, *default, guard.as_deref())?;
            }
            Terminator::Suspend { op, args, height, index, resume } => {
                // Every live entry goes to the caller's stack: the frame returns to revm.
                // In a dynamic shape the translator has stored the entries below the
                // operands already.
                let h = self.height(*height)?;
                let below =
                    self.b.build_int_sub(h, self.i64.const_int(args.len() as u64, false), "")?;
                if let Height::Abs(n) = height {
                    self.spill_slots(*n as u64 - args.len() as u64)?;
                }
                self.store_operands(h, args)?;
                let rc = self.call_host(*op, h, *height)?;
                let suspend = self.i8.const_int(InstructionResult::Suspend as u64, false);
                let is_suspend =
                    self.b.build_int_compare(inkwell::IntPredicate::EQ, rc, suspend, "")?;
                let ret = self.cx.append_basic_block(self.f, "suspend");
                let other = self.continuation("no_suspend");
                self.b.build_conditional_branch(is_suspend, ret, other)?;
                self.b.position_at_end(ret);
                let p = self.ctx_field(EvmContext::OFFSET_RESUME_AT)?;
                self.b.build_store(p, self.i64.const_int(*index as u64, false))?;
                self.b.build_store(self.stack_len, below)?;
                self.ret(rc)?;
                // Without a suspension the operation either failed (halt) or completed in
                // place, leaving its result on the stack array like a resumed call.
                self.b.position_at_end(other);
                self.exit_unless_continue(rc)?;
                match height {
                    Height::Abs(_) => {
                        self.b.build_unconditional_branch(self.resume_blocks[&resume.index()].0)?;
                    }
                    Height::Rel(_) => {
                        let len = self.b.build_int_add(below, self.i64.const_int(1, false), "")?;
                        self.set_base(len)?;
                        self.b.build_unconditional_branch(self.block(*resume))?;
                    }
                }
            }
            Terminator::Exit { result, stack_len } if !result.is_ok_or_revert() => {
                debug_assert_eq!(*stack_len, Height::Abs(0));
                let code = self.i8.const_int(*result as u64, false);
                self.exit_failing(code)?;
            }
            Terminator::Exit { result, stack_len } => {
                use revmc_ir::InstructionResult as R;
                self.write_back(*stack_len, matches!(result, R::Stop | R::Return | R::Revert))?;
                let code = self.i8.const_int(*result as u64, false);
                self.ret(code)?;
            }
            Terminator::Interpret { pc, stack_len, cold } => {
                use revmc_ir::abi::{INTERPRET, INTERPRET_COLD};
                let code = if *cold { INTERPRET_COLD } else { INTERPRET };
                let pc = self.i64.const_int(u64::from(*pc), false);
                self.leave_to_interpreter(*stack_len, pc, code)?;
            }
            Terminator::InterpretJump { stack_len, why } => {
                let code = revmc_ir::abi::interpret_jump_code(*why);
                let pc = self.jump_target_pc()?;
                self.leave_to_interpreter(*stack_len, pc, code)?;
            }
        }
        Ok(())
    }

    /// Returns `code` to leave the frame to the interpreter: the stack written back
    /// `stack_len` high, and `resume_at` set to `pc` (an `i64`).
    fn leave_to_interpreter(
        &self,
        stack_len: Height,
        pc: IntValue<'ctx>,
        code: u8,
    ) -> Result<(), LlvmError> {
        self.write_back(stack_len, true)?;
        let p = self.ctx_field(EvmContext::OFFSET_RESUME_AT)?;
        self.b.build_store(p, pc)?;
        self.ret(self.i8.const_int(u64::from(code), false))
    }
}
