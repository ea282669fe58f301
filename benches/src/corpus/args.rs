//! Command-line options of `revmc-corpus`, parsed by hand like the other bench binaries.

use revmc_llvm::OptLevel;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const USAGE: &str = "\
usage: revmc-corpus [PATH...] [--json FILE] [--opt-level N | --tier T] [--translate-only]
                    [--timeout-s S] [--jobs J] [--min-coverage PCT] [--max-variants N]
                    [--chunk-cost C] [--ran FILE]

  PATH              contract files or folders (recursively *.json): the `contracts/` format
                    ({\"contracts\": {name: \"0x..\"}}) or state tests (every `pre` code);
                    default ../shared/fixtures/contracts beside the workspace
  --json FILE       also write one record per contract as JSON to FILE
  --opt-level N     LLVM optimization level 0..3 (default 2)
  --tier T          `first` or `optimized`: the runtime's default level of that JIT tier
                    (Tuning::first_tier_opt_level, Tuning::jit_opt_level)
  --translate-only  only translate to IR, in this process (no LLVM)
  --timeout-s S     per-contract time bound in seconds (default 60); past it: `timeout`
  --jobs J          contracts compiled in parallel, one child process each (default 1;
                    --translate-only runs in this process, one at a time)
  --min-coverage P  exit 1 if fewer than P % of the contracts compiled (translated)
  --max-variants N  the translator's variant bound (default revmc_ir::DEFAULT_MAX_VARIANTS)
  --chunk-cost C    first-tier programs estimated costlier than C are split into functions
                    of about C each (default revmc_ir::DEFAULT_FIRST_TIER_CHUNK_COST)
  --ran FILE        only the contracts FILE has a profile for (`revmc-bench --write-ran`),
                    compiled as the runtime's optimizing tier compiles after such
                    workloads: the blocks that ran, the others left to the interpreter";

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub paths: Vec<PathBuf>,
    /// Whether the paths are the default folder (absent: skip instead of failing).
    pub default_paths: bool,
    pub json: Option<PathBuf>,
    pub opt_level: u8,
    pub translate_only: bool,
    pub timeout: Duration,
    pub jobs: usize,
    pub min_coverage: Option<f64>,
    /// `Limits::max_variants`, when not the default.
    pub max_variants: Option<usize>,
    /// `Limits::first_tier_chunk_cost`.
    pub chunk_cost: usize,
    /// Profiles of the contracts to compile (`ran.rs`).
    pub ran: Option<PathBuf>,
    /// Hidden: serve contracts over stdin/stdout for a parent `revmc-corpus`.
    pub worker: bool,
}

impl Args {
    pub fn opt(&self) -> OptLevel {
        OptLevel::from_u8(self.opt_level)
    }

    /// The translator's limits.
    pub fn limits(&self) -> revmc_ir::Limits {
        let mut limits = revmc_ir::Limits::default();
        if let Some(n) = self.max_variants {
            limits.max_variants = n;
        }
        limits.first_tier_chunk_cost = self.chunk_cost;
        limits
    }

    /// Parses the arguments after the program name. `Ok(None)` means `--help`.
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut a = Self {
            paths: Vec::new(),
            default_paths: false,
            json: None,
            opt_level: 2,
            translate_only: false,
            timeout: Duration::from_secs(60),
            jobs: 1,
            min_coverage: None,
            max_variants: None,
            chunk_cost: revmc_ir::DEFAULT_FIRST_TIER_CHUNK_COST,
            ran: None,
            worker: false,
        };
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg, None),
            };
            let mut value = || {
                inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--json" => a.json = Some(value()?.into()),
                "--opt-level" => {
                    a.opt_level = value()?
                        .parse()
                        .ok()
                        .filter(|n| *n <= 3)
                        .ok_or("--opt-level takes 0, 1, 2 or 3")?
                }
                "--tier" => {
                    let tuning = revmc_runtime::Tuning::default();
                    let level = match value()?.as_str() {
                        "first" => tuning.first_tier_opt_level.unwrap_or(tuning.jit_opt_level),
                        "optimized" => tuning.jit_opt_level,
                        _ => return Err("--tier takes `first` or `optimized`".into()),
                    };
                    a.opt_level = level as u8;
                }
                "--translate-only" => a.translate_only = true,
                "--max-variants" => {
                    let n = value()?.parse().ok().filter(|n| *n >= 1);
                    a.max_variants = Some(n.ok_or("--max-variants takes a positive number")?);
                }
                "--chunk-cost" => {
                    let c = value()?.parse().ok().filter(|c| *c >= 1);
                    a.chunk_cost = c.ok_or("--chunk-cost takes a positive number")?;
                }
                "--timeout-s" => {
                    let s: f64 = value()?
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or("--timeout-s takes a positive number of seconds")?;
                    a.timeout = Duration::from_secs_f64(s);
                }
                "--jobs" => {
                    a.jobs = value()?
                        .parse()
                        .ok()
                        .filter(|j| *j >= 1)
                        .ok_or("--jobs takes a positive number")?
                }
                "--min-coverage" => {
                    let p: f64 = value()?
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=100.0).contains(p))
                        .ok_or("--min-coverage takes a percentage (0..100)")?;
                    a.min_coverage = Some(p);
                }
                "--ran" => a.ran = Some(value()?.into()),
                "--worker" => a.worker = true,
                "-h" | "--help" => return Ok(None),
                s if s.starts_with('-') => return Err(format!("unknown option {s}")),
                _ => a.paths.push(PathBuf::from(flag)),
            }
        }
        if a.paths.is_empty() && !a.worker {
            a.paths.push(default_corpus());
            a.default_paths = true;
        }
        Ok(Some(a))
    }
}

/// `../shared/fixtures/contracts` beside the workspace root.
fn default_corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    root.parent().unwrap_or(root).join("shared/fixtures/contracts")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<Args>, String> {
        Args::parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn flags_and_paths() {
        let a = parse("a.json --jobs 2 --opt-level=0 --translate-only --timeout-s 1.5 dir")
            .unwrap()
            .unwrap();
        assert_eq!(a.paths, [PathBuf::from("a.json"), PathBuf::from("dir")]);
        assert!(!a.default_paths && a.translate_only);
        assert_eq!((a.jobs, a.opt_level, a.timeout), (2, 0, Duration::from_millis(1500)));
        let d = parse("--min-coverage 100").unwrap().unwrap();
        assert!(d.default_paths && d.paths[0].ends_with("shared/fixtures/contracts"));
        assert_eq!(d.min_coverage, Some(100.0));
        assert!(parse("--opt-level 4").is_err());
        assert!(parse("--jobs 0").is_err());
        assert!(parse("--bogus").is_err());
        assert_eq!(parse("--help"), Ok(None));
    }
}
