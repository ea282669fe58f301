//! Why a compilation produced no program.

use std::sync::Arc;

/// A failed compilation. Cheap to clone: every waiter on a de-duplicated request gets one.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    /// The bytecode is longer than the configured maximum.
    #[error("bytecode of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Bytecode length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The code is loop-free and runs too few instructions for compiled code to repay its
    /// entry; it runs interpreted.
    #[error("loop-free code of {instructions} instructions (compiling pays from {min})")]
    Unprofitable {
        /// The most instructions one call runs.
        instructions: usize,
        /// The configured minimum.
        min: usize,
    },
    /// The translator rejected the code (limits, unsupported shapes).
    #[error("translation: {0}")]
    Translate(#[from] revmc_ir::TranslateError),
    /// LLVM or ORC failed; the backend's message.
    #[error("backend: {0}")]
    Backend(Arc<str>),
    /// The code given does not hash to the key's code hash.
    #[error("the code does not match the key's code hash")]
    CodeMismatch,
    /// The artifact store failed, or rejected the library just written.
    #[error("artifact store: {0}")]
    Store(String),
    /// The pool has no worker threads.
    #[error("the worker pool has no threads")]
    NoWorkers,
    /// The pool was shut down before the job ran.
    #[error("the worker pool shut down")]
    ShutDown,
    /// The queue was full.
    #[error("the compile queue is full")]
    QueueFull,
    /// The cache was cleared while the job ran; its result was dropped.
    #[error("the cache was cleared during compilation")]
    Cleared,
    /// The compilation ran past its deadline and was abandoned.
    #[error("the compilation exceeded its deadline of {after:?}")]
    Timeout {
        /// The deadline.
        after: std::time::Duration,
    },
    /// The compiler panicked (a bug); the worker thread survives.
    #[error("the compiler panicked: {0}")]
    Panicked(String),
}

impl From<revmc_llvm::LlvmError> for CompileError {
    fn from(e: revmc_llvm::LlvmError) -> Self {
        Self::Backend(e.to_string().into())
    }
}
