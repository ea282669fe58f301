//! The `revmc` binary end to end: `run` in every mode agrees, AOT fills and then uses its
//! store, `store verify` catches a flipped byte in a stored library, `compile` emits each
//! stage.

use std::path::Path;
use std::process::{Command, Output};

/// `MSTORE(0, 5 + 4); RETURN(0, 32)`.
const CODE: &str = "0x600560040160005260206000f3";
const NINE: &str = "output:   0x0000000000000000000000000000000000000000000000000000000000000009";

fn revmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_revmc")).args(args).output().expect("revmc runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_agrees_in_every_mode_and_aot_reuses_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    for mode in ["interp", "jit"] {
        let o = revmc(&["run", "--code", CODE, "--mode", mode]);
        assert!(o.status.success(), "{o:?}");
        let out = stdout(&o);
        assert!(out.contains("status:   Return") && out.contains("gas used: 24"), "{out}");
        assert!(out.contains(NINE), "{out}");
    }
    let first = stdout(&revmc(&["run", "--code", CODE, "--mode", "aot", "--store", store]));
    assert!(first.contains(NINE) && first.contains("compiled and stored"), "{first}");
    let again = stdout(&revmc(&["run", "--code", CODE, "--mode", "aot", "--store", store]));
    assert!(again.contains(NINE) && again.contains("loaded from the store"), "{again}");
    let ls = stdout(&revmc(&["store", "ls", store]));
    assert!(ls.contains("1 artifacts"), "{ls}");
}

#[test]
fn store_verify_catches_a_flipped_byte_in_a_library() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    assert!(revmc(&["run", "--code", CODE, "--mode", "aot", "--store", s]).status.success());
    let ok = revmc(&["store", "verify", s]);
    assert!(ok.status.success() && stdout(&ok).contains("1 artifacts, 0 bad"), "{ok:?}");
    let library = library_in(&store);
    let mut bytes = std::fs::read(&library).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&library, bytes).unwrap();
    let bad = revmc(&["store", "verify", s]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    let out = stdout(&bad);
    assert!(out.contains("BAD ") && out.contains("1 artifacts, 1 bad"), "{out}");
}

fn library_in(store: &Path) -> std::path::PathBuf {
    std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "so"))
        .expect("a stored library")
}

#[test]
fn compile_emits_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("code.hex");
    std::fs::write(&file, CODE).unwrap();
    let f = file.to_str().unwrap();
    let text = |emit: &str| {
        let o = revmc(&["compile", f, "--emit", emit]);
        assert!(o.status.success(), "{emit}: {o:?}");
        stdout(&o)
    };
    // The IR after the passes: the program's ADD of two constants is folded.
    assert!(text("ir").contains("v2 = const 0x9"), "{}", text("ir"));
    assert!(text("llvm").contains("define"), "{}", text("llvm"));
    assert!(text("asm").contains(".text"), "{}", text("asm"));
    for emit in ["obj", "so"] {
        let out = dir.path().join(emit);
        let o = revmc(&["compile", f, "--emit", emit, "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{emit}: {o:?}");
        assert_eq!(&std::fs::read(&out).unwrap()[..4], b"\x7fELF", "{emit} is an ELF file");
    }
}

#[test]
fn compile_refuses_code_too_costly_to_optimize_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wide.hex");
    // 6 KiB of `DUP1 SIGNEXTEND` on a call-data word: estimated far past the optimizing
    // tier's limit (it took 12.8 s to compile at O2).
    let body = "800b".repeat(3 * 1024 - 1);
    std::fs::write(&file, format!("0x36{body}5f5500")).unwrap();
    let f = file.to_str().unwrap();
    let o = revmc(&["compile", f, "--emit", "obj", "-o", "/dev/null"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{o:?}");
    assert!(err.contains("estimated optimizing cost") && err.contains("--no-cost-limit"), "{err}");
    // Its IR, and its code at a first tier's level, are not held to that estimate.
    assert!(revmc(&["compile", f, "--emit", "ir"]).status.success());
    let o = revmc(&["compile", f, "--emit", "obj", "--opt-level", "0", "-o", "/dev/null"]);
    assert!(o.status.success(), "{o:?}");
}
