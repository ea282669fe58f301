//! IR function → optimized native object: the part of compilation shared by JIT and AOT.

use crate::codegen::Codegen;
use crate::{LlvmError, OptLevel, PhaseTimes, lower, opt};
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::targets::{FileType, TargetMachine};
use revmc_ir::ir::Function;
use std::time::Instant;

/// Lowers `func` as `symbol` with `options`, lets `extend` add to the module, optimizes
/// at `level` and generates an object for `machine` (with `codegen`, its reusable
/// pipeline, if given), recording phase times in `phases`.
#[allow(clippy::too_many_arguments, reason = "one call site per compiler kind")]
pub(crate) fn emit_object(
    func: &Function,
    symbol: &str,
    machine: &TargetMachine,
    codegen: Option<&mut Codegen>,
    level: OptLevel,
    options: &lower::LowerOptions,
    phases: &mut PhaseTimes,
    extend: impl FnOnce(&Module<'_>) -> Result<(), LlvmError>,
) -> Result<MemoryBuffer<'static>, LlvmError> {
    let cx = Context::create();
    let dump = crate::dump::dump_dir();
    if dump.is_none() {
        // Names of instructions and blocks only serve a reader of the dumped IR. Kept,
        // LLVM uniques each in the function's symbol table as it is created and frees it
        // with the module: 7 % of a large contract's first-tier compilation
        // (docs/compile-cost.md, "No value names").
        // SAFETY: `cx` is a live context owned by this function.
        unsafe { llvm_sys::core::LLVMContextSetDiscardValueNames(cx.raw(), 1) };
    }
    let t = Instant::now();
    let module = lower::lower(&cx, func, symbol, level, options)?;
    extend(&module)?;
    phases.lower = t.elapsed();
    if let Some(dir) = &dump {
        let path = dir.join(format!("{symbol}.ir"));
        if let Err(e) = std::fs::write(&path, func.to_string()) {
            tracing::warn!("dumping {}: {e}", path.display());
        }
        dump_module(&module, None, &dir.join(format!("{symbol}.unopt.ll")));
    }
    let t = Instant::now();
    opt::optimize(&module, machine, level)?;
    phases.optimize = t.elapsed();
    if let Some(dir) = &dump {
        dump_module(&module, Some(machine), &dir.join(format!("{symbol}.opt.ll")));
    }
    let t = Instant::now();
    let object = match codegen {
        Some(codegen) => {
            let bytes = codegen.emit(&module);
            MemoryBuffer::create_from_memory_range_copy(&bytes, symbol)
        }
        None => machine
            .write_to_memory_buffer(&module, FileType::Object)
            .map_err(|e| LlvmError::Target(e.to_string()))?,
    };
    phases.codegen = t.elapsed();
    Ok(object)
}

/// Writes `module` as LLVM IR to `path`, and as assembly beside it if `machine` is given.
/// For debugging (`Tuning::dump_dir`, `REVMC_DUMP_DIR`); failures are logged, not fatal.
fn dump_module(
    module: &inkwell::module::Module<'_>,
    machine: Option<&TargetMachine>,
    path: &std::path::Path,
) {
    if let Err(e) = module.print_to_file(path) {
        tracing::warn!("dumping {}: {e}", path.display());
    }
    if let Some(machine) = machine
        && let Err(e) = machine.write_to_file(module, FileType::Assembly, &path.with_extension("s"))
    {
        tracing::warn!("dumping assembly of {}: {e}", path.display());
    }
}

/// The bytes of `object` (an ELF relocatable object) that linking maps into memory: its
/// allocated sections (code, constants, jump tables, data). The rest of the file
/// (relocations, symbols, names) is read by the linker and dropped: about a tenth of a
/// large program's object, more where tables of code addresses need one relocation per
/// entry. 0 for bytes that are no 64-bit ELF object (the JIT emits ELF on the Linux hosts
/// it supports).
pub fn loaded_size(object: &[u8]) -> usize {
    use ::object::read::elf::{ElfFile64, FileHeader, SectionHeader};
    let Ok(file) = ElfFile64::<::object::Endianness>::parse(object) else {
        return 0;
    };
    let endian = file.endian();
    let Ok(sections) = file.elf_header().sections(endian, object) else {
        return 0;
    };
    (sections.iter())
        .filter(|s| s.sh_flags(endian) & u64::from(::object::elf::SHF_ALLOC) != 0)
        .map(|s| s.sh_size(endian) as usize)
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_that_are_no_object_load_nothing() {
        assert_eq!(super::loaded_size(&[]), 0);
        assert_eq!(super::loaded_size(b"\x7fELF but not really"), 0);
    }
}
