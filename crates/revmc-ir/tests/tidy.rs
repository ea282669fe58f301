//! Repository hygiene as an ordinary test: every Rust file opens with a `//!` doc, and
//! every `unsafe` block or impl has a `// SAFETY:` comment just above it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() && name != "target" && !name.starts_with('.') {
            rust_files(&p, out);
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_file_has_a_module_doc_and_every_unsafe_a_safety_note() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "benches", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} Rust files under {}", files.len(), root.display());
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if !text.starts_with("//!") {
            problems.push(format!("{}: does not start with a `//!` doc", f.display()));
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_unsafe = t.contains("unsafe {") || t.starts_with("unsafe impl");
            if is_unsafe && !t.starts_with("//") && !t.contains("\"unsafe") {
                let above = &lines[i.saturating_sub(4)..i];
                if !above.iter().any(|l| l.contains("SAFETY:")) && !line.contains("SAFETY:") {
                    problems.push(format!(
                        "{}:{}: unsafe without `// SAFETY:`",
                        f.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
