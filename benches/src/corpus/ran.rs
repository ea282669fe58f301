//! Profile files: the blocks workloads ran, by code hash. `revmc-bench --write-ran` writes
//! what its rows' first tier recorded; `revmc-corpus --ran` compiles those contracts as
//! the runtime's optimizing tier would after such workloads (`Tuning::compile_what_ran`).

use alloy_primitives::B256;
use anyhow::Context;
use revmc_ir::RanBlocks;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The pcs of the blocks that ran, by code hash.
pub type Ran = BTreeMap<B256, BTreeSet<usize>>;

/// Writes `ran` to `path` as a JSON object from code hash to pcs.
#[allow(dead_code, reason = "revmc-bench writes, revmc-corpus reads")]
pub fn write(path: &Path, ran: &Ran) -> anyhow::Result<()> {
    let by_hash: BTreeMap<String, &BTreeSet<usize>> =
        ran.iter().map(|(hash, pcs)| (hash.to_string(), pcs)).collect();
    let json = serde_json::to_string(&by_hash)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Reads what [`write`] wrote.
#[allow(dead_code, reason = "revmc-bench writes, revmc-corpus reads")]
pub fn read(path: &Path) -> anyhow::Result<HashMap<B256, RanBlocks>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let by_hash: BTreeMap<String, Vec<usize>> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    by_hash
        .into_iter()
        .map(|(hash, pcs)| {
            let hash: B256 = hash.parse().with_context(|| format!("code hash {hash}"))?;
            Ok((hash, RanBlocks::from_pcs(pcs)))
        })
        .collect()
}
