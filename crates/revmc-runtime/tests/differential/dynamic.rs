//! Code reached at many stack heights: blocks that collapse into the dynamic-stack mode
//! (a run-time base, the stack in the frame's array), against the interpreter, at the
//! stack limits and at every gas limit around the point where they bite.

use crate::harness::{Case, words};
use revmc_ir::{Limits, SpecId, translate};
use revmc_runtime::harness::{Leave, Oracle};
use revmc_runtime::{InstructionResult, U256};

/// Bytecode with labels: jumps are `PUSH2 label`, patched when the label is placed.
#[derive(Default)]
struct Code {
    bytes: Vec<u8>,
    labels: Vec<Option<u16>>,
    fixups: Vec<(usize, usize)>,
}

impl Code {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    /// Places `l` here, with its JUMPDEST.
    fn place(&mut self, l: usize) -> &mut Self {
        self.labels[l] = Some(self.bytes.len() as u16);
        self.op(0x5b)
    }

    fn op(&mut self, op: u8) -> &mut Self {
        self.bytes.push(op);
        self
    }

    fn ops(&mut self, ops: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(ops);
        self
    }

    fn push(&mut self, v: u8) -> &mut Self {
        self.ops(&[0x60, v])
    }

    /// PUSH2 of `l`'s pc.
    fn push_label(&mut self, l: usize) -> &mut Self {
        self.fixups.push((self.bytes.len() + 1, l));
        self.ops(&[0x61, 0, 0])
    }

    /// CALLDATALOAD of word `i`.
    fn arg(&mut self, i: u8) -> &mut Self {
        self.push(i * 32).op(0x35)
    }

    /// A loop head that pushes one entry per turn, `i + 1` on the `i` the stack's top
    /// holds, and turns while `arg0 > i + 1`; `in_head` (stack-neutral) runs first in
    /// every turn.
    fn growing_loop(&mut self, in_head: &[u8]) -> &mut Self {
        let head = self.label();
        self.place(head).ops(in_head); // [.., i]
        self.op(0x80).push(1).op(0x01); // DUP1; i + 1 on top: [.., i, i+1]
        self.op(0x80).arg(0).op(0x11); // n > i+1
        self.push_label(head).op(0x57) // JUMPI head
    }

    fn finish(&mut self) -> Vec<u8> {
        for &(at, l) in &self.fixups {
            let pc = self.labels[l].expect("label placed");
            self.bytes[at..at + 2].copy_from_slice(&pc.to_be_bytes());
        }
        std::mem::take(&mut self.bytes)
    }
}

/// Asserts that `code` really runs in the dynamic mode: its IR has a run-time base.
fn assert_dynamic(code: &[u8]) {
    let func = translate(code, SpecId::CANCUN, &Limits::default()).expect("translates");
    assert!(func.to_string().contains("base"), "no dynamic-shape block");
}

/// The least gas with which the interpreter gets past out-of-gas (found by bisection:
/// with less, every run halts `OutOfGas`).
fn gas_threshold(oracle: &Oracle, calldata: &[u8]) -> u64 {
    let (mut lo, mut hi) = (0u64, 30_000_000u64);
    assert_ne!(oracle.run(calldata, hi).result, InstructionResult::OutOfGas);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if oracle.run(calldata, mid).result == InstructionResult::OutOfGas {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Checks `case` with every gas limit from 40 below the threshold to 3 above it.
fn check_around_threshold(code: &[u8], calldata: &[u8], want: InstructionResult) {
    let case = Case::new(code, SpecId::CANCUN);
    let t = gas_threshold(&Oracle::new(code, SpecId::CANCUN), calldata);
    for gas in t.saturating_sub(40)..t + 3 {
        case.check(calldata, gas);
    }
    assert_eq!(case.check(calldata, t).result, want);
    assert_eq!(case.check(calldata, t - 1).result, InstructionResult::OutOfGas);
}

/// A loop that pushes one entry per iteration back to its own head, `arg0` times, then
/// adds the top two and stops: the head is reached at every height up to `arg0`. `before`
/// runs once first and `in_head` (stack-neutral) at the head of every turn.
fn growing_loop_with(before: &[u8], in_head: &[u8]) -> Vec<u8> {
    let mut c = Code::default();
    let done = c.label();
    c.ops(before).push(0).growing_loop(in_head);
    c.place(done).op(0x80).op(0x80).op(0x01).op(0x00); // DUP1 DUP1 ADD STOP
    c.finish()
}

fn growing_loop() -> Vec<u8> {
    growing_loop_with(&[], &[])
}

#[test]
fn a_block_reached_at_seventeen_and_more_heights() {
    let code = growing_loop();
    assert_dynamic(&code);
    let case = Case::new(&code, SpecId::CANCUN);
    // The loop peaks at n + 3 entries: 1021 iterations still fit.
    for n in [1u64, 2, 16, 17, 18, 100, 1000, 1021] {
        let out = case.check_gas_edges(&words(&[U256::from(n)]), 24);
        assert_eq!(out.result, InstructionResult::Stop, "n = {n}");
        assert_eq!(out.stack.len() as u64, n + 2);
    }
    // One more and a push inside the loop overflows.
    for n in [1022u64, 1023, 1024, 2000] {
        let out = case.check(&words(&[U256::from(n)]), 30_000_000);
        assert_eq!(out.result, InstructionResult::StackOverflow, "n = {n}");
    }
    // Out of gas and overflow race in one section: exact status at every gas limit.
    check_around_threshold(&code, &words(&[U256::from(1100)]), InstructionResult::StackOverflow);
}

/// 20 call sites, each one entry deeper than the last, call `f(a, b) = a * b + i`, an
/// internal function of two blocks; every result stays on the stack, so the final STOP
/// shows every value and the whole stack.
fn shared_function(sites: u8) -> Vec<u8> {
    let mut c = Code::default();
    let (f, f2, end) = (c.label(), c.label(), c.label());
    for i in 0..sites {
        let ret = c.label();
        c.push_label(ret).arg(0).arg(1).push(i); // [.., ret, a, b, i]
        c.push_label(f).op(0x56);
        c.place(ret); // [.., f(a, b)]
    }
    c.push_label(end).op(0x56);
    // f: [.., ret, a, b, i] -> [.., ret, a * b + i]
    c.place(f).op(0x91).op(0x02).op(0x01); // SWAP2 MUL ADD: [.., ret, a*b + i]
    c.push_label(f2).op(0x56);
    c.place(f2).op(0x90).op(0x56); // SWAP1 JUMP
    c.place(end).op(0x00);
    c.finish()
}

#[test]
fn one_internal_function_called_from_many_depths() {
    let code = shared_function(20);
    assert_dynamic(&code);
    let case = Case::new(&code, SpecId::CANCUN);
    let calldata = words(&[U256::from(7), U256::MAX - U256::from(3)]);
    let out = case.check_gas_edges(&calldata, 60);
    assert_eq!(out.result, InstructionResult::Stop);
    assert_eq!(out.stack.len(), 20);
    // Site 5 left 7 * (2^256 - 4) + 5, wrapping.
    assert_eq!(out.stack[5], U256::from(7) * (U256::MAX - U256::from(3)) + U256::from(5));
    for spec in [SpecId::FRONTIER, SpecId::LONDON, SpecId::OSAKA] {
        Case::new(&code, spec).check(&calldata, 100_000);
    }
}

/// `f(n)`: returns 0 if `n == 0`, else `f(n - 1) + 1`, keeping one return address per
/// level on the stack: with `arg0 = n` the stack peaks at `n + 4` entries.
fn recursion() -> Vec<u8> {
    let mut c = Code::default();
    let (f, ret, base, top) = (c.label(), c.label(), c.label(), c.label());
    c.push_label(top).arg(0).push_label(f).op(0x56); // f(n), returning to `top`
    // f: [.., ret, n]
    c.place(f).op(0x80).op(0x15).push_label(base).op(0x57); // DUP1 ISZERO; JUMPI base
    c.push(1).op(0x90).op(0x03); // n - 1
    c.push_label(ret).op(0x90).push_label(f).op(0x56); // f(n - 1) returning to `ret`
    c.place(ret).push(1).op(0x01).op(0x90).op(0x56); // [.., ret, r] -> r + 1, return
    c.place(base).op(0x90).op(0x56); // [.., ret, 0] -> 0, return
    c.place(top).op(0x00);
    c.finish()
}

#[test]
fn recursion_to_exactly_the_stack_limit() {
    let code = recursion();
    assert_dynamic(&code);
    let case = Case::new(&code, SpecId::CANCUN);
    // Entered at height 2 + depth; the base case pushes two more: n + 4 at the peak.
    let out = case.check_gas_edges(&words(&[U256::from(1020)]), 30);
    assert_eq!(out.result, InstructionResult::Stop);
    assert_eq!(out.stack, [U256::from(1020)]);
    for n in [1021u64, 1022, 5000] {
        let out = case.check(&words(&[U256::from(n)]), 30_000_000);
        assert_eq!(out.result, InstructionResult::StackOverflow, "n = {n}");
    }
    check_around_threshold(&code, &words(&[U256::from(1021)]), InstructionResult::StackOverflow);
    for n in [0u64, 1, 17, 300] {
        let out = case.check(&words(&[U256::from(n)]), 30_000_000);
        assert_eq!(out.stack, [U256::from(n)]);
    }
}

/// Pushes `arg0` entries, then a loop pops two per iteration and pushes one (a block
/// reached at ever lower heights) until SWAP3 underflows inside it.
fn shrinking_loop() -> Vec<u8> {
    let mut c = Code::default();
    let (fill, head) = (c.label(), c.label());
    // fill: [n] -> [n, n-1, ..., 1, 0] then the loop.
    c.arg(0).place(fill).op(0x80).op(0x15).push_label(head).op(0x57); // DUP1 ISZERO JUMPI
    c.push(1).op(0x81).op(0x03).push_label(fill).op(0x56); // DUP2 - 1: push n-1
    c.place(head).op(0x92).op(0x01).op(0x80).op(0x50).push_label(head).op(0x56); // SWAP3 ADD..
    c.finish()
}

#[test]
fn underflow_inside_a_dynamic_block() {
    let code = shrinking_loop();
    assert_dynamic(&code);
    let case = Case::new(&code, SpecId::CANCUN);
    for n in [0u64, 1, 2, 3, 4, 20, 300] {
        let out = case.check(&words(&[U256::from(n)]), 30_000_000);
        assert_eq!(out.result, InstructionResult::StackUnderflow, "n = {n}");
    }
    check_around_threshold(&code, &words(&[U256::from(40)]), InstructionResult::StackUnderflow);
}

/// `growing_loop` with a covered MLOAD(0x40) at the head of the loop, which the IR passes
/// drop, merging the dynamic-shape sections on either side into one.
fn growing_loop_reading_memory() -> Vec<u8> {
    // MSTORE(0x40, 0x80) first; MLOAD(0x40), popped, at the head.
    growing_loop_with(&[0x60, 0x80, 0x60, 0x40, 0x52], &[0x60, 0x40, 0x51, 0x50])
}

#[test]
fn sections_merged_across_a_covered_load_fail_where_the_interpreter_does() {
    let code = growing_loop_reading_memory();
    assert_dynamic(&code);
    let case = Case::new(&code, SpecId::CANCUN);
    for n in [1u64, 17, 300] {
        let out = case.check_gas_edges(&words(&[U256::from(n)]), 60);
        assert_eq!(out.result, InstructionResult::Stop, "n = {n}");
    }
    // Overflow in the merged section, racing out-of-gas: exact status at every gas limit.
    check_around_threshold(&code, &words(&[U256::from(1100)]), InstructionResult::StackOverflow);
}

/// The growing loop (`arg0` turns), then a jump to the pc `arg1` names, through the
/// dispatch of the loop's dynamic shape, to one of three blocks: one that reads two entries
/// deep, one twelve, and one that stores to memory (a call that ends its first section)
/// before it reads fifteen deep. Returns the code and the three blocks' pcs.
fn loop_then_unresolved_jump() -> (Vec<u8>, [u16; 3]) {
    let mut c = Code::default();
    let (shallow, deep, later) = (c.label(), c.label(), c.label());
    c.push(0).growing_loop(&[]);
    c.arg(1).op(0x56); // JUMP to calldata[32]
    c.place(shallow).op(0x81).op(0x00); // DUP2 STOP
    c.place(deep).op(0x8b).op(0x00); // DUP12 STOP
    c.place(later).push(0x20).push(0).op(0x52).op(0x8e).op(0x00); // MSTORE; DUP15 STOP
    let code = c.finish();
    let pcs = [shallow, deep, later].map(|l| c.labels[l].expect("placed"));
    (code, pcs)
}

#[test]
fn a_dispatch_leaves_a_jump_its_target_would_fail_to_the_interpreter() {
    let (code, pcs) = loop_then_unresolved_jump();
    assert_dynamic(&code);
    // The dispatch tests the targets' bounds, and their blocks check nothing themselves.
    let ir = translate(&code, SpecId::CANCUN, &Limits::default()).expect("translates").to_string();
    let switch = ir.lines().find(|l| l.trim_start().starts_with("switch")).expect("a dispatch");
    assert!(switch.contains("..=") && switch.contains(", else "), "no guard: {switch}");
    let deep = format!("{}: block", pcs[1]);
    assert!(switch.contains(&deep), "no case for the deep block: {switch}");
    let case = Case::new(&code, SpecId::CANCUN);
    for pc in pcs {
        // The jump is taken with n + 1 entries: each block fails below its depth.
        for n in [1u64, 2, 3, 10, 11, 12, 13, 14, 15, 40] {
            let calldata = words(&[U256::from(n), U256::from(pc)]);
            let out = case.check(&calldata, 30_000_000);
            let needs = match pc {
                _ if pc == pcs[0] => 2,
                _ if pc == pcs[1] => 12,
                _ => 15,
            };
            // A DUP too deep fails as revm reports it, `StackOverflow`.
            let stops = out.result == InstructionResult::Stop;
            assert_eq!(stops, n + 1 >= needs, "target {pc}, n = {n}: {:?}", out.result);
        }
    }
    // Out of gas racing the underflow the guard left to the interpreter.
    let calldata = words(&[U256::from(3), U256::from(pcs[2])]);
    check_around_threshold(&code, &calldata, InstructionResult::StackOverflow);
    Case::new(&code, SpecId::CANCUN)
        .check_gas_edges(&words(&[U256::from(30), U256::from(pcs[2])]), 40);
}

/// As `loop_then_unresolved_jump`, counting from calldata[96] up to calldata[0], into one
/// block that branches on calldata[64] either to a block reading sixteen entries deep or
/// on to add 7 to the top and stop. Each input's numbers and each run's top differ from
/// those the runs before left in a reused stack array.
fn unresolved_jump_into_a_branch() -> (Vec<u8>, u16) {
    let mut c = Code::default();
    let (case, deep) = (c.label(), c.label());
    c.arg(3).growing_loop(&[]);
    c.arg(1).op(0x56); // JUMP to calldata[32]
    c.place(case).arg(2).push_label(deep).op(0x57); // JUMPI(deep, calldata[64])
    c.push(7).op(0x01).op(0x00); // ADD 7 STOP
    c.place(deep).op(0x8f).op(0x00); // DUP16 STOP
    let code = c.finish();
    let pc = c.labels[case].expect("placed");
    (code, pc)
}

#[test]
fn a_jump_its_guard_leaves_to_the_interpreter_keeps_the_whole_stack() {
    // Compiled from a profile of a frame that took the deep way, the case's guard asks
    // for what the deep block reads: a frame that takes the other way with fewer entries
    // continues in the interpreter, with every entry the dispatch's shape held in slots.
    // Profiled first on such a frame, the first tier's guard asks only for what the case
    // block reads: the frame runs on in compiled code, which records the way it took.
    let (code, pc) = unresolved_jump_into_a_branch();
    assert_dynamic(&code);
    let others = [(2, 0), (5, 0), (14, 0), (15, 0), (40, 0), (1, 1), (14, 1)];
    for first in [(20u64, 1u64), (1, 0)] {
        let case = Case::new(&code, SpecId::CANCUN);
        let inputs = [first, (20, 1), (1, 0)].into_iter().chain(others);
        for (i, (n, deep)) in inputs.enumerate() {
            let from = 1000 * (i as u64 + 1);
            let calldata = words(&[from + n, pc as u64, deep, from].map(U256::from));
            let (out, left) = case.check_reporting(&calldata, 30_000_000);
            let stops = out.result == InstructionResult::Stop;
            assert_eq!(stops, deep == 0 || n + 1 >= 16, "n = {n}, deep = {deep}: {out:?}");
            // The guard compiled from the deep way's profile refuses every frame with
            // fewer than the sixteen entries the deep block reads, whichever way it goes.
            let refused = first.1 == 1 && n + 1 < 16;
            let at_guard = left == Some(Leave::Guard);
            assert_eq!(at_guard, refused, "first {first:?}, n = {n}, deep = {deep}: {left:?}");
        }
    }
}
