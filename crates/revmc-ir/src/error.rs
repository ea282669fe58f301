//! Errors of translation. Each variant says whose fault it is: the input's shape
//! (`Unsupported`), a resource bound (`LimitExceeded`), or a bug in this crate (`Verifier`).

/// Why bytecode could not be translated. The caller falls back to the interpreter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The bytecode is valid EVM but uses a shape this compiler does not handle yet.
    #[error("unsupported bytecode: {0}")]
    Unsupported(Unsupported),
    /// A bound on analysis or code size was hit; the input may be hostile.
    #[error("translation limit exceeded: {what} (limit {limit})")]
    LimitExceeded {
        /// Which bound.
        what: &'static str,
        /// Its value.
        limit: usize,
    },
    /// The produced IR is malformed: a bug in the translator or a pass.
    #[error("IR verifier failed: {0}")]
    Verifier(String),
}

/// Shapes of bytecode the translator rejects (the interpreter runs them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// The spec is newer than this compiler knows.
    #[error("spec {0:?} is not supported")]
    Spec(crate::SpecId),
}

impl From<Unsupported> for TranslateError {
    fn from(u: Unsupported) -> Self {
        Self::Unsupported(u)
    }
}
