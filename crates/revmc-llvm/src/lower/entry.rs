//! The function's entry: the switch on `resume_at`, and the blocks that reload the stack
//! where a suspended frame resumes.

use super::Lowerer;
use crate::LlvmError;
use inkwell::basic_block::BasicBlock;
use revmc_ir::abi::EvmContext;
use revmc_ir::ir::{Block, Height, Terminator};

impl<'ctx> Lowerer<'ctx, '_> {
    /// The entry block's switch on `resume_at`: 0 starts the program; `k` continues after
    /// suspension `k`. A static-shape suspension reloads the stack slots live after it
    /// from the stack array (where revm pushed the child's result); a dynamic-shape one
    /// takes the array's length as its base.
    pub(super) fn resume_dispatch(&mut self) -> Result<(), LlvmError> {
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
    pub(super) fn fill_static_resume(
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
}
