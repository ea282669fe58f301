//! Runtime errors.

/// Why bytecode could not be compiled. Execution falls back to the interpreter.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Translation to IR failed (unsupported shape, limit, or a verifier bug).
    #[error(transparent)]
    Translate(#[from] revmc_ir::TranslateError),
    /// The LLVM backend failed.
    #[error(transparent)]
    Llvm(#[from] revmc_llvm::LlvmError),
}
