//! Runtime errors.

/// Why bytecode could not be compiled. Execution falls back to the interpreter.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Translation to IR failed (unsupported shape, limit, or a verifier bug).
    #[error(transparent)]
    Translate(#[from] revmc_ir::TranslateError),
    /// The compilation failed.
    #[error(transparent)]
    Compile(#[from] revmc_worker::CompileError),
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    /// The compile service could not start its threads.
    #[error("starting the compile service: {0}")]
    Start(String),
}
