//! The compile service (`Runtime`): lookups, hotness, de-duplicated synchronous compiles,
//! generations, eviction, shutdown, and whole transactions through it. Compiled programs
//! are run and compared with revm's interpreter, so a wrong program fails here too.

mod common;
mod evm;
mod lifecycle;
mod threads;
