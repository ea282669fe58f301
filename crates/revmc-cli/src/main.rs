//! `revmc`: the command-line tool.
//!
//! - `revmc run` runs one frame of bytecode in the interpreter, the JIT or from an AOT store;
//! - `revmc compile` shows what the compiler makes of bytecode (IR, LLVM IR, assembly, an
//!   object or a shared library);
//! - `revmc store ls|verify|gc` inspects and maintains an AOT artifact store;
//! - `revmc statetest` and `revmc corpus` run the state-test runner and the corpus tool
//!   (the binaries `cargo xtask` runs) with a progress line and a coloured summary;
//! - `revmc compile-job` is the child process of a runtime whose
//!   `Tuning::optimizing_compile_process` names this binary: one compilation, request on
//!   standard input, object on standard output.

mod code;
mod compile;
mod run;
mod store;
mod wrap;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "revmc", version, about = "revmc, an EVM JIT/AOT compiler: command-line tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one frame of bytecode and print status, gas used, output and time.
    Run(run::RunArgs),
    /// Compile bytecode and print (or write) one stage of the result.
    Compile(compile::CompileArgs),
    /// Inspect or maintain an AOT artifact store.
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Run Ethereum state tests (`revmc-statetest`); arguments are passed on.
    Statetest {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Translate and compile a corpus of contracts (`revmc-corpus`); arguments are
    /// passed on.
    Corpus {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Compile one job for a runtime's worker (`Tuning::optimizing_compile_process`):
    /// the request on standard input, the object on standard output.
    #[command(hide = true)]
    CompileJob,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Compile(args) => compile::compile(&args),
        Command::Store { command } => store::store(&command),
        Command::Statetest { args } => wrap::wrap("revmc-statetest", "revmc-statetest", &args),
        Command::Corpus { args } => wrap::wrap("revmc-corpus", "revmc-bench", &args),
        Command::CompileJob => {
            let output = std::io::BufWriter::new(std::io::stdout().lock());
            let served = revmc_runtime::serve_compile_process(std::io::stdin(), output);
            served.map(|()| ExitCode::SUCCESS).map_err(Into::into)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("revmc: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A directory argument, for messages.
fn shown(path: &std::path::Path) -> String {
    path.display().to_string()
}
