//! The corpus: contracts read from `contracts/`-format files (`{"package", "version",
//! "contracts": {name: "0x<deployed code>"}, "creation": {..}}`, deployed code only) and from
//! state-test files (every non-empty `pre` code, named `<test>/<address>`, each distinct
//! code once across the whole corpus).

use anyhow::{Context, bail};
use revm_interpreter::primitives::hex;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One contract to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// The file it came from.
    pub file: String,
    pub name: String,
    pub code: Vec<u8>,
}

/// What a JSON file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Contracts,
    StateTests,
}

/// The `.json` files under `path` (or `path` itself), sorted.
pub fn files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "json") {
                files(&e, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_path_buf());
    } else {
        bail!("{} not found", path.display());
    }
    Ok(())
}

/// `(name, code)` pairs, in the file's order.
pub type Entries = Vec<(String, Vec<u8>)>;

/// Parses one file's text.
pub fn parse(text: &str) -> anyhow::Result<(Format, Entries)> {
    let root: Value = serde_json::from_str(text).context("invalid JSON")?;
    let Value::Object(root) = root else { bail!("not a JSON object") };
    if let Some(contracts) = root.get("contracts") {
        let Value::Object(contracts) = contracts else { bail!("`contracts` is not an object") };
        let mut out = Vec::new();
        for (name, code) in contracts {
            let code = code.as_str().with_context(|| format!("{name}: code is not a string"))?;
            out.push((name.clone(), decode(code).with_context(|| name.clone())?));
        }
        return Ok((Format::Contracts, out));
    }
    let mut out = Vec::new();
    for (test, body) in &root {
        let pre = body.get("pre").and_then(Value::as_object).with_context(|| {
            format!("`{test}` has no `pre` object: neither a contracts file nor a state test")
        })?;
        for (address, account) in pre {
            let Some(code) = account.get("code").and_then(Value::as_str) else { continue };
            let name = format!("{test}/{address}");
            out.push((name.clone(), decode(code).with_context(|| name.clone())?));
        }
    }
    Ok((Format::StateTests, out))
}

fn decode(code: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(code.trim()).map_err(|e| anyhow::anyhow!("code is not hex: {e}"))
}

/// Adds the contracts of `text` (read from `file`) to `out`: empty code is left out, and
/// state-test code already in `seen` is skipped. Returns how many were skipped as duplicates.
pub fn add(
    file: &str,
    text: &str,
    seen: &mut HashSet<Vec<u8>>,
    out: &mut Vec<Contract>,
) -> anyhow::Result<usize> {
    let (format, entries) = parse(text)?;
    let mut duplicates = 0;
    for (name, code) in entries {
        if code.is_empty() {
            continue;
        }
        let new = seen.insert(code.clone());
        if format == Format::StateTests && !new {
            duplicates += 1;
            continue;
        }
        out.push(Contract { file: file.to_string(), name, code });
    }
    Ok(duplicates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_format() {
        let text = r#"{"package": "p", "version": "1", "what": "x",
            "contracts": {"A": "0x6001", "B": "0x", "C": "00"},
            "creation": {"A": "0xfe"}}"#;
        let (format, entries) = parse(text).unwrap();
        assert_eq!(format, Format::Contracts);
        let expected =
            [("A".to_string(), vec![0x60, 1]), ("B".into(), vec![]), ("C".into(), vec![0])];
        assert_eq!(entries, expected);
        let (mut seen, mut out) = (HashSet::new(), Vec::new());
        assert_eq!(add("f.json", text, &mut seen, &mut out).unwrap(), 0);
        let names: Vec<_> = out.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "C"], "empty code is left out, creation code ignored");
        assert!(parse(r#"{"contracts": {"A": "0xzz"}}"#).is_err());
    }

    #[test]
    fn state_test_format() {
        let test = |code: &str| {
            format!(
                r#"{{"env": {{}}, "transaction": {{}}, "post": {{}}, "pre": {{
                    "0xaa": {{"balance": "0x0", "code": "0x", "nonce": "0x0", "storage": {{}}}},
                    "0xbb": {{"balance": "0x0", "code": "{code}", "nonce": "0x0", "storage": {{}}}}
                }}}}"#
            )
        };
        let text = format!(r#"{{"t1": {}, "t2": {}}}"#, test("0x6000"), test("0x6000"));
        let (format, entries) = parse(&text).unwrap();
        assert_eq!(format, Format::StateTests);
        assert_eq!(entries.len(), 4);
        let (mut seen, mut out) = (HashSet::new(), Vec::new());
        assert_eq!(add("s.json", &text, &mut seen, &mut out).unwrap(), 1);
        assert_eq!(
            out,
            [Contract { file: "s.json".into(), name: "t1/0xbb".into(), code: vec![0x60, 0] }]
        );
        assert!(parse(r#"{"t": {"env": {}}}"#).is_err(), "neither format");
    }
}
