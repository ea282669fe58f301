//! Helpers to run cargo from the workspace root and report each step.
//!
//! Cargo is taken from the `CARGO` environment variable that `cargo run` sets, so the nested
//! invocations use the same toolchain as `cargo xtask` itself.

use crate::llvm::Llvm;
use anyhow::{Context, bail};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").into()
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A `cargo <args>` command that runs in the workspace root, with the LLVM environment applied.
pub(crate) fn cargo(llvm: &Llvm, args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo_bin());
    cmd.args(args).current_dir(workspace_root());
    llvm.apply_env(&mut cmd);
    cmd
}

/// Whether `cargo <name>` is available (e.g. `fmt`, `clippy`), probed with `--version`.
pub(crate) fn has_subcommand(name: &str) -> bool {
    Command::new(cargo_bin())
        .args([name, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Prints a header for `title`, runs `cmd` with inherited stdio and fails if it does not succeed.
pub(crate) fn step(title: &str, mut cmd: Command) -> anyhow::Result<()> {
    eprintln!("xtask: ==> {title}");
    let start = Instant::now();
    let status = cmd.status().with_context(|| format!("failed to spawn `{title}`"))?;
    if !status.success() {
        bail!("`{title}` failed ({status}) after {:.1?}", start.elapsed());
    }
    Ok(())
}
