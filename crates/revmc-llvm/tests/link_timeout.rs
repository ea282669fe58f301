//! A linker that never finishes is killed at the link timeout and the compilation fails
//! with an error, instead of holding its thread. (One test: it sets `REVMC_CC`.)

use revmc_ir::{Limits, SpecId, translate};
use revmc_llvm::{AotCompiler, LlvmError, OptLevel};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

#[test]
fn a_wedged_linker_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cc");
    let pid_file = dir.path().join("pid");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho $$ > {}\nexec sleep 600\n", pid_file.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY: this test binary has this one test and sets the variable before any thread
    // of its own exists.
    unsafe { std::env::set_var("REVMC_CC", &script) };
    let ir = translate(&[0x60, 1, 0x00], SpecId::CANCUN, &Limits::default()).unwrap();
    let aot = AotCompiler::new(OptLevel::O0).unwrap().with_link_timeout(Duration::from_millis(300));
    let err = aot.compile(&ir, "evm_wedged").unwrap_err();
    assert!(matches!(&err, LlvmError::Link(m) if m.contains("timed out")), "{err}");
    // The linker was killed, not left running.
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    // SAFETY: signal 0 only checks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    assert!(!alive, "the linker {pid} still runs");
}
