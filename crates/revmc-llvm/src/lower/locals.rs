//! Where a function keeps the program's state.

use crate::LlvmError;
use inkwell::AddressSpace;
use inkwell::builder::Builder;
use inkwell::types::IntType;
use inkwell::values::PointerValue;

/// Where a function keeps the program's state: allocas of its own, or (in a split
/// program) fields of the frame its chunks share.
pub(super) struct Locals<'ctx> {
    pub(super) gas: PointerValue<'ctx>,
    pub(super) base: PointerValue<'ctx>,
    pub(super) base_ptr: PointerValue<'ctx>,
    pub(super) word_ops: PointerValue<'ctx>,
    pub(super) jump_target: PointerValue<'ctx>,
    pub(super) args: PointerValue<'ctx>,
    pub(super) slots: Vec<PointerValue<'ctx>>,
    /// The temporaries (none in a split program's own function, which reads none).
    pub(super) temps: Vec<PointerValue<'ctx>>,
}

impl<'ctx> Locals<'ctx> {
    /// Allocas for all of it, where `b` is (the entry block).
    pub(super) fn allocas(
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
