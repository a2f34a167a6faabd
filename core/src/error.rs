//! The core's errors: what `verify-offline` and framework loading fail with, apart
//! from a verdict (which is a [`crate::Report`], not an error). Each maps once to an
//! exit code of SPEC section 10; the `waymark` crate wraps them in its own `Error`.

/// A failure of the core, before any verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input that could not be read as what it should be (a framework's TOML…).
    #[error("{0}")]
    BadInput(String),
    /// An argument that cannot be used (a `--key` that is no verifier key…).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read.
    #[error("storage failure: {0}")]
    Io(String),
    /// What was read does not verify: a tile, bundle or checkpoint of a tiled log that
    /// is missing, malformed or does not match the signed checkpoint.
    #[error("verification failed: {problem}: {detail}")]
    Failed {
        problem: crate::verdict::ProblemKind,
        detail: String,
    },
}

impl Error {
    /// SPEC section 10: 1 bad input, 2 usage, 3 verification failed, 4 storage or I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) => 1,
            Error::Usage(_) => 2,
            Error::Failed { .. } => 3,
            Error::Io(_) => 4,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
