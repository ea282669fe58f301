//! Ethereum GeneralStateTests through revm, with frames in revm's interpreter or compiled
//! by revmc: the runner behind `cargo xtask statetest`, also used by the fixture benchmarks.

pub mod merkle;
pub mod runner;
pub mod skip;
