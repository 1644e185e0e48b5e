//! Errors of the transport. Decoding failures are values, never panics: a malformed entry is
//! dead-lettered and the runner moves on.

/// A Redis or configuration failure.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("unexpected reply to {command}: {detail}")]
    Reply {
        command: &'static str,
        detail: String,
    },
}

/// Why a stream entry could not be turned into a typed event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("missing field '{0}'")]
    Missing(&'static str),
    #[error("field '{field}' is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("expected an entry of type '{expected}', got '{got}'")]
    WrongType { expected: &'static str, got: String },
    #[error("the entry has no fields (it was deleted from the stream)")]
    Deleted,
}
