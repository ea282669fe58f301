//! `revmc-corpus`: compile coverage of a corpus of real contracts.
//!
//! Usage: `revmc-corpus [PATH...] [--json FILE] [--opt-level N] [--translate-only]
//! [--timeout-s S] [--jobs J] [--min-coverage PCT]`. Every contract of every PATH (files or
//! folders of `*.json`, in the `contracts/` format or as state tests) is translated and
//! JIT-compiled in a child process, one contract at a time per child, so a hang or a crash
//! loses only that contract (reported `refused` with reason `timeout` or `crashed: ...`).
//! Prints one line per contract and a summary; exits 1 below `--min-coverage`, 2 on a usage
//! error. With no PATH, `../shared/fixtures/contracts` beside the workspace, or `SKIPPED` if
//! it is absent.

#[path = "../corpus/mod.rs"]
mod corpus;

fn main() -> std::process::ExitCode {
    corpus::main()
}
