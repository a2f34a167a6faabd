//! Waymark's error types, each mapped once to an exit code (SPEC section 10) and an
//! HTTP status.

use waymark_core::Rejection;

/// The database or a file could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Everything a Waymark command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A statement broke a rule; nothing was recorded. `line` is 1-based (for `apply`).
    #[error("{}{rejection}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Rejected {
        line: Option<usize>,
        rejection: Rejection,
    },
    /// Input that could not be read as what it should be (JSON, TOML, a date…).
    #[error("{0}")]
    BadInput(String),
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// Concurrent writers kept winning the race for the next `seq`.
    #[error("optimistic-lock conflict: {0}")]
    Conflict(String),
    /// The stored or exported chain does not verify.
    #[error(
        "verification failed{}: {problem}: {detail}",
        if *seq > 0 { format!(" at seq {seq}") } else { String::new() }
    )]
    BrokenChain {
        seq: u64,
        problem: &'static str,
        detail: String,
    },
    #[error("storage failure: {0}")]
    Storage(#[from] StorageError),
}

impl Error {
    /// SPEC section 10: 1 rejected, 2 usage, 3 verification failed, 4 storage or I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Rejected { .. } | Error::BadInput(_) => 1,
            Error::Usage(_) => 2,
            Error::BrokenChain { .. } => 3,
            Error::Conflict(_) | Error::Storage(_) => 4,
        }
    }

    /// The HTTP status the server answers with. A rejection's status follows its
    /// rule alone, whichever field it names (README, "HTTP API"): `R0-format` 400
    /// (not a well-formed statement), `R1-signature` and `R1-unknown-actor` 401 (who
    /// signed is not established), `R1-signer` 403 (a signer who may not make this
    /// statement here: its role, the ledger or the version it is for), `R8-limits`
    /// 413 (too large), any other rule 422 (well-formed and signed, but the ledger's
    /// state refuses it).
    pub fn http_status(&self) -> u16 {
        use waymark_core::Rule;
        match self {
            Error::Rejected { rejection, .. } => match rejection.rule {
                Rule::Format => 400,
                Rule::Signature | Rule::UnknownActor => 401,
                Rule::Signer => 403,
                Rule::Limits => 413,
                _ => 422,
            },
            Error::BadInput(_) | Error::Usage(_) => 400,
            Error::Conflict(_) => 409,
            Error::BrokenChain { .. } => 500,
            Error::Storage(_) => 503,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<waymark_core::Error> for Error {
    fn from(e: waymark_core::Error) -> Self {
        match e {
            waymark_core::Error::BadInput(m) => Error::BadInput(m),
            waymark_core::Error::Usage(m) => Error::Usage(m),
            waymark_core::Error::Io(m) => Error::Storage(StorageError(m)),
        }
    }
}
