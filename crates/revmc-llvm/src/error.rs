//! Backend errors.

/// Why the backend failed. Any of these makes the caller fall back to the interpreter.
#[derive(Debug, thiserror::Error)]
pub enum LlvmError {
    /// The native target could not be initialized or described.
    #[error("LLVM target: {0}")]
    Target(String),
    /// The IR builder rejected an instruction: a bug in lowering.
    #[error("LLVM IR builder: {0}")]
    Builder(#[from] inkwell::builder::BuilderError),
    /// The produced LLVM module is invalid: a bug in lowering.
    #[error("LLVM module verification failed: {0}")]
    Verify(String),
    /// The pass pipeline failed.
    #[error("LLVM pass pipeline: {0}")]
    Passes(String),
    /// An ORC operation failed.
    #[error("ORC JIT: {0}")]
    Orc(String),
    /// Linking a shared library failed.
    #[error("linking: {0}")]
    Link(String),
}
