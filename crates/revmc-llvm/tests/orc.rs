//! ORC plumbing: compiled code runs, and dropping its backing frees exactly that code.

use revmc_ir::abi::{EvmContext, STACK_LIMIT, Word};
use revmc_ir::{InstructionResult, Limits, SpecId, translate};
use revmc_llvm::{JitCompiler, OptLevel};

fn empty_ctx(gas: u64) -> EvmContext {
    EvmContext {
        gas_remaining: gas,
        memory: std::ptr::null_mut(),
        memory_len: 0,
        calldata: std::ptr::null(),
        calldata_len: 0,
        code: std::ptr::null(),
        code_len: 0,
        return_offset: 0,
        return_len: 0,
        builtins: std::ptr::null(),
        runtime: std::ptr::null_mut(),
        resume_at: 0,
        env: std::ptr::null(),
        word_ops: revmc_ir::abi::WORD_OPS.as_ptr(),
        builtins_by_ref: revmc_ir::abi::BUILTINS_BY_REF.as_ptr(),
        grow_memory: None,
    }
}

fn run(f: &revmc_llvm::JitFunction, gas: u64) -> (InstructionResult, u64, Vec<Word>) {
    let mut ctx = empty_ctx(gas);
    let mut stack = vec![Word::ZERO; STACK_LIMIT];
    let mut len = 0usize;
    // SAFETY: the context has no memory or builtins, which this code does not use; its
    // word operations are the ABI's.
    let rc = unsafe { (f.entry)(&mut ctx, stack.as_mut_ptr(), &mut len) };
    stack.truncate(len);
    (revmc_ir::abi::exit_code_to_result(rc).unwrap(), ctx.gas_remaining, stack)
}

#[test]
fn compiled_code_runs_at_every_opt_level() {
    // PUSH1 2; PUSH1 3; ADD; PUSH1 7; MUL; STOP
    let func = translate(
        &[0x60, 2, 0x60, 3, 0x01, 0x60, 7, 0x02, 0x00],
        SpecId::CANCUN,
        &Limits::default(),
    )
    .unwrap();
    for level in 0..=3 {
        let mut jit = JitCompiler::new(OptLevel::from_u8(level)).unwrap();
        let f = jit.compile(&func).unwrap();
        assert_eq!(run(&f, 100), (InstructionResult::Stop, 100 - 3 * 4 - 5, vec![Word::from(35)]));
        assert_eq!(run(&f, 10).0, InstructionResult::OutOfGas);
        // The code is loaded; the object's symbols and relocations are not.
        assert!(f.loaded_size > 0 && f.loaded_size < f.object_size, "{f:?}");
    }
}

#[test]
fn first_tier_word_copies_agree_in_both_widths() {
    // PUSH32 A; PUSH32 B; DUP2; SWAP1; STOP: every byte of each word is distinct, so a
    // copy that drops or misplaces either 16-byte half changes the stack.
    let a: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
    let b: [u8; 32] = std::array::from_fn(|i| 0xa0 + i as u8);
    let code: Vec<u8> = [&[0x7f][..], &a, &[0x7f], &b, &[0x81, 0x90, 0x00]]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let func = translate(&code, SpecId::CANCUN, &Limits::default()).unwrap();
    let (a, b) = (Word::from_be_bytes(a), Word::from_be_bytes(b));
    for wide in [false, true] {
        let mut jit = JitCompiler::new(OptLevel::O0).unwrap();
        jit.set_wide_copies(wide);
        let f = jit.compile(&func).unwrap();
        let (rc, _, stack) = run(&f, 100);
        assert_eq!((rc, stack), (InstructionResult::Stop, vec![a, a, b]), "wide copies: {wide}");
    }
}

#[test]
fn dropping_the_backing_removes_exactly_that_code() {
    let a = translate(&[0x60, 1, 0x00], SpecId::CANCUN, &Limits::default()).unwrap();
    let b = translate(&[0x60, 2, 0x00], SpecId::CANCUN, &Limits::default()).unwrap();
    let mut jit = JitCompiler::new(OptLevel::O1).unwrap();
    let fa = jit.compile(&a).unwrap();
    let fb = jit.compile(&b).unwrap();
    let (sa, sb) = (fa.backing.symbol().to_owned(), fb.backing.symbol().to_owned());
    assert!(jit.is_live(&sa) && jit.is_live(&sb));
    drop(fa);
    // The tracker is gone: its symbol no longer resolves, the other one still runs.
    assert!(!jit.is_live(&sa));
    assert!(jit.is_live(&sb));
    assert_eq!(run(&fb, 10).2, vec![Word::from(2)]);
    // Compiling again after freeing works and runs.
    for _ in 0..50 {
        let f = jit.compile(&a).unwrap();
        assert_eq!(run(&f, 10).2, vec![Word::from(1)]);
    }
}
