//! The node's error type, and the one place where errors become gRPC statuses.
//!
//! Handlers return [`NodeError`]; the conversion to [`tonic::Status`] below decides the
//! status code and logs server faults at `error!` and client mistakes at `debug!`.

use crate::storage::StorageError;
use tonic::{Code, Status};

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request broke a rule about one field.
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    /// The caller's certificate does not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// No usable client certificate reached the handler.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is well formed but the item's state does not allow it (for example,
    /// updating a cancelled alert).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A storage failure or refusal.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A server-side fault that is not the caller's doing.
    #[error("internal error: {0}")]
    Internal(String),
}

impl NodeError {
    /// A field-level validation error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        NodeError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The gRPC code this error is reported with.
    pub fn code(&self) -> Code {
        match self {
            NodeError::InvalidArgument { .. } => Code::InvalidArgument,
            NodeError::PermissionDenied(_) => Code::PermissionDenied,
            NodeError::Unauthenticated(_) => Code::Unauthenticated,
            NodeError::FailedPrecondition(_) => Code::FailedPrecondition,
            NodeError::Internal(_) => Code::Internal,
            NodeError::Storage(e) => match e {
                StorageError::NotFound { .. } | StorageError::Expunged { .. } => Code::NotFound,
                StorageError::VersionConflict { .. } => Code::Aborted,
                StorageError::AlreadyExists { .. } | StorageError::ExternalRefTaken { .. } => {
                    Code::AlreadyExists
                }
                StorageError::Backend(_)
                | StorageError::Corrupt { .. }
                | StorageError::InUse { .. } => Code::Internal,
            },
        }
    }
}

/// The longest status message, in bytes, the node sends. Messages quote officer input
/// only as a short excerpt (see [`crate::validate::excerpt`]); this bound is the last line
/// of defence, so that no message can make the trailers too large for the client to read.
pub(crate) const MAX_STATUS_MESSAGE_BYTES: usize = 1_000;

/// `message` cut to at most [`MAX_STATUS_MESSAGE_BYTES`] bytes on a character boundary,
/// ending in "…" when it was cut.
pub(crate) fn bounded_message(message: String) -> String {
    if message.len() <= MAX_STATUS_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_STATUS_MESSAGE_BYTES - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = message;
    cut.truncate(end);
    cut.push('…');
    cut
}

impl From<NodeError> for Status {
    fn from(err: NodeError) -> Status {
        let code = err.code();
        match code {
            Code::Internal | Code::Unavailable | Code::DataLoss | Code::Unknown => {
                tracing::error!(error = %err, "server fault");
                // Server faults are reported without internal detail beyond the message.
                Status::new(code, bounded_message(err.to_string()))
            }
            _ => {
                tracing::debug!(error = %err, code = ?code, "request refused");
                Status::new(code, bounded_message(err.to_string()))
            }
        }
    }
}

/// The canonical name of a gRPC status code, e.g. `PERMISSION_DENIED`.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Results of request handling.
pub type NodeResult<T> = Result<T, NodeError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_pass_unchanged() {
        let status = Status::from(NodeError::invalid("name", "is required"));
        assert_eq!(status.message(), "name: is required");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        // Three-byte characters, so that the cut falls inside one unless it is moved.
        let reason = "क".repeat(10_000);
        let status = Status::from(NodeError::invalid("name", reason));
        let message = status.message();
        assert!(
            message.len() <= MAX_STATUS_MESSAGE_BYTES,
            "{}",
            message.len()
        );
        assert!(message.starts_with("name: क"));
        assert!(message.ends_with('…'));
        let status = Status::from(NodeError::FailedPrecondition("x".repeat(5_000)));
        assert!(status.message().len() <= MAX_STATUS_MESSAGE_BYTES);
    }
}
