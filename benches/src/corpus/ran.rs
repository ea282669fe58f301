//! Profile files: the blocks workloads ran, by code skeleton. `revmc-bench --write-ran`
//! writes what its rows' first tier recorded; `revmc-corpus --ran` compiles those
//! contracts as the runtime's optimizing tier would after such workloads
//! (`Tuning::compile_what_ran`).
//!
//! A deployed contract's code is not always its fixture's: Solidity writes immutables
//! (Uniswap's pool and router have several) into PUSH32 data at deployment. So profiles
//! are keyed by the code's skeleton: its keccak with every PUSH's data zeroed, which
//! keeps every pc and block.

use alloy_primitives::{B256, keccak256};
use anyhow::Context;
use revmc_ir::RanBlocks;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The blocks that ran, by code skeleton ([`skeleton`]).
pub type Ran = BTreeMap<B256, RanBlocks>;

/// The blocks of one code in a file: the pcs of each kind that ran. A bare list of pcs
/// (the format before kinds were told apart) stands for blocks of both kinds.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Blocks {
    Kinds {
        #[serde(rename = "static")]
        statics: Vec<usize>,
        #[serde(rename = "dynamic")]
        dynamics: Vec<usize>,
    },
    Pcs(Vec<usize>),
}

/// The keccak of `code` with every PUSH's data zeroed.
pub fn skeleton(code: &[u8]) -> B256 {
    let mut code = code.to_vec();
    let mut pc = 0;
    while pc < code.len() {
        let push = match code[pc] {
            op @ 0x60..=0x7f => usize::from(op - 0x5f),
            _ => 0,
        };
        let data = (pc + 1).min(code.len())..(pc + 1 + push).min(code.len());
        code[data].fill(0);
        pc += 1 + push;
    }
    keccak256(&code)
}

/// Writes `ran` to `path` as a JSON object from code skeleton to the pcs of each kind.
#[allow(dead_code, reason = "revmc-bench writes, revmc-corpus reads")]
pub fn write(path: &Path, ran: &Ran) -> anyhow::Result<()> {
    let by_hash: BTreeMap<String, Blocks> = (ran.iter())
        .map(|(hash, ran)| {
            let statics = ran.pcs_of_kind(false).collect();
            let blocks = Blocks::Kinds { statics, dynamics: ran.pcs_of_kind(true).collect() };
            (hash.to_string(), blocks)
        })
        .collect();
    let json = serde_json::to_string(&by_hash)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Reads what [`write()`] wrote.
#[allow(dead_code, reason = "revmc-bench writes, revmc-corpus reads")]
pub fn read(path: &Path) -> anyhow::Result<HashMap<B256, RanBlocks>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let by_hash: BTreeMap<String, Blocks> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    by_hash
        .into_iter()
        .map(|(hash, blocks)| {
            let hash: B256 = hash.parse().with_context(|| format!("code skeleton {hash}"))?;
            let ran = match blocks {
                Blocks::Kinds { statics, dynamics } => RanBlocks::from_kinds(statics, dynamics),
                Blocks::Pcs(pcs) => RanBlocks::from_pcs(pcs),
            };
            Ok((hash, ran))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_ignore_push_data_only() {
        // PUSH2 0x1234; PUSH1 5; ADD; and a truncated PUSH32 at the end.
        let a = [0x61, 0x12, 0x34, 0x60, 5, 0x01, 0x7f, 0xaa];
        let b = [0x61, 0xff, 0x00, 0x60, 9, 0x01, 0x7f, 0xbb];
        assert_eq!(skeleton(&a), skeleton(&b));
        // Another opcode, or data read as code, is another skeleton.
        assert_ne!(skeleton(&a), skeleton(&[0x61, 0x12, 0x34, 0x60, 5, 0x02, 0x7f, 0xaa]));
        assert_ne!(skeleton(&a), skeleton(&[0x62, 0x12, 0x34, 0x60, 5, 0x01, 0x7f, 0xaa]));
    }

    #[test]
    fn profiles_round_trip_through_a_file_kinds_included() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ran.json");
        let blocks = RanBlocks::from_kinds([0, 7], [7, 300]);
        let ran: Ran = [(B256::with_last_byte(1), blocks)].into();
        write(&path, &ran).unwrap();
        let read = read(&path).unwrap();
        assert_eq!(read[&B256::with_last_byte(1)], RanBlocks::from_kinds([0, 7], [7, 300]));
        // A file of bare pcs: blocks of both kinds.
        std::fs::write(&path, format!("{{\"{}\":[0,7]}}", B256::with_last_byte(2))).unwrap();
        let read = super::read(&path).unwrap();
        assert_eq!(read[&B256::with_last_byte(2)], RanBlocks::from_pcs([0, 7]));
    }
}
