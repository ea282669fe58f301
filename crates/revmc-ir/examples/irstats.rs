//! Prints IR statistics of one contract of a fixtures file: `irstats FILE NAME [max_variants]`.

use revmc_ir::ir::InstData;
use revmc_ir::{Limits, SpecId, translate};
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&args[1]).unwrap()).unwrap();
    let hex = v["contracts"][&args[2]].as_str().unwrap().trim_start_matches("0x");
    let code: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut limits = Limits::default();
    if let Some(m) = args.get(3) {
        limits.max_variants = m.parse().unwrap();
    }
    let f = translate(&code, SpecId::CANCUN, &limits).unwrap();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut checks = 0;
    for i in &f.insts {
        let k = format!("{i:?}");
        let k = k.split(['(', ' ', '{']).next().unwrap().to_string();
        if let InstData::DynCharge { checks: c, .. } = i {
            checks += c.len();
        }
        *kinds.entry(k).or_default() += 1;
    }
    let mut terms: BTreeMap<String, usize> = BTreeMap::new();
    let mut cases = 0;
    for b in &f.blocks {
        let k = format!("{:?}", b.term);
        let k = k.split(['(', ' ', '{']).next().unwrap().to_string();
        if let revmc_ir::ir::Terminator::Switch { cases: c, .. } = &b.term {
            cases += c.len();
        }
        *terms.entry(k).or_default() += 1;
    }
    println!(
        "bytes {} blocks {} insts {} slots {} checks {checks} cases {cases}",
        code.len(),
        f.blocks.len(),
        f.insts.len(),
        f.num_slots
    );
    println!("{kinds:?}\n{terms:?}");
    if args.get(4).is_some() {
        println!("{f}");
    }
}
