//! The execution context and constants: its fields, words loaded from it, the calls
//! through its function tables, and private constant arrays.

use super::Lowerer;
use crate::LlvmError;
use inkwell::types::FunctionType;
use inkwell::values::{BasicValue, IntValue, PointerValue};
use revmc_ir::abi::{EnvField, EvmContext};

impl<'ctx> Lowerer<'ctx, '_> {
    pub(super) fn ctx_usize(&self, offset: usize) -> Result<IntValue<'ctx>, LlvmError> {
        let v = self.load_ctx_field(offset, self.i64)?.into_int_value();
        Ok(self.b.build_int_z_extend(v, self.i256, "")?)
    }

    /// Environment word `field`, loaded from the context's environment array.
    pub(super) fn env_word(&self, field: EnvField) -> Result<IntValue<'ctx>, LlvmError> {
        self.load_word(self.env_ptr(field)?, 8, field.name())
    }

    /// Loads a 256-bit word from `p`, which is aligned to `align` bytes.
    pub(super) fn load_word(
        &self,
        p: inkwell::values::PointerValue<'ctx>,
        align: u32,
        name: &str,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let l = self.b.build_load(self.i256, p, name)?;
        l.as_instruction_value()
            .expect("load")
            .set_alignment(align)
            .map_err(|e| LlvmError::Verify(e.to_string()))?;
        Ok(l.into_int_value())
    }

    /// A private constant global holding `init`: the constant words, check tables and
    /// dispatch tables of the lowering.
    pub(super) fn private_constant(
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
    pub(super) fn i64_array(&self, words: &[u64]) -> inkwell::values::ArrayValue<'ctx> {
        let consts: Vec<IntValue<'ctx>> =
            words.iter().map(|&w| self.i64.const_int(w, false)).collect();
        self.i64.const_array(&consts)
    }

    /// Pointer to the context field at `offset`.
    pub(super) fn ctx_field(&self, offset: usize) -> Result<PointerValue<'ctx>, LlvmError> {
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

    pub(super) fn load_ctx_field<T: inkwell::types::BasicType<'ctx>>(
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
    pub(super) fn call_table_entry(
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

    /// Address of environment word `field`.
    pub(super) fn env_ptr(&self, field: EnvField) -> Result<PointerValue<'ctx>, LlvmError> {
        let env = self.load_ctx_field(EvmContext::OFFSET_ENV, self.ptr)?.into_pointer_value();
        let index = self.i64.const_int(field as u64, false);
        // SAFETY: the array has `EnvField::COUNT` words and `field` indexes one of them.
        Ok(unsafe { self.b.build_in_bounds_gep(self.i256, env, &[index], field.name())? })
    }
}
