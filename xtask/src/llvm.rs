//! LLVM 22 setup: find `llvm-config-22`, and install LLVM with apt-get when it is missing.
//!
//! `llvm-sys` links LLVM statically by default. On Debian/Ubuntu that needs more than
//! `llvm-22-dev`: `llvm-config-22 --libnames --link-static` lists `libPolly.a`/`libPollyISL.a`
//! (shipped in `libpolly-22-dev`) and `--system-libs` asks for `-lz -lzstd -lxml2`; `llvm-22-dev`
//! already depends on `libxml2-dev` and `libffi-dev`, but not on `libzstd-dev` or `zlib1g-dev`.
//! `g++` compiles the small C++ shim that the LLVM backend builds with `cc`.
//! This module never links to LLVM itself, so `xtask` builds on machines without it.

use anyhow::{Context, bail};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The LLVM major version the workspace is pinned to.
const MAJOR: &str = "22";
/// The variable `llvm-sys` 221 reads to find LLVM outside `PATH`.
const PREFIX_VAR: &str = "LLVM_SYS_221_PREFIX";
/// Debian/Ubuntu packages needed to link LLVM 22 statically through `llvm-sys`.
const APT_PACKAGES: &[&str] =
    &["llvm-22-dev", "libpolly-22-dev", "libzstd-dev", "zlib1g-dev", "g++"];
/// Where Debian's packages install LLVM 22; only then are [`APT_PACKAGES`] checked with dpkg.
const DEBIAN_PREFIX: &str = "/usr/lib/llvm-22";
/// Places where `llvm-config` may live when `llvm-config-22` is not on `PATH`.
const FALLBACKS: &[&str] = &[
    "/usr/lib/llvm-22/bin/llvm-config",
    "/opt/homebrew/opt/llvm@22/bin/llvm-config",
    "/usr/local/opt/llvm@22/bin/llvm-config",
];

/// A usable LLVM 22 installation.
#[derive(Debug)]
pub(crate) struct Llvm {
    /// The `llvm-config` that answered.
    config: PathBuf,
    /// `llvm-config --version`.
    version: String,
    /// Installation prefix, as reported by `llvm-config --prefix`.
    prefix: PathBuf,
    /// Whether `llvm-sys` needs [`PREFIX_VAR`] to find this installation.
    needs_prefix_var: bool,
}

impl Llvm {
    /// Sets [`PREFIX_VAR`] on `cmd` when `llvm-sys` would not find this LLVM on its own.
    pub(crate) fn apply_env(&self, cmd: &mut Command) {
        if self.needs_prefix_var {
            cmd.env(PREFIX_VAR, &self.prefix);
        }
    }

    fn report(&self) {
        let note =
            if self.needs_prefix_var { format!("; setting {PREFIX_VAR}") } else { String::new() };
        let (config, prefix) = (self.config.display(), self.prefix.display());
        eprintln!("xtask: found LLVM {} ({config}, prefix {prefix}{note})", self.version);
    }
}

/// Makes sure LLVM 22 and the packages needed to link it are installed, installing them with
/// apt-get when running as root. Exits the process with code 1 if it cannot install them.
pub(crate) fn ensure_llvm() -> anyhow::Result<Llvm> {
    let (llvm, missing) = match find_llvm()? {
        Some(llvm) => {
            let missing = missing_packages(&llvm);
            (Some(llvm), missing)
        }
        None => (None, APT_PACKAGES.to_vec()),
    };
    if let Some(llvm) = llvm.filter(|_| missing.is_empty()) {
        llvm.report();
        return Ok(llvm);
    }
    install(&missing)?;
    let llvm = find_llvm()?.context("LLVM 22 is still missing after apt-get install")?;
    let missing = missing_packages(&llvm);
    if !missing.is_empty() {
        bail!("packages still missing after apt-get install: {}", missing.join(" "));
    }
    llvm.report();
    Ok(llvm)
}

/// Looks for LLVM 22 where `llvm-sys` would, then at the usual install locations.
fn find_llvm() -> anyhow::Result<Option<Llvm>> {
    // `llvm-sys` looks only in `$LLVM_SYS_221_PREFIX/bin` when the variable is set.
    if let Some(prefix) = std::env::var_os(PREFIX_VAR) {
        let config = Path::new(&prefix).join("bin/llvm-config");
        return match version(&config) {
            Some(found) => Ok(Some(found_at(&config, &found, false))),
            None => {
                bail!("{PREFIX_VAR} is set, but {} is not an LLVM 22 llvm-config", config.display())
            }
        };
    }
    for config in [format!("llvm-config-{MAJOR}"), "llvm-config".into()] {
        if let Some(found) = version(Path::new(&config)) {
            return Ok(Some(found_at(Path::new(&config), &found, false)));
        }
    }
    for config in FALLBACKS.iter().map(Path::new) {
        if let Some(found) = version(config) {
            return Ok(Some(found_at(config, &found, true)));
        }
    }
    Ok(None)
}

/// Describes an `llvm-config` that answered with an LLVM 22 version.
fn found_at(config: &Path, version: &str, needs_prefix_var: bool) -> Llvm {
    let prefix = output(Command::new(config).arg("--prefix")).unwrap_or_default();
    Llvm { config: config.into(), version: version.into(), prefix: prefix.into(), needs_prefix_var }
}

/// `llvm-config --version`, if `config` runs and reports LLVM 22.
fn version(config: &Path) -> Option<String> {
    let version = output(Command::new(config).arg("--version"))?;
    version.starts_with(&format!("{MAJOR}.")).then_some(version)
}

/// Which of [`APT_PACKAGES`] dpkg says are not installed; empty for a non-Debian LLVM.
fn missing_packages(llvm: &Llvm) -> Vec<&'static str> {
    if llvm.prefix != Path::new(DEBIAN_PREFIX) || !Path::new("/usr/bin/dpkg-query").exists() {
        return Vec::new();
    }
    let installed = |pkg: &str| {
        let status = output(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Abbrev}", pkg]));
        status.is_some_and(|status| status.starts_with("ii"))
    };
    APT_PACKAGES.iter().copied().filter(|pkg| !installed(pkg)).collect()
}

/// Installs `packages` with apt-get, running `apt-get update` once if the package lists are stale.
fn install(packages: &[&str]) -> anyhow::Result<()> {
    let list = packages.join(" ");
    let has_apt = Path::new("/usr/bin/apt-get").exists();
    if !has_apt {
        eprintln!(
            "xtask: LLVM 22 is missing; install LLVM 22 and put llvm-config-22 on PATH \
             (or set {PREFIX_VAR} to its prefix)"
        );
        std::process::exit(1);
    }
    if !is_root() {
        let what = if packages.len() == APT_PACKAGES.len() {
            "LLVM 22 is missing".to_owned()
        } else {
            format!("LLVM 22 needs {list}")
        };
        eprintln!("xtask: {what}; run: sudo apt-get update && sudo apt-get install -y {list}");
        std::process::exit(1);
    }
    eprintln!("xtask: installing {list} with apt-get");
    if apt_install(packages)? {
        return Ok(());
    }
    eprintln!("xtask: apt-get could not find a package; running apt-get update and retrying");
    let status = apt().arg("update").status().context("failed to run apt-get update")?;
    if !status.success() {
        bail!("apt-get update failed ({status})");
    }
    if !apt_install(packages)? {
        bail!("apt-get install -y {list} failed: a package is unknown even after apt-get update");
    }
    Ok(())
}

/// Runs `apt-get install`; `Ok(false)` means a package was unknown (stale or missing lists).
fn apt_install(packages: &[&str]) -> anyhow::Result<bool> {
    let out = apt()
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .context("failed to run apt-get install")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    if out.status.success() {
        return Ok(true);
    }
    const STALE: &[&str] =
        &["Unable to locate package", "has no installation candidate", "Unable to fetch"];
    if STALE.iter().any(|msg| stderr.contains(msg)) {
        return Ok(false);
    }
    bail!("apt-get install failed ({})", out.status)
}

fn apt() -> Command {
    let mut cmd = Command::new("/usr/bin/apt-get");
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// Whether we run as root, according to `id -u` (avoids a libc dependency).
fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid == "0")
}

/// Trimmed stdout of `cmd` if it ran and succeeded.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
