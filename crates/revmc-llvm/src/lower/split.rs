//! Splitting a large first-tier program into several LLVM functions.
//!
//! LLVM's O0 code generation costs more per instruction as a function grows: the largest
//! contracts of the corpus (24 KB, a million bytes of code) took 250 ns per byte of
//! machine code, against 100–130 for contracts of 3–10 KB, in every pass alike (their
//! working set outgrows the caches). A program whose estimated cost
//! ([`revmc_ir::compile_cost`]) exceeds the chunk cost is cut into runs of consecutive IR
//! blocks of about that cost, each lowered as a private function (a *chunk*):
//!
//! - The state the chunks share lives in one frame, allocated by the program's own
//!   function ([`FrameLayout`]): the stack slots and the temporaries of values read in
//!   other blocks, which a chunk addresses from its `frame` parameter where it uses them,
//!   and the jump target. The gas, the base and its address, and the word-operation
//!   table pass through the frame too, but a chunk keeps its own copies, read when it
//!   is entered and written back when it branches to another chunk: they are read at
//!   almost every instruction. So are the temporaries of values local to a block.
//! - A chunk is called with the index of the block to start at among its entry blocks,
//!   and branches there through a table of their addresses. A branch to a block of
//!   another chunk returns `256 + block`; a halt returns its code (below 256). The
//!   program's function looks the block up in one table (its chunk and entry index) and
//!   calls the chunk through another, in a loop, until a code comes back: no chain of
//!   compares, which is what a `switch` is at O0.
//! - Each chunk has its own shared exits and stack-fault scan; the program's function
//!   has the resume dispatch, which enters the loop at the resumed block.

use super::memory::temps::TempPlan;
use super::{Locals, Lowerer};
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::module::Linkage;
use inkwell::values::{FunctionValue, IntValue, PointerValue};
use revmc_ir::abi::EvmContext;
use revmc_ir::ir::{Block, Function, Terminator};
use std::ops::Range;

/// What a chunk returns to continue at block `b`: `CONTINUE_AT + b`. Halt codes are
/// below it.
const CONTINUE_AT: u64 = 256;

/// The runs of consecutive blocks `func` is split into, or `None` if it is lowered whole
/// (its cost is at most `chunk_cost`).
pub(super) fn partition(func: &Function, chunk_cost: usize) -> Option<Vec<Range<usize>>> {
    let chunk_cost = chunk_cost as u64;
    let costs: Vec<u64> = func.block_ids().map(|b| revmc_ir::block_cost(func, b)).collect();
    if costs.iter().sum::<u64>() <= chunk_cost {
        return None;
    }
    let mut chunks = Vec::new();
    let (mut start, mut acc) = (0, 0u64);
    for (i, &c) in costs.iter().enumerate() {
        // A chunk's entries are numbered in 16 bits (the dispatch's route table).
        if acc > 0 && (acc + c > chunk_cost || i - start == usize::from(u16::MAX)) {
            chunks.push(start..i);
            (start, acc) = (i, 0);
        }
        acc += c;
    }
    chunks.push(start..costs.len());
    (chunks.len() > 1 && chunks.len() <= usize::from(u16::MAX)).then_some(chunks)
}

/// Where the shared state lies in the frame, in bytes.
pub(super) struct FrameLayout {
    slots: u32,
    /// The shared temporaries: `TempPlan::local..TempPlan::count`.
    temps: Range<u32>,
}

const GAS: u64 = 0;
const BASE: u64 = 8;
const BASE_PTR: u64 = 16;
const WORD_OPS: u64 = 24;
const JUMP_TARGET: u64 = 32;
const ARGS: u64 = 64;
const SLOTS: u64 = ARGS + 4 * 32;

/// Offset of stack slot `n` in the frame.
pub(super) fn slot_offset(n: u32) -> u64 {
    SLOTS + 32 * n as u64
}

/// Offset of shared temporary `k` (temporary `TempPlan::local + k`) in the frame of a
/// function with `slots` stack slots.
pub(super) fn shared_temp_offset(slots: u32, k: u32) -> u64 {
    slot_offset(slots) + 32 * k as u64
}

impl FrameLayout {
    pub(super) fn new(slots: u32, plan: &TempPlan) -> Self {
        Self { slots, temps: plan.local..plan.count }
    }

    /// Size of the frame in 8-byte words.
    pub(super) fn words(&self) -> u64 {
        (SLOTS + 32 * (self.slots as u64 + self.temps.len() as u64)) / 8
    }

    /// The fields of the frame at `frame`, addressed where `b` is positioned: the state
    /// of the program's own function.
    pub(super) fn pointers<'ctx>(
        &self,
        b: &Builder<'ctx>,
        frame: PointerValue<'ctx>,
    ) -> Result<Locals<'ctx>, LlvmError> {
        let i8 = frame.get_type().get_context().i8_type();
        let i64 = frame.get_type().get_context().i64_type();
        let at = |off: u64| -> Result<PointerValue<'ctx>, LlvmError> {
            // SAFETY: `off` is within the frame of `self.words()` words.
            Ok(unsafe { b.build_in_bounds_gep(i8, frame, &[i64.const_int(off, false)], "")? })
        };
        let slots = (0..self.slots).map(|n| at(slot_offset(n))).collect::<Result<_, _>>()?;
        Ok(Locals {
            gas: at(GAS)?,
            base: at(BASE)?,
            base_ptr: at(BASE_PTR)?,
            word_ops: at(WORD_OPS)?,
            jump_target: at(JUMP_TARGET)?,
            args: at(ARGS)?,
            slots,
            temps: Vec::new(),
        })
    }
}

impl<'ctx> Lowerer<'ctx, '_> {
    /// Lowers the program as chunks `chunks` called by its own function, which `new`
    /// set up with the frame (gas, base and table already initialized in its entry).
    pub(super) fn run_split(mut self, chunks: &[Range<usize>]) -> Result<(), LlvmError> {
        let n = self.func.blocks.len();
        let mut chunk_of = vec![0u16; n];
        for (k, r) in chunks.iter().enumerate() {
            chunk_of[r.clone()].fill(u16::try_from(k).expect("fewer than 2^16 chunks"));
        }
        // Where each chunk is entered: the start, resumed blocks, and blocks branched
        // to from other chunks.
        let mut entries: Vec<Vec<usize>> = vec![Vec::new(); chunks.len()];
        entries[chunk_of[0] as usize].push(0);
        for blk in self.func.block_ids() {
            let term = &self.func.block(blk).term;
            for s in term.successors() {
                let from_elsewhere = chunk_of[s.index()] != chunk_of[blk.index()];
                if from_elsewhere || matches!(term, Terminator::Suspend { .. }) {
                    entries[chunk_of[s.index()] as usize].push(s.index());
                }
            }
        }
        for e in &mut entries {
            e.sort_unstable();
            e.dedup();
        }

        // The program's function: no IR blocks, the exits `new` made are not used.
        let main = self.f;
        for bb in [self.oog, self.halt.0, self.fail.0] {
            // SAFETY: nothing branches to these blocks or uses their phis yet.
            unsafe { bb.delete() }.map_err(|()| LlvmError::Verify("deleting a block".into()))?;
        }
        const { assert!(GAS == 0) };
        let frame = self.gas;
        let g = self.load_ctx_field(EvmContext::OFFSET_GAS_REMAINING, self.i64)?;
        self.b.build_store(self.gas, g)?;
        let entry = self.b.get_insert_block().expect("positioned");

        let dispatch = self.cx.append_basic_block(main, "dispatch");
        self.b.position_at_end(dispatch);
        let next = self.b.build_phi(self.i64, "next")?;
        let halted = self.cx.append_basic_block(main, "halted");
        self.b.position_at_end(halted);
        let code = self.b.build_phi(self.i64, "code")?;
        let code8 =
            self.b.build_int_truncate(code.as_basic_value().into_int_value(), self.i8, "")?;
        self.b.build_return(Some(&code8))?;
        // The start and every resumed block continue in the dispatch loop.
        let mut from_main = vec![0];
        for blk in self.func.block_ids() {
            if let Terminator::Suspend { resume, .. } = self.func.block(blk).term {
                from_main.push(resume.index());
            }
        }
        from_main.sort_unstable();
        from_main.dedup();
        for &b in &from_main {
            let stub = self.cx.append_basic_block(main, &format!("enter{b}"));
            self.b.position_at_end(stub);
            next.add_incoming(&[(&self.i64.const_int(b as u64, false), stub)]);
            self.b.build_unconditional_branch(dispatch)?;
            self.blocks[b] = Some(stub);
        }
        self.b.position_at_end(entry);
        self.resume_dispatch()?;

        let chunk_ty = self.i64.fn_type(
            &[self.ptr.into(), self.ptr.into(), self.ptr.into(), self.ptr.into(), self.i64.into()],
            false,
        );
        let name = main.get_name().to_string_lossy().into_owned();
        let fns: Vec<FunctionValue<'ctx>> = (0..chunks.len())
            .map(|k| {
                let f = self.module.add_function(
                    &format!("{name}.chunk{k}"),
                    chunk_ty,
                    Some(Linkage::Private),
                );
                for a in main.attributes(inkwell::attributes::AttributeLoc::Function) {
                    f.add_attribute(inkwell::attributes::AttributeLoc::Function, a);
                }
                f
            })
            .collect();

        // The loop: the chunk holding block `next`, called with the block's index among
        // the chunk's entries, until it returns a code. One table gives both for every
        // block, another the chunks' addresses: no compare chain at O0.
        self.b.position_at_end(dispatch);
        let mut route = vec![0u32; n];
        for (k, e) in entries.iter().enumerate() {
            for (i, &b) in e.iter().enumerate() {
                route[b] = (k as u32) << 16 | u32::try_from(i).expect("fewer than 2^16 entries");
            }
        }
        let i32t = self.cx.i32_type();
        let route_consts: Vec<IntValue<'ctx>> =
            route.iter().map(|&r| i32t.const_int(r as u64, false)).collect();
        let routes =
            self.private_constant(i32t.const_array(&route_consts), "route").as_pointer_value();
        let fn_ptrs: Vec<PointerValue<'ctx>> =
            fns.iter().map(|f| f.as_global_value().as_pointer_value()).collect();
        let chunk_fns =
            self.private_constant(self.ptr.const_array(&fn_ptrs), "chunks").as_pointer_value();
        let at = next.as_basic_value().into_int_value();
        // SAFETY: `next` is a block index (`CONTINUE_AT + b` came back from a chunk, or
        // an entry stub's constant), and the table has one entry per block.
        let slot = unsafe { self.b.build_in_bounds_gep(i32t, routes, &[at], "")? };
        let r = self.b.build_load(i32t, slot, "route")?.into_int_value();
        let k = self.b.build_right_shift(r, i32t.const_int(16, false), false, "chunk")?;
        let e = self.b.build_and(r, i32t.const_int(0xffff, false), "")?;
        let e = self.b.build_int_z_extend(e, self.i64, "entry")?;
        // SAFETY: a route's chunk is below the number of chunks, the table's length.
        let slot = unsafe { self.b.build_in_bounds_gep(self.ptr, chunk_fns, &[k], "")? };
        let f = self.b.build_load(self.ptr, slot, "")?.into_pointer_value();
        let args =
            [self.ctx.into(), self.stack.into(), self.stack_len.into(), frame.into(), e.into()];
        let r = self.b.build_indirect_call(chunk_ty, f, &args, "")?;
        let r = r.try_as_basic_value().basic().expect("an i64").into_int_value();
        let c = |v: u64| self.i64.const_int(v, false);
        let done = self.b.build_int_compare(P::ULT, r, c(CONTINUE_AT), "")?;
        let again = self.cx.append_basic_block(main, "again");
        code.add_incoming(&[(&r, dispatch)]);
        self.b.build_conditional_branch(done, halted, again)?;
        self.b.position_at_end(again);
        let b = self.b.build_int_sub(r, c(CONTINUE_AT), "")?;
        next.add_incoming(&[(&b, again)]);
        self.b.build_unconditional_branch(dispatch)?;

        for (k, range) in chunks.iter().enumerate() {
            self.lower_chunk(fns[k], range.clone(), &entries[k])?;
        }
        Ok(())
    }

    /// Lowers the blocks `range` as the chunk `f`, entered at the blocks `entries`.
    fn lower_chunk(
        &mut self,
        f: FunctionValue<'ctx>,
        range: Range<usize>,
        entries: &[usize],
    ) -> Result<(), LlvmError> {
        self.f = f;
        self.in_chunk = true;
        let entry = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(entry);
        let param = |i| f.get_nth_param(i).expect("param");
        self.ctx = param(0).into_pointer_value();
        self.stack = param(1).into_pointer_value();
        self.stack_len = param(2).into_pointer_value();
        let frame = param(3).into_pointer_value();
        let start = param(4).into_int_value();
        self.chunk_frame = Some(frame);
        // The chunk's own copies of what it reads at almost every instruction.
        let field = |l: &Self, off: u64| l.frame_field(frame, off);
        let shared = [
            (field(self, GAS), self.i64.into()),
            (field(self, BASE), self.i64.into()),
            (field(self, BASE_PTR), self.ptr.into()),
            (field(self, WORD_OPS), self.ptr.into()),
        ];
        let mut own = Vec::new();
        for (p, ty) in shared {
            let ty: inkwell::types::BasicTypeEnum<'ctx> = ty;
            let local = self.b.build_alloca(ty, "")?;
            self.b.build_store(local, self.b.build_load(ty, p, "")?)?;
            own.push((p, local, ty));
        }
        (self.gas, self.base, self.base_ptr, self.word_ops) =
            (own[0].1, own[1].1, own[2].1, own[3].1);
        self.jump_target = field(self, JUMP_TARGET);
        self.args = self.b.build_array_alloca(self.i256, self.i64.const_int(4, false), "args")?;
        // Temporaries of values local to a block are the chunk's own (`temp`).
        self.temps = (0..self.temp_plan.local)
            .map(|t| self.b.build_alloca(self.i256, &format!("t{t}")))
            .collect::<Result<_, _>>()?;

        self.blocks.iter_mut().for_each(|b| *b = None);
        for b in range.clone() {
            self.blocks[b] = Some(self.cx.append_basic_block(f, &Block::new(b).to_string()));
        }
        // Blocks of other chunks: return to the dispatch loop, through one block that
        // writes the gas and base back to the frame (the table is unchanged).
        let leave = self.cx.append_basic_block(f, "leave");
        self.b.position_at_end(leave);
        let to = self.b.build_phi(self.i64, "to")?;
        for &(p, local, ty) in &own[..3] {
            self.b.build_store(p, self.b.build_load(ty, local, "")?)?;
        }
        self.b.build_return(Some(&to.as_basic_value()))?;
        for b in range.clone() {
            for s in self.func.block(Block::new(b)).term.successors() {
                if self.blocks[s.index()].is_none() {
                    let stub = self.cx.append_basic_block(f, &format!("leave{s}"));
                    self.b.position_at_end(stub);
                    let at = self.i64.const_int(CONTINUE_AT + s.index() as u64, false);
                    to.add_incoming(&[(&at, stub)]);
                    self.b.build_unconditional_branch(leave)?;
                    self.blocks[s.index()] = Some(stub);
                }
            }
        }
        (self.oog, self.halt, self.fail) = super::exits::exit_blocks(self.cx, &self.b, f)?;
        self.stack_fault = None;
        self.check_tables.clear();
        // Static-shape suspensions of this chunk that complete without suspending
        // resume here, as the program's function does after a suspension.
        self.resume_blocks.clear();
        for b in range.clone() {
            if let Terminator::Suspend {
                args, height: revmc_ir::ir::Height::Abs(h), resume, ..
            } = &self.func.block(Block::new(b)).term
            {
                let live = (*h as usize - args.len() + 1) as u64;
                let bb = self.cx.append_basic_block(f, "resumed");
                self.fill_static_resume(bb, live, *resume)?;
                self.resume_blocks.insert(resume.index(), (bb, live));
            }
        }

        // The entry: an indirect branch through the addresses of the entry blocks.
        self.b.position_at_end(entry);
        let targets: Vec<BasicBlock<'ctx>> =
            entries.iter().map(|&b| self.block(Block::new(b))).collect();
        if targets.is_empty() {
            // No block of the chunk is reached from outside it: it is never called.
            self.b.build_unreachable()?;
        } else {
            let addrs = targets
                .iter()
                // SAFETY: the entry blocks belong to `f` and none is its first block.
                .map(|bb| unsafe { bb.get_address() })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| LlvmError::Verify("an entry block has no address".into()))?;
            let table =
                self.private_constant(self.ptr.const_array(&addrs), "entries").as_pointer_value();
            // SAFETY: the program's function passes an index below the number of entries.
            let slot = unsafe { self.b.build_in_bounds_gep(self.ptr, table, &[start], "")? };
            let addr = self.b.build_load(self.ptr, slot, "")?.into_pointer_value();
            self.b.build_indirect_branch(addr, &targets)?;
        }
        self.emit_exits()?;
        self.lower_blocks(range)?;
        self.emit_stack_fault_scan()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OptLevel;
    use inkwell::context::Context;
    use revmc_ir::{Limits, SpecId};

    /// Options that split past `chunk_cost`.
    fn split_past(chunk_cost: usize) -> super::super::LowerOptions {
        super::super::LowerOptions { chunk_cost, ..Default::default() }
    }

    /// A loop over a few blocks: `i = 0; while i < 10 { i += 1 }`, then a revert path.
    fn looping() -> Function {
        // PUSH0 JUMPDEST(1) DUP1 PUSH1 10 GT ISZERO PUSH1 19 JUMPI PUSH1 1 ADD PUSH1 1 JUMP
        // JUMPDEST(19) PUSH0 PUSH0 REVERT
        let code = [
            0x5f, 0x5b, 0x80, 0x60, 0x0a, 0x11, 0x15, 0x60, 0x13, 0x57, 0x60, 0x01, 0x01, 0x60,
            0x01, 0x56, 0x00, 0x00, 0x00, 0x5b, 0x5f, 0x5f, 0xfd,
        ];
        revmc_ir::translate(&code, SpecId::CANCUN, &Limits::default()).expect("translates")
    }

    #[test]
    fn a_program_within_the_chunk_cost_is_lowered_whole() {
        let f = looping();
        assert_eq!(partition(&f, revmc_ir::compile_cost(&f) as usize), None);
    }

    #[test]
    fn chunks_are_consecutive_runs_covering_every_block() {
        let f = looping();
        let n = f.blocks.len();
        assert!(n >= 3, "the loop has several blocks");
        // Cost 1: every block is a chunk of its own.
        let each = partition(&f, 1).expect("split");
        assert_eq!(each, (0..n).map(|b| b..b + 1).collect::<Vec<_>>());
        // Half the cost: at least two chunks, none over the cost unless one block is.
        let half = revmc_ir::compile_cost(&f) / 2;
        let chunks = partition(&f, half as usize).expect("split");
        assert!(chunks.len() >= 2);
        assert_eq!(chunks.first().map(|r| r.start), Some(0));
        assert_eq!(chunks.last().map(|r| r.end), Some(n));
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        for r in &chunks {
            let cost: u64 = r.clone().map(|b| revmc_ir::block_cost(&f, Block::new(b))).sum();
            assert!(cost <= half || r.len() == 1, "{r:?} costs {cost} > {half}");
        }
    }

    #[test]
    fn a_split_program_is_one_external_function_calling_private_chunks() {
        let f = looping();
        let cx = Context::create();
        // Lowering verifies the module in debug builds.
        let module =
            super::super::lower(&cx, &f, "prog", OptLevel::O0, &split_past(1)).expect("lowers");
        module.verify().expect("a valid module");
        let prog = module.get_function("prog").expect("the program's function");
        assert_eq!(prog.get_linkage(), Linkage::External);
        let chunks: Vec<_> = module
            .get_functions()
            .filter(|g| g.get_name().to_bytes().starts_with(b"prog.chunk"))
            .collect();
        assert_eq!(chunks.len(), f.blocks.len());
        assert!(chunks.iter().all(|c| c.get_linkage() == Linkage::Private));
        // Unsplit, one function has a body (the others are intrinsics' declarations).
        let whole = super::super::lower(&cx, &f, "whole", OptLevel::O0, &split_past(usize::MAX))
            .expect("lowers");
        assert_eq!(whole.get_functions().filter(|g| g.count_basic_blocks() > 0).count(), 1);
    }
}
