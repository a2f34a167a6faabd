//! Waymark's error types, each mapped once to an exit code (SPEC section 10) and an
//! HTTP status.

use waymark_core::Rejection;

/// What could not be read or written: which kind of store, and in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    pub kind: StorageKind,
    message: String,
}

/// Where a storage failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// The database refused or failed an operation, or could not be reached.
    Database,
    /// A local file or directory (key store, output, `apply` input, published files).
    File,
    /// The server of `--server URL` could not be reached or answered with a failure.
    Server,
    /// What is stored disagrees with itself (read models behind or unlike the events).
    Inconsistent,
    /// Encoding an answer failed (a bug, reported rather than panicking).
    Internal,
}

impl StorageError {
    pub fn new(kind: StorageKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
        }
    }
    pub fn database(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Database, message)
    }
    pub fn file(message: impl Into<String>) -> Self {
        Self::new(StorageKind::File, message)
    }
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Server, message)
    }
    pub fn inconsistent(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Inconsistent, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Internal, message)
    }
    /// The failure in words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

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
        problem: waymark_core::ProblemKind,
        detail: String,
    },
    #[error("storage failure: {0}")]
    Storage(#[from] StorageError),
    /// A witness (C2SP tlog-witness) refused to cosign a checkpoint: the HTTP status
    /// it answers with (or, for `witness cosign`, would answer) and why. `size` is the
    /// tree size the witness last cosigned, when it said (a 409 over the old size).
    #[error("witness refused to cosign ({status}): {reason}")]
    WitnessRefused {
        status: u16,
        reason: String,
        size: Option<u64>,
    },
}

impl Error {
    /// SPEC section 10: 1 rejected, 2 usage, 3 verification failed, 4 storage or I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Rejected { .. } | Error::BadInput(_) => 1,
            Error::Usage(_) => 2,
            // A witness's refusal is a verification that failed: the checkpoint did
            // not pass the witness's checks (its signature, its consistency).
            Error::BrokenChain { .. } | Error::WitnessRefused { .. } => 3,
            Error::Conflict(_) | Error::Storage(_) => 4,
        }
    }

    /// The HTTP status the server answers with. A rejection's status follows its
    /// rule alone, whichever field it names (README, "HTTP API"): `R0-format` 400
    /// (not a well-formed statement), `R1-signature` and `R1-unknown-actor` 401 (who
    /// signed is not established), `R1-signer` 403 (a signer who may not make this
    /// statement here: its role, the ledger or the version it is for), `R8-limits`
    /// 413 (too large), any other rule 422 (well-formed and signed, but the ledger's
    /// state refuses it), section 13's rules 9 to 12 among them.
    pub fn http_status(&self) -> u16 {
        use waymark_core::Rule;
        match self {
            Error::Rejected { rejection, .. } => match rejection.rule {
                Rule::Format => 400,
                Rule::Signature | Rule::UnknownActor => 401,
                Rule::Signer => 403,
                Rule::Limits => 413,
                Rule::Milestone
                | Rule::Status
                | Rule::Phase
                | Rule::Season
                | Rule::Retired
                | Rule::Replay
                | Rule::Body
                | Rule::Decision
                | Rule::Transfer
                | Rule::Hypothesis => 422,
            },
            Error::BadInput(_) | Error::Usage(_) => 400,
            Error::Conflict(_) => 409,
            Error::BrokenChain { .. } => 500,
            Error::Storage(_) => 503,
            Error::WitnessRefused { status, .. } => *status,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<waymark_core::Error> for Error {
    fn from(e: waymark_core::Error) -> Self {
        match e {
            waymark_core::Error::BadInput(m) => Error::BadInput(m),
            waymark_core::Error::Usage(m) => Error::Usage(m),
            waymark_core::Error::Io(m) => Error::Storage(StorageError::file(m)),
            waymark_core::Error::Failed { problem, detail } => Error::BrokenChain {
                seq: 0,
                problem,
                detail,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_core::{Rejection, Rule};

    #[test]
    fn each_rule_has_its_http_status() {
        let status = |rule: Rule| {
            Error::Rejected {
                rejection: Rejection {
                    rule,
                    field: "payload".into(),
                    message: "m".into(),
                },
                line: None,
            }
            .http_status()
        };
        let got: Vec<(&str, u16)> = Rule::ALL.iter().map(|r| (r.id(), status(*r))).collect();
        assert_eq!(
            got,
            [
                ("R0-format", 400),
                ("R1-signer", 403),
                ("R1-unknown-actor", 401),
                ("R1-signature", 401),
                ("R2-milestone", 422),
                ("R3-status", 422),
                ("R4-phase", 422),
                ("R5-season", 422),
                ("R6-retired", 422),
                ("R7-replay", 422),
                ("R8-limits", 413),
                ("R9-body", 422),
                ("R10-decision", 422),
                ("R11-transfer", 422),
                ("R12-hypothesis", 422),
            ]
        );
    }
}
