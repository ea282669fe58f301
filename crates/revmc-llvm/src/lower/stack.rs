//! The caller's stack array: its entries, stack heights, the base of dynamic-shape
//! blocks, and the checks of a dynamic-shape section.

use super::Lowerer;
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::IntValue;
use revmc_ir::ir::{Height, StackCheck};

impl<'ctx> Lowerer<'ctx, '_> {
    /// Address of entry `i` of the caller's stack array.
    pub(super) fn stack_ptr(
        &self,
        i: IntValue<'ctx>,
    ) -> Result<inkwell::values::PointerValue<'ctx>, LlvmError> {
        // SAFETY: compiled code only indexes entries below the stack limit (static
        // heights, or dynamic ones checked against the base), and the array holds 1024.
        Ok(unsafe { self.b.build_in_bounds_gep(self.i256, self.stack, &[i], "")? })
    }

    /// Stores a word into the caller's stack array (alignment 8, as `Word`).
    pub(super) fn store_stack_at(
        &self,
        i: IntValue<'ctx>,
        v: IntValue<'ctx>,
    ) -> Result<(), LlvmError> {
        let st = self.b.build_store(self.stack_ptr(i)?, v)?;
        st.set_alignment(8).map_err(|e| LlvmError::Verify(e.to_string()))?;
        Ok(())
    }

    /// Loads a word from the caller's stack array.
    pub(super) fn load_stack_at(&self, i: IntValue<'ctx>) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_word(self.stack_ptr(i)?, 8, "")
    }

    /// Stores a word into entry `i` of the caller's stack array.
    pub(super) fn store_stack(&self, i: u64, v: IntValue<'ctx>) -> Result<(), LlvmError> {
        self.store_stack_at(self.i64.const_int(i, false), v)
    }

    /// Loads entry `i` of the caller's stack array.
    pub(super) fn load_stack(&self, i: u64) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_stack_at(self.i64.const_int(i, false))
    }

    /// A stack height as an `i64`: a constant, or the base plus an offset.
    pub(super) fn height(&self, h: Height) -> Result<IntValue<'ctx>, LlvmError> {
        Ok(match h {
            Height::Abs(n) => self.i64.const_int(n as u64, false),
            Height::Rel(n) => {
                let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
                let off = self.i64.const_int(n as i64 as u64, true);
                self.b.build_int_add(base, off, "")?
            }
        })
    }

    /// A dynamic-shape section: if the base satisfies every instruction's stack
    /// requirement and the gas left covers the section's gas, charge it; otherwise halt as
    /// the interpreter would, with `OutOfGas` if the gas left is short of the section's gas
    /// up to the first failing instruction (or no instruction's stack check fails), else
    /// with that instruction's stack error.
    ///
    /// The stack and gas conditions are one branch: the shared scan tells them apart, so a
    /// section costs LLVM one block instead of two (a sixth of a large contract's blocks).
    pub(super) fn dyn_charge(&mut self, gas: u64, checks: &[StackCheck]) -> Result<(), LlvmError> {
        let base = self.b.build_load(self.i64, self.base, "base")?.into_int_value();
        let c = |v: i64| self.i64.const_int(v as u64, true);
        let lo = checks.iter().map(|c| c.min_base).max().unwrap_or(i64::MIN);
        let hi = checks.iter().map(|c| c.max_base).min().unwrap_or(i64::MAX);
        // lo <= base <= hi as one unsigned compare, as instcombine would write it (the
        // first tier has no instcombine). With lo > hi (two merged sections whose checks
        // no base satisfies together) the section always fails, and the scan finds the
        // first failing check.
        let stack_ok = if lo <= hi {
            let off = self.b.build_int_sub(base, c(lo), "")?;
            let span = c(hi).const_sub(c(lo));
            self.b.build_int_compare(P::ULE, off, span, "stack_ok")?
        } else {
            self.cx.bool_type().const_zero()
        };
        // The gas left after the charge, wrapped when short: stored only where it holds,
        // since the scan reads the gas left before the section.
        let (ok, left) = if gas > 0 {
            let cost = self.i64.const_int(gas, false);
            let g = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
            let enough = self.b.build_int_compare(P::UGE, g, cost, "gas_ok")?;
            let left = self.b.build_int_sub(g, cost, "")?;
            (self.b.build_and(stack_ok, enough, "")?, Some(left))
        } else {
            (stack_ok, None)
        };
        let fault = self.stack_fault_entry(checks)?;
        let charged = self.continuation("section_ok");
        let br = self.b.build_conditional_branch(ok, charged, fault)?;
        if gas > 0 {
            // Instruction selection splits a branch on an `and` into two branches (and
            // blocks) unless it is marked unpredictable.
            let kind = self.cx.get_kind_id("unpredictable");
            br.set_metadata(self.cx.metadata_node(&[]), kind)
                .map_err(|e| LlvmError::Verify(e.to_string()))?;
        }
        self.b.position_at_end(charged);
        if let Some(left) = left {
            self.b.build_store(self.gas, left)?;
        }
        Ok(())
    }

    /// Sets the base of dynamic-shape blocks to `index` (and, with values in memory, the
    /// address of its entry).
    pub(super) fn set_base(&self, index: IntValue<'ctx>) -> Result<(), LlvmError> {
        self.b.build_store(self.base, index)?;
        if self.memory_values {
            let p = self.stack_ptr(index)?;
            self.b.build_store(self.base_ptr, p)?;
        }
        Ok(())
    }
}
