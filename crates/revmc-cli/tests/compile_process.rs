//! Optimizing compilations in a child process (`revmc compile-job`, through
//! `Tuning::optimizing_compile_process`): the same results as the interpreter, a deadline
//! that kills the child, a child that fails or crashes failing one compilation only, and
//! a child at the compile threads' lower priority.

use revm::primitives::keccak256;
use revmc_runtime::harness::{Oracle, execute};
use revmc_runtime::{
    CompileError, CompileProcess, InterpretReason, Lookup, Runtime, RuntimeCacheKey, RuntimeConfig,
    SpecId, Tier, Tuning,
};
use std::path::Path;
use std::time::{Duration, Instant};

const SPEC: SpecId = SpecId::CANCUN;
const GAS: u64 = 1_000_000;

fn runtime(program: &Path, args: &[&str], deadline: Duration) -> Runtime {
    let process = CompileProcess {
        program: program.to_path_buf(),
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    let tuning = Tuning {
        jit_worker_count: 1,
        min_loop_free_instructions: 0,
        optimizing_compile_deadline: deadline,
        optimizing_compile_process: Some(process),
        // At the process's priority: these tests bound the wall time of a compilation
        // killed at its deadline, which a lower priority stretches on a loaded machine.
        compile_nice: 0,
        ..Tuning::default()
    };
    Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() }).unwrap()
}

fn revmc() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_revmc"))
}

fn key(code: &[u8]) -> RuntimeCacheKey {
    RuntimeCacheKey::new(keccak256(code), SPEC)
}

/// Sums `CALLDATASIZE` words of call data in a loop, keeping the running sum in memory at
/// an offset read from call data, and returns it.
const SUM: &[u8] = &[
    0x5f, 0x5f, // sum = 0, i = 0
    0x5b, // loop (2): [i, sum]
    0x80, 0x35, // CALLDATALOAD(i)
    0x90, 0x91, 0x01, // [i, sum + word]
    0x5f, 0x35, 0x60, 0xff, 0x16, // offset = CALLDATALOAD(0) & 0xff
    0x81, 0x81, 0x52, // MSTORE(offset, i) (memory grows with the offset)
    0x51, 0x60, 0x20, 0x01, // i = MLOAD(offset) + 32
    0x80, 0x36, 0x11, 0x60, 2, 0x57, // while CALLDATASIZE > i
    0x50, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3, // MSTORE(0, sum); RETURN(0, 32)
];

#[test]
fn optimizing_code_compiled_in_a_child_process_runs_like_the_interpreter() {
    let rt = runtime(revmc(), &["compile-job"], Duration::from_secs(60));
    let program = rt.compile_sync(key(SUM), SUM).expect("compiled in the child");
    assert_eq!(program.tier(), Tier::Optimized);
    for calldata in [&[0x20; 32][..], &[7; 96], &[0xff; 160], &[]] {
        // SAFETY: the runtime compiled `program` from `SUM` for `SPEC`, and it is alive.
        let got = unsafe { execute(program.entry(), SUM, SPEC, calldata, GAS) };
        assert_eq!(got, Oracle::new(SUM, SPEC).run(calldata, GAS), "{calldata:?}");
    }
    let s = rt.stats();
    // The child's phases are reported, the link is the worker's own.
    assert!(s.phases.codegen > Duration::ZERO && s.phases.link > Duration::ZERO, "{s:?}");
    assert!(s.phases.translate > Duration::ZERO && s.jit_code_bytes > 0, "{s:?}");
}

/// This process's children, running or not yet reaped, whose executable's name starts
/// with `name` (at most the 15 bytes the kernel keeps).
fn children_named(name: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let comm = format!("({}", &name[..name.len().min(15)]);
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid ...`: the parent is the second field after the last ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if ppid == Some(me.as_str()) && stat.contains(&comm) {
            found.push(stat);
        }
    }
    found
}

/// Thousands of arithmetic instructions, builtins among them that constant folding does
/// not remove: seconds to compile at O2, and under the optimizing estimate's limit (past
/// it the compilation would be refused, not timed out).
fn slow_program() -> Vec<u8> {
    let mut code = vec![0x60, 1];
    for i in 0..6000u32 {
        code.extend([0x60, i as u8, [0x01, 0x02, 0x04, 0x06, 0x0a, 0x1b][i as usize % 6]]);
    }
    code.extend([0x5f, 0x52, 0x60, 32, 0x5f, 0xf3]);
    code
}

/// Without call data, returns 1; with, jumps to code that returns 2.
const BRANCH: &[u8] = &[
    0x36, 0x60, 12, 0x57, // JUMPI to 12 with call data
    0x60, 1, 0x5f, 0x52, 0x60, 32, 0x5f, 0xf3, // MSTORE(0, 1); RETURN(0, 32)
    0x5b, 0x60, 2, 0x5f, 0x52, 0x60, 32, 0x5f, 0xf3, // 12: JUMPDEST; MSTORE(0, 2); RETURN
];

#[test]
fn a_tier_up_in_a_child_process_compiles_what_the_first_tier_ran() {
    use revmc_runtime::harness::{Leave, execute_reporting};
    let rt = runtime(revmc(), &["compile-job"], Duration::from_secs(60));
    let k = key(BRANCH);
    let program = || match rt.lookup(k) {
        Lookup::Compiled(p) => Some(p),
        Lookup::Interpret(_) => None,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    rt.record_interpreted(k, &BRANCH.to_vec().into(), u64::MAX / 2);
    wait("the first tier compiles", &|| program().is_some_and(|p| p.tier() == Tier::First));
    let run = |p: &revmc_runtime::CompiledProgram, calldata: &[u8]| {
        // SAFETY: the runtime compiled `p` from `BRANCH` for `SPEC`, and it is alive.
        let (got, hand_off) = unsafe { execute_reporting(p.entry(), BRANCH, SPEC, calldata, GAS) };
        assert_eq!(got, Oracle::new(BRANCH, SPEC).run(calldata, GAS), "{calldata:?}");
        hand_off
    };
    // The first tier runs (and records) the side without call data.
    assert_eq!(run(&program().unwrap(), &[]), None);
    rt.record_first_tier(k, &BRANCH.to_vec().into(), u64::MAX / 2);
    wait("the tier-up lands", &|| program().is_some_and(|p| p.tier() == Tier::Optimized));
    let optimized = program().unwrap();
    assert!(optimized.is_profiled());
    // Compiled in the child from the profile: the side that ran runs compiled, the other
    // leaves to the interpreter.
    assert_eq!(run(&optimized, &[]), None);
    assert_eq!(run(&optimized, &[1]), Some(Leave::Cold));
}

#[test]
fn a_child_past_the_deadline_is_killed() {
    // The binary under a name of this test's own, to find its processes in `/proc`.
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("revmc-deadline-test");
    std::os::unix::fs::symlink(revmc(), &program).unwrap();
    let rt = runtime(&program, &["compile-job"], Duration::from_millis(200));
    let code = slow_program();
    let start = Instant::now();
    let err = rt.compile_sync(key(&code), &code).unwrap_err();
    assert!(matches!(err, CompileError::Timeout { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    // Not abandoned to run on, nor left unreaped: the child is gone when the compilation
    // returns.
    assert_eq!(children_named("revmc-deadline-test"), Vec::<String>::new());
    assert!(matches!(rt.lookup(key(&code)), Lookup::Interpret(InterpretReason::TimedOut)));
}

#[test]
fn a_child_that_fails_or_crashes_fails_one_compilation() {
    let crash = ["-c", "echo 'LLVM ERROR: out of luck' >&2; kill -SEGV $$"];
    for (program, args, said) in [
        ("/bin/false", &[][..], "exit status: 1"),
        // How it ended and what it wrote last to standard error are in the message.
        ("/bin/sh", &crash[..], "SIGSEGV"),
        ("/bin/sh", &crash[..], "LLVM ERROR: out of luck"),
    ] {
        let rt = runtime(Path::new(program), args, Duration::from_secs(60));
        let err = rt.compile_sync(key(SUM), SUM).unwrap_err();
        let CompileError::Backend(message) = &err else { panic!("{err}") };
        assert!(message.contains("compile process") && message.contains(said), "{message}");
        assert!(matches!(rt.lookup(key(SUM)), Lookup::Interpret(InterpretReason::Failed)));
        assert_eq!(rt.stats().failed, 1);
    }
}

#[test]
fn a_child_runs_at_the_compile_threads_priority() {
    // The child says its nice value on standard error, which the failure's message carries.
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("procfs");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a command") + 2..].split(' ').collect();
    let base: i32 = fields[16].parse().expect("this thread's nice value");
    let process = CompileProcess {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "echo nice=$(nice) >&2; exit 1".into()],
    };
    let tuning = Tuning {
        jit_worker_count: 1,
        min_loop_free_instructions: 0,
        optimizing_compile_process: Some(process),
        compile_nice: 7,
        ..Tuning::default()
    };
    let rt = Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() }).unwrap();
    let err = rt.compile_sync(key(SUM), SUM).unwrap_err();
    let CompileError::Backend(message) = &err else { panic!("{err}") };
    let want = format!("nice={}", (base + 7).min(19));
    assert!(message.contains(&want), "{want} not in: {message}");
}

#[test]
fn a_child_that_never_reads_its_request_is_killed_at_the_deadline() {
    // 40 KB of code: the request is larger than a pipe's buffer, so writing it blocks
    // until the child is killed.
    let code = [[0x60, 1, 0x50].repeat(13_000), vec![0x00]].concat();
    let rt = runtime(Path::new("/bin/sleep"), &["30"], Duration::from_millis(200));
    let start = Instant::now();
    let err = rt.compile_sync(key(&code), &code).unwrap_err();
    assert!(matches!(err, CompileError::Timeout { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    assert_eq!(children_named("sleep"), Vec::<String>::new());
}
