//! Makes `REVMC_SOURCE_HASH`: a hash over the sources of the crates that decide what
//! compiled code is (the translator and ABI in `revmc-ir`, the lowering and pipeline
//! here). Part of every AOT artifact's key, so a changed compiler never loads an
//! artifact of another. Compiles the C++ parts (`src/codegen.cpp`, a reusable code
//! generation pipeline, and `src/local_addresses.cpp`) against the LLVM that `llvm-sys`
//! found.

use std::path::{Path, PathBuf};

/// FNV-1a, 64-bit: stable across Rust releases, unlike `DefaultHasher`.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= b as u64;
        *hash = hash.wrapping_mul(0x100_0000_01b3);
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The C++ parts: a reusable code generation pipeline, and the localizing of addresses
/// before it.
const SHIMS: [&str; 2] = ["src/codegen.cpp", "src/local_addresses.cpp"];

/// Compiles [`SHIMS`] with the flags of the `llvm-config` that `llvm-sys` used.
fn codegen_shim() {
    for file in SHIMS {
        println!("cargo:rerun-if-changed={file}");
    }
    let config =
        std::env::var("DEP_LLVM_22_CONFIG_PATH").unwrap_or_else(|_| "llvm-config-22".into());
    let output = std::process::Command::new(&config)
        .arg("--cxxflags")
        .output()
        .unwrap_or_else(|e| panic!("running {config} --cxxflags: {e}"));
    let flags = String::from_utf8_lossy(&output.stdout);
    let mut build = cc::Build::new();
    build.cpp(true).files(SHIMS).warnings(false);
    for flag in flags.split_whitespace() {
        build.flag(flag);
    }
    build.compile("revmc_codegen");
}

fn main() {
    codegen_shim();
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut paths = Vec::new();
    for dir in ["src", "../revmc-ir/src"] {
        let dir = manifest.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        files(&dir, &mut paths);
    }
    paths.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for path in &paths {
        let relative = path.strip_prefix(&manifest).unwrap_or(path);
        fnv(&mut hash, relative.to_string_lossy().as_bytes());
        fnv(&mut hash, &std::fs::read(path).unwrap_or_default());
    }
    println!("cargo:rustc-env=REVMC_SOURCE_HASH={hash:016x}");
}
