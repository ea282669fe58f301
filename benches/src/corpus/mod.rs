//! `revmc-corpus`: loads the corpus ([`input`]), evaluates every contract ([`eval`]: in
//! process with `--translate-only`, otherwise in child processes, [`pool`]), prints a line
//! per contract as it finishes and the summary ([`report`]), and writes `--json`.

mod args;
mod eval;
mod input;
mod pool;
mod ran;
mod report;

use anyhow::{Context, bail};
use args::{Args, USAGE};
use report::Record;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("revmc-corpus: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if args.worker {
        read_ran(&args).and_then(|ran| {
            eval::serve(args.translate_only, args.opt(), &args.limits(), &ran)
                .map(|()| ExitCode::SUCCESS)
        })
    } else {
        run(&args)
    };
    result.unwrap_or_else(|e| {
        eprintln!("revmc-corpus: error: {e:#}");
        ExitCode::FAILURE
    })
}

/// Reads every contract under `paths`; a file in neither format is skipped with a warning.
fn load(paths: &[PathBuf]) -> anyhow::Result<(Vec<input::Contract>, usize)> {
    let mut files = Vec::new();
    for path in paths {
        input::files(path, &mut files)?;
    }
    let (mut seen, mut contracts, mut duplicates) = (HashSet::new(), Vec::new(), 0);
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let name = file.display().to_string();
        match input::add(&name, &text, &mut seen, &mut contracts) {
            Ok(n) => duplicates += n,
            Err(e) => eprintln!("revmc-corpus: skipping {name}: {e:#}"),
        }
    }
    if contracts.is_empty() {
        bail!("no contracts found in {} file(s) under {paths:?}", files.len());
    }
    if duplicates > 0 {
        println!("revmc-corpus: {duplicates} duplicate state-test codes skipped");
    }
    Ok((contracts, files.len()))
}

/// The profiles of `--ran`, if given.
fn read_ran(
    args: &Args,
) -> anyhow::Result<std::collections::HashMap<alloy_primitives::B256, revmc_ir::RanBlocks>> {
    args.ran.as_deref().map_or_else(|| Ok(Default::default()), ran::read)
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.default_paths && !args.paths[0].exists() {
        println!("SKIPPED: corpus folder {} not found", args.paths[0].display());
        return Ok(ExitCode::SUCCESS);
    }
    let (mut contracts, files) = load(&args.paths)?;
    let ran = read_ran(args)?;
    if let Some(path) = &args.ran {
        let all = contracts.len();
        contracts.retain(|c| ran.contains_key(&ran::skeleton(&c.code)));
        let n = contracts.len();
        println!(
            "revmc-corpus: {n} of {all} contracts have a profile in {}: compiling what ran",
            path.display()
        );
        if n == 0 {
            bail!("no contract of the corpus has a profile");
        }
    }
    let total = contracts.len();
    let verb = if args.translate_only { "translated" } else { "compiled" };
    let bytes: usize = contracts.iter().map(|c| c.code.len()).sum();
    let how = if args.translate_only {
        "translate only, in process".to_string()
    } else {
        format!(
            "opt level {}, max variants {}, timeout {:?}, {} job(s)",
            args.opt_level,
            args.limits().max_variants,
            args.timeout,
            args.jobs
        )
    };
    println!("revmc-corpus: {total} contracts ({bytes} bytes) from {files} file(s); {how}");

    let mut records: Vec<Option<Record>> = vec![None; total];
    let mut finished = 0;
    let mut done = |i: usize, outcome| {
        finished += 1;
        let record = Record::new(&contracts[i], outcome, verb);
        println!("{}", record.line(finished, total));
        records[i] = Some(record);
    };
    if args.translate_only {
        for (i, c) in contracts.iter().enumerate() {
            let profile = ran.get(&ran::skeleton(&c.code));
            done(i, eval::evaluate(&c.code, &args.limits(), profile, None));
        }
    } else {
        let settings = pool::Settings {
            worker_args: vec![
                "--opt-level".into(),
                args.opt_level.to_string(),
                "--max-variants".into(),
                args.limits().max_variants.to_string(),
                "--chunk-cost".into(),
                args.chunk_cost.to_string(),
            ]
            .into_iter()
            .chain(args.ran.iter().flat_map(|f| ["--ran".into(), f.display().to_string()]))
            .collect(),
            timeout: args.timeout,
            jobs: args.jobs,
        };
        let codes: Vec<&[u8]> = contracts.iter().map(|c| c.code.as_slice()).collect();
        pool::run(&codes, &settings, &mut done)?;
    }
    let records: Vec<Record> = records.into_iter().flatten().collect();

    println!("\n== summary");
    for line in report::summary(&records, verb) {
        println!("{line}");
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&records)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let coverage = report::coverage(&records);
    match args.min_coverage {
        Some(min) if coverage < min => {
            println!("FAILED: {coverage:.1}% of contracts {verb}, below --min-coverage {min}%");
            Ok(ExitCode::FAILURE)
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
