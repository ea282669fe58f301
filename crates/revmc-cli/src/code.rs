//! Reading bytecode and call data from the command line: hex (with or without `0x`), or
//! `@FILE` holding hex or raw bytes.

use anyhow::{Context, bail};
use revm::primitives::hardfork::SpecId;
use std::str::FromStr;

/// Bytes from `HEX` or `@FILE` (a file of hex text, or of raw bytes if it is not hex).
pub fn bytes(arg: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = arg.strip_prefix('@') {
        let raw = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let text = String::from_utf8_lossy(&raw);
        return Ok(hex(text.trim()).unwrap_or(raw));
    }
    hex(arg.trim()).with_context(|| format!("{arg:?} is neither hex nor @FILE"))
}

fn hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    Ok(revm::primitives::hex::decode(text)?)
}

/// A fork by name, case-insensitively (`cancun`, `Prague`, `OSAKA`).
pub fn spec(name: &str) -> anyhow::Result<SpecId> {
    let mut chars = name.chars();
    let titled: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
        None => bail!("an empty fork name"),
    };
    SpecId::from_str(&titled)
        .or_else(|_| SpecId::from_str(name))
        .map_err(|_| anyhow::anyhow!("unknown fork {name:?} (e.g. cancun, prague, osaka)"))
}
