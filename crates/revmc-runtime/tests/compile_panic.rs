//! A compiler panic fails one compilation on every compile path — the synchronous
//! `JitCache`, `JitProgram::compile`, the service's workers — and the next compilation
//! works. (One test: the failpoint is process-wide.)

#[path = "service/common.rs"]
mod common;

use common::*;
use revmc_runtime::evm::JitCache;
use revmc_runtime::{CompileError, JitProgram, OptLevel, RuntimeError, SyncCompiler};
use revmc_worker::FAILPOINT_COMPILE_PANIC;
use std::sync::atomic::Ordering;

#[test]
fn a_compiler_panic_fails_one_compilation_on_every_path() {
    FAILPOINT_COMPILE_PANIC.store(true, Ordering::SeqCst);
    let mut cache = JitCache::new(OptLevel::O1).unwrap();
    assert!(cache.get_or_compile(key(&program(1)), &program(1)).is_none());
    assert!(cache.failures[0].1.contains("panicked"), "{:?}", cache.failures);
    let mut compiler = SyncCompiler::new(OptLevel::O1).unwrap();
    let err = JitProgram::compile(&mut compiler, &program(1), SPEC).unwrap_err();
    assert!(matches!(err, RuntimeError::Compile(CompileError::Panicked(_))), "{err}");
    let rt = runtime(tuning());
    let err = rt.compile_sync(key(&program(1)), &program(1)).unwrap_err();
    assert!(matches!(err, CompileError::Panicked(_)), "{err}");

    FAILPOINT_COMPILE_PANIC.store(false, Ordering::SeqCst);
    let p = cache.get_or_compile(key(&program(2)), &program(2)).expect("the cache compiles again");
    run_checked(&p, &program(2), &[]);
    let p = rt.compile_sync(key(&program(2)), &program(2)).expect("the worker survived");
    run_checked(&p, &program(2), &[]);
    // The same compiler, replaced after its panic, compiles again.
    JitProgram::compile(&mut compiler, &program(2), SPEC).unwrap();
}
