//! Test support shared by the workspace tests, the fuzz targets and the benchmarks.
//!
//! [`generate`] turns arbitrary bytes into EVM bytecode that reaches deep code: jumps
//! land on real `JUMPDEST`s, calls go back into the generated contracts, storage and
//! memory use small offsets so reads see earlier writes. [`tx`] runs one transaction over
//! such contracts in revm's interpreter and with compiled frames, and returns everything
//! the two must agree on. [`contracts`] deploys real contracts from the shared fixtures and
//! runs a transaction sequence over them both ways; [`uniswap`] deploys Uniswap v3 from
//! them into such a sequence.

pub mod contracts;
mod generate;
pub mod tx;
pub mod uniswap;

pub use generate::generate;
