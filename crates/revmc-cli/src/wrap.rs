//! `revmc statetest` and `revmc corpus`: the long-running tools `cargo xtask` runs, found
//! beside this binary, with a spinner showing their latest line and elapsed time, and
//! their summary line coloured by the outcome.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

pub fn wrap(binary: &str, package: &str, args: &[String]) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(binary);
    if !path.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p {package} --bin {binary}`",
            path.display()
        );
    }
    let mut child = Command::new(&path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", path.display()))?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")?);
    bar.enable_steady_tick(Duration::from_millis(120));
    // The tools report on stderr as they go and summarise on stdout.
    let stderr = child.stderr.take().expect("piped");
    let progress = {
        let bar = bar.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("FAILED") || line.contains("panicked") {
                    bar.println(line);
                } else {
                    bar.set_message(line);
                }
            }
        })
    };
    let mut last = String::new();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        bar.println(&line);
        last = line;
    }
    let _ = progress.join();
    let status = child.wait()?;
    bar.finish_and_clear();
    let (colour, verdict) = if status.success() { ("32", "ok") } else { ("31", "FAILED") };
    println!("\x1b[1;{colour}m{verdict}\x1b[0m: {last}");
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
