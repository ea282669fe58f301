//! The LLVM pass pipeline and the native target machine.

use crate::LlvmError;
use crate::local_addresses::localize_addresses;
use crate::opaque_trunc;
use inkwell::OptimizationLevel;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use std::sync::Once;

pub use revmc_ir::OptLevel;

/// The IR pass pipeline of each level, and its code generation level.
trait Pipeline {
    fn pipeline(self) -> Option<&'static str>;
    fn codegen(self) -> OptimizationLevel;
    /// Whether the functions of programs of at least [`OPTSIZE_MIN_BLOCKS`] blocks are
    /// marked `optsize`.
    fn optsize(self) -> bool;
}

impl Pipeline for OptLevel {
    fn pipeline(self) -> Option<&'static str> {
        match self {
            OptLevel::O0 => None,
            OptLevel::O1 => {
                Some("function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg)")
            }
            OptLevel::O2 => Some(concat!(
                "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,",
                "reassociate,sccp,dse,adce,simplifycfg)"
            )),
            OptLevel::O3 => Some("default<O3>"),
        }
    }

    fn codegen(self) -> OptimizationLevel {
        match self {
            OptLevel::O0 => OptimizationLevel::None,
            OptLevel::O1 => OptimizationLevel::Less,
            OptLevel::O2 => OptimizationLevel::Default,
            OptLevel::O3 => OptimizationLevel::Aggressive,
        }
    }

    // `optsize` lets LLVM's passes pick the smaller of two forms they consider equal. At
    // O2 it made real contracts' code 12 % smaller (corpus: 23.4 → 20.6 native bytes per
    // bytecode byte), with their execution and compile times equal within noise. O3 keeps
    // LLVM's speed-first choices. Measured in docs/compile-cost.md ("Smaller optimized
    // code, and what did not pay").
    fn optsize(self) -> bool {
        matches!(self, OptLevel::O1 | OptLevel::O2)
    }
}

/// The fewest basic blocks (summed over a module's functions, after lowering) of a program
/// marked `optsize`. Below it are small kernels, whose one hot loop `optsize` slowed by
/// aligning no loop header (fibonacci 9 %, factorial 5 %); a 1 KiB contract lowers to
/// about 250 blocks.
pub const OPTSIZE_MIN_BLOCKS: u32 = 256;

/// Initializes LLVM's native target once per process.
pub fn init_native_target() -> Result<(), LlvmError> {
    static INIT: Once = Once::new();
    let mut result = Ok(());
    INIT.call_once(|| {
        result =
            Target::initialize_native(&InitializationConfig::default()).map_err(LlvmError::Target);
        parse_llvm_args();
    });
    result
}

/// LLVM options every compilation runs with. They are process-wide, as all of LLVM's
/// options are.
///
/// `-grow-region-complexity-budget` bounds the greedy register allocator's search for a
/// region to split a live range around (10,000 by default), which on programs of
/// thousands of blocks was two thirds of register allocation. At 3,000 the corpus
/// compiled 6 % faster at the optimizing tier (68.4 → 64.4 s) for 0.5 % more code, and
/// the board's code changed only for large contracts, within noise
/// (docs/compile-cost.md, "A budget for the register allocator").
///
/// `-post-RA-scheduler=false` skips the list scheduler that runs after register
/// allocation on CPUs whose tuning asks for it (AMD's Zen 4, `znver4`, among them): 7.6 %
/// of a 1 KiB contract's compilation there, with no measured loss in the speed of the
/// code (docs/compile-cost.md, "No scheduling after register allocation").
const DEFAULT_LLVM_ARGS: &[&str] =
    &["-grow-region-complexity-budget=3000", "-post-RA-scheduler=false"];

/// The options LLVM parses: [`DEFAULT_LLVM_ARGS`], except those `user` sets, then
/// `user` (space-separated, e.g. `-time-passes`). LLVM refuses an option given twice
/// (ignoring it), so a user's option replaces the default of the same name, with one dash
/// or two.
fn llvm_args(user: &str) -> Vec<String> {
    let name = |a: &str| a.trim_start_matches('-').split('=').next().unwrap_or("").to_owned();
    let user: Vec<&str> = user.split_whitespace().collect();
    let overridden: Vec<String> = user.iter().map(|a| name(a)).collect();
    DEFAULT_LLVM_ARGS
        .iter()
        .filter(|a| !overridden.contains(&name(a)))
        .chain(&user)
        .map(|a| (*a).to_owned())
        .collect()
}

/// Passes [`llvm_args`] of `REVMC_LLVM_ARGS` (a debugging aid for measuring the backend)
/// to LLVM's option parser, once per process.
fn parse_llvm_args() {
    let user = std::env::var_os("REVMC_LLVM_ARGS").unwrap_or_default();
    let owned: Vec<std::ffi::CString> = std::iter::once("revmc".to_owned())
        .chain(llvm_args(&user.to_string_lossy()))
        .filter_map(|a| std::ffi::CString::new(a).ok())
        .collect();
    let ptrs: Vec<*const std::ffi::c_char> = owned.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: `ptrs` points to NUL-terminated strings that outlive the call, and the
    // overview is a NUL-terminated literal.
    unsafe {
        llvm_sys::support::LLVMParseCommandLineOptions(
            ptrs.len() as i32,
            ptrs.as_ptr(),
            c"revmc".as_ptr(),
        )
    };
}

/// A target machine for the host, tuned for its CPU.
pub fn host_target_machine(level: OptLevel) -> Result<TargetMachine, LlvmError> {
    init_native_target()?;
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple).map_err(|e| LlvmError::Target(e.to_string()))?;
    let cpu = TargetMachine::get_host_cpu_name();
    let features = TargetMachine::get_host_cpu_features();
    target
        .create_target_machine(
            &triple,
            cpu.to_str().unwrap_or("generic"),
            features.to_str().unwrap_or(""),
            level.codegen(),
            RelocMode::PIC,
            CodeModel::Default,
        )
        .ok_or_else(|| LlvmError::Target(format!("no target machine for {triple}")))
}

/// Whether `machine` moves 32 bytes in one vector load or store (x86-64 with AVX).
pub(crate) fn has_32_byte_vectors(machine: &TargetMachine) -> bool {
    let features = machine.get_feature_string().to_string_lossy();
    features.split(',').any(|f| f == "+avx")
}

/// Runs the pipeline of `level` over `module`, after setting its triple and data layout,
/// then restores the truncations the lowering hid from it (`opaque_trunc.rs`) and gives
/// each block its own copy of the addresses it loads or stores through
/// (`local_addresses.cpp`), which LLVM's pipeline hoists and merges.
pub fn optimize(
    module: &Module<'_>,
    machine: &TargetMachine,
    level: OptLevel,
) -> Result<(), LlvmError> {
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let blocks = || module.get_functions().map(|f| f.count_basic_blocks()).sum::<u32>();
    if level.optsize() && blocks() >= OPTSIZE_MIN_BLOCKS {
        let kind = Attribute::get_named_enum_kind_id("optsize");
        let optsize = module.get_context().create_enum_attribute(kind, 0);
        for f in module.get_functions() {
            f.add_attribute(AttributeLoc::Function, optsize);
        }
    }
    // Without a pipeline (O0, whose lowering keeps values in memory) there is nothing to
    // restore: the lowering hides truncations only from a pipeline.
    let Some(pipeline) = level.pipeline() else { return Ok(()) };
    module
        .run_passes(pipeline, machine, PassBuilderOptions::create())
        .map_err(|e| LlvmError::Passes(e.to_string()))?;
    opaque_trunc::expand(module)?;
    localize_addresses(module);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;

    /// Whether `optimize` at `level` marks a function of `blocks` blocks `optsize`.
    fn marked_optsize(level: OptLevel, blocks: u32) -> bool {
        let cx = Context::create();
        let module = cx.create_module("m");
        let f = module.add_function("f", cx.void_type().fn_type(&[], false), None);
        let b = cx.create_builder();
        let bbs: Vec<_> = (0..blocks).map(|i| cx.append_basic_block(f, &format!("b{i}"))).collect();
        for (i, &bb) in bbs.iter().enumerate() {
            b.position_at_end(bb);
            match bbs.get(i + 1) {
                Some(&next) => b.build_unconditional_branch(next).map(drop),
                None => b.build_return(None).map(drop),
            }
            .unwrap();
        }
        let machine = host_target_machine(level).unwrap();
        optimize(&module, &machine, level).unwrap();
        let kind = Attribute::get_named_enum_kind_id("optsize");
        f.get_enum_attribute(AttributeLoc::Function, kind).is_some()
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_host_has_32_byte_vectors_exactly_when_it_has_avx() {
        let machine = host_target_machine(OptLevel::O0).unwrap();
        assert_eq!(has_32_byte_vectors(&machine), std::arch::is_x86_feature_detected!("avx"));
    }

    #[test]
    fn default_llvm_options_yield_to_the_users() {
        assert_eq!(llvm_args(""), DEFAULT_LLVM_ARGS);
        let want = [DEFAULT_LLVM_ARGS, &["-time-passes"]].concat();
        assert_eq!(llvm_args(" -time-passes "), want);
        // LLVM refuses an option given twice: the user's replaces the default.
        let others = &DEFAULT_LLVM_ARGS[1..];
        for own in ["-grow-region-complexity-budget=10000", "--grow-region-complexity-budget=1"] {
            let want = [others, &["-time-passes", own]].concat();
            assert_eq!(llvm_args(&format!("-time-passes {own}")), want);
        }
    }

    #[test]
    fn programs_of_many_blocks_are_marked_optsize_at_o1_and_o2() {
        let n = OPTSIZE_MIN_BLOCKS;
        assert!(marked_optsize(OptLevel::O2, n));
        assert!(marked_optsize(OptLevel::O1, n));
        assert!(!marked_optsize(OptLevel::O2, n - 1), "a small kernel keeps its speed");
        assert!(!marked_optsize(OptLevel::O3, n));
        assert!(!marked_optsize(OptLevel::O0, n));
    }
}
