//! [`localize_addresses`]: every block's loads and stores get their own copy of each
//! constant-offset address computed in another block (`local_addresses.cpp`), so that
//! LLVM's CodeGenPrepare, which is quadratic in the blocks sharing one such address,
//! has nothing to sink. Run after the optimizing pipeline, which hoists and merges those
//! addresses, and before code generation.

use inkwell::module::Module;

unsafe extern "C" {
    fn revmc_localize_addresses(module: llvm_sys::prelude::LLVMModuleRef);
}

/// Localizes the addresses of every load and store in `module`.
pub(crate) fn localize_addresses(module: &Module<'_>) {
    // SAFETY: `module` is a live module, used by this thread only for the call.
    unsafe { revmc_localize_addresses(module.as_mut_ptr()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::values::{BasicValue, InstructionOpcode};

    /// A field of the first argument at offset 72 and a field of that field at 8, both
    /// computed in the entry block and used by loads and stores of later blocks.
    const SHARED_ADDRESS: &str = r#"
define i64 @f(ptr %ctx, i1 %c) {
entry:
  %field = getelementptr inbounds i8, ptr %ctx, i64 72
  %inner = getelementptr inbounds i8, ptr %field, i64 8
  store i64 1, ptr %field
  br i1 %c, label %a, label %b
a:
  store i64 2, ptr %field
  %x = load i64, ptr %inner
  %y = load i64, ptr %field
  br label %b
b:
  %p = phi ptr [ %field, %entry ], [ %inner, %a ]
  %z = load i64, ptr %p
  ret i64 %z
}
"#;

    #[test]
    fn loads_and_stores_use_addresses_of_their_own_block() {
        let cx = Context::create();
        let buffer = inkwell::memory_buffer::MemoryBuffer::create_from_memory_range_copy(
            SHARED_ADDRESS.as_bytes(),
            "shared",
        );
        let module = cx.create_module_from_ir(buffer).expect("valid IR");
        localize_addresses(&module);
        module.verify().expect("localized IR verifies");
        let f = module.get_function("f").expect("defined");
        let mut copies = 0;
        for block in f.get_basic_blocks() {
            for inst in block.get_instructions() {
                let ptr = match inst.get_opcode() {
                    InstructionOpcode::Load => 0,
                    InstructionOpcode::Store => 1,
                    InstructionOpcode::GetElementPtr => {
                        copies += (block.get_name().to_bytes() == b"a") as u32;
                        continue;
                    }
                    _ => continue,
                };
                let addr = inst.get_operand(ptr).and_then(|o| o.value()).expect("a pointer");
                let def = addr.as_instruction_value().expect("an instruction");
                // The load through the phi keeps it: a phi is not an address to copy.
                if def.get_opcode() == InstructionOpcode::Phi {
                    continue;
                }
                assert_eq!(def.get_parent(), Some(block), "{inst:?} uses {def:?}");
            }
        }
        // Block `a` has one copy of `field` and one of `inner`, based on it.
        assert_eq!(copies, 2);
    }
}
