//! Every real contract of `../shared/fixtures/contracts` (deployed and creation code) and
//! every program of `../shared/fixtures/bench` translates, and its IR verifies: the
//! translator never refuses code for the shape of its stack.

use revmc_ir::{Limits, SpecId, translate, verifier};
use std::path::{Path, PathBuf};

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} not found", dir.display());
        None
    }
}

fn hex(s: &str) -> Vec<u8> {
    let s = s.trim_start_matches("0x");
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// (name, code) of every contract in `contracts/` and every `pre` code in `bench/`.
fn corpus(fixtures: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for file in json_files(&fixtures.join("contracts")) {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for section in ["contracts", "creation"] {
            for (name, code) in v[section].as_object().into_iter().flatten() {
                out.push((format!("{section}/{name}"), hex(code.as_str().unwrap())));
            }
        }
    }
    for file in json_files(&fixtures.join("bench")) {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for (test, t) in v.as_object().unwrap() {
            for (addr, acct) in t["pre"].as_object().unwrap() {
                let code = hex(acct["code"].as_str().unwrap_or(""));
                if !code.is_empty() {
                    out.push((format!("{test}/{addr}"), code));
                }
            }
        }
    }
    out
}

#[test]
fn every_fixture_contract_translates_and_verifies() {
    let Some(fixtures) = fixtures() else { return };
    let corpus = corpus(&fixtures);
    assert!(corpus.len() > 280, "only {} contracts found", corpus.len());
    let mut refused = Vec::new();
    let mut dynamic = 0;
    for (name, code) in &corpus {
        match translate(code, SpecId::CANCUN, &Limits::default()) {
            Ok(func) => {
                verifier::verify(&func).unwrap_or_else(|e| panic!("{name}: {e}"));
                dynamic += usize::from(func.to_string().contains("base"));
            }
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{} contracts translate, {dynamic} with dynamic-shape blocks", corpus.len());
    assert!(refused.is_empty(), "{} refused:\n{}", refused.len(), refused.join("\n"));
    // The large production contracts need the dynamic mode: it must be exercised here.
    assert!(dynamic > 10, "only {dynamic} contracts use dynamic shapes");
}
