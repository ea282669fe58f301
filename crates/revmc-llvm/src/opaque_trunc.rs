//! Truncations the optimizing pipeline does not see through: the lowering writes the
//! truncation of a memory offset as a call of `revmc.opaque.trunc.i{to}.i{from}`
//! ([`truncate`]), and [`expand`] turns every such call back into a `trunc` after the
//! pipeline (`opt::optimize` runs it after every pipeline; O0 has none, and its lowering
//! truncates directly, so no call reaches code generation).
//!
//! Why: since LLVM 22, InstCombine's evaluation of a truncation in the narrower type
//! copies the user list of every multi-use value it reaches. A memory check truncates the
//! offset (`add X, previous`), which reaches `X`; thousands of checks sharing one `X` made
//! that quadratic (3.2 of 3.8 s of the pipeline on the board's `memory_grow_mload`).
//! The call is `memory(none)`, so EarlyCSE still merges equal truncations; instruction
//! selection narrows the arithmetic under the restored `trunc` within each block.

use crate::LlvmError;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::builder::Builder;
use inkwell::module::Module;
use inkwell::types::IntType;
use inkwell::values::{BasicValue, FunctionValue, IntValue};

/// Names of the opaque truncations: this, then the result and operand types
/// (`i64.i256`).
const PREFIX: &str = "revmc.opaque.trunc.";

/// `v` truncated to `ty`: a `trunc` for a constant, else a call of the opaque truncation
/// to `ty`, declared in `module` on first use.
pub(crate) fn truncate<'ctx>(
    module: &Module<'ctx>,
    b: &Builder<'ctx>,
    v: IntValue<'ctx>,
    ty: IntType<'ctx>,
) -> Result<IntValue<'ctx>, inkwell::builder::BuilderError> {
    if v.is_const() {
        return b.build_int_truncate(v, ty, "");
    }
    let f = declaration(module, v.get_type(), ty);
    let call = b.build_call(f, &[v.into()], "")?;
    Ok(call.try_as_basic_value().basic().expect("returns an integer").into_int_value())
}

/// The opaque truncation from `from` to `to`, declared in `module` if it is not yet:
/// `memory(none)`, so that EarlyCSE merges equal calls and they may be hoisted.
fn declaration<'ctx>(
    module: &Module<'ctx>,
    from: IntType<'ctx>,
    to: IntType<'ctx>,
) -> FunctionValue<'ctx> {
    let name = format!("{PREFIX}i{}.i{}", to.get_bit_width(), from.get_bit_width());
    if let Some(f) = module.get_function(&name) {
        return f;
    }
    let f = module.add_function(&name, to.fn_type(&[from.into()], false), None);
    let cx = module.get_context();
    for (attr, value) in [("nounwind", 0), ("willreturn", 0), ("speculatable", 0), ("nosync", 0)] {
        let kind = Attribute::get_named_enum_kind_id(attr);
        f.add_attribute(AttributeLoc::Function, cx.create_enum_attribute(kind, value));
    }
    // `memory(none)`: the encoded effects are all zero.
    let memory = Attribute::get_named_enum_kind_id("memory");
    f.add_attribute(AttributeLoc::Function, cx.create_enum_attribute(memory, 0));
    f
}

/// Replaces every call of an opaque truncation in `module` by a `trunc` (a constant where
/// the pipeline made the operand one), and removes the declarations.
pub(crate) fn expand(module: &Module<'_>) -> Result<(), LlvmError> {
    let prefix = PREFIX.as_bytes();
    let opaque: Vec<_> =
        module.get_functions().filter(|f| f.get_name().to_bytes().starts_with(prefix)).collect();
    let b = module.get_context().create_builder();
    for f in opaque {
        let ty = f.get_type().get_return_type().expect("returns an integer").into_int_type();
        // Every use is a call: the lowering never takes a declaration's address.
        while let Some(use_) = f.as_global_value().as_pointer_value().get_first_use() {
            let result = use_.get_user().into_int_value();
            let call = result.as_instruction().expect("a call");
            let arg = call.get_operand(0).and_then(|o| o.value()).expect("one operand");
            b.position_before(&call);
            let trunc = b.build_int_truncate(arg.into_int_value(), ty, "")?;
            result.replace_all_uses_with(trunc);
            call.erase_from_basic_block();
        }
        // SAFETY: the declaration has no uses left.
        unsafe { f.delete() };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::values::InstructionOpcode;

    #[test]
    fn opaque_truncations_become_truncs_and_their_declarations_go() {
        let cx = Context::create();
        let module = cx.create_module("m");
        let (i64, i128, i256) = (
            cx.i64_type(),
            cx.i128_type(),
            cx.custom_width_int_type(std::num::NonZeroU32::new(256).unwrap()).unwrap(),
        );
        let f = module.add_function("f", i64.fn_type(&[i256.into()], false), None);
        let b = cx.create_builder();
        b.position_at_end(cx.append_basic_block(f, "entry"));
        let x = f.get_nth_param(0).unwrap().into_int_value();
        let lo = truncate(&module, &b, x, i64).unwrap();
        let wide = truncate(&module, &b, x, i128).unwrap();
        let wide_lo = b.build_int_truncate(wide, i64, "").unwrap();
        // A constant folds; no call.
        let k = truncate(&module, &b, i256.const_int(7, false), i64).unwrap();
        // The pipeline may make an operand constant (SCCP): it becomes a constant.
        let decl = declaration(&module, i256, i64);
        let folded = b.build_call(decl, &[i256.const_int(9, false).into()], "").unwrap();
        let folded = folded.try_as_basic_value().basic().unwrap().into_int_value();
        let sum = b.build_int_add(b.build_int_add(lo, wide_lo, "").unwrap(), k, "").unwrap();
        let sum = b.build_int_add(sum, folded, "").unwrap();
        b.build_return(Some(&sum)).unwrap();
        assert!(k.is_const());
        assert_eq!(module.get_functions().count(), 3, "f and one declaration per type");
        expand(&module).unwrap();
        module.verify().expect("expanded IR verifies");
        assert_eq!(module.get_functions().count(), 1, "the declarations are removed");
        let ops: Vec<_> =
            f.get_first_basic_block().unwrap().get_instructions().map(|i| i.get_opcode()).collect();
        assert!(!ops.contains(&InstructionOpcode::Call), "{ops:?}");
        assert_eq!(ops.iter().filter(|&&o| o == InstructionOpcode::Trunc).count(), 3, "{ops:?}");
        let ret = f.get_last_basic_block().unwrap().get_terminator().unwrap();
        let sum = ret.get_operand(0).unwrap().value().unwrap().into_int_value();
        let addend = sum.as_instruction().unwrap().get_operand(1).unwrap().value().unwrap();
        assert_eq!(addend.into_int_value().get_zero_extended_constant(), Some(9));
    }
}
