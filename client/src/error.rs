//! The one error type of the client library, so that every failure reaches the officer as a
//! single clear sentence and the binary can decide the exit status in one place.

use std::path::PathBuf;

/// Everything that can go wrong while running a `setu` command.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Neither `--config` nor `SETU_CONFIG` named a configuration file.
    #[error("no client configuration: pass --config FILE or set SETU_CONFIG")]
    NoConfig,

    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {source}")]
    ConfigRead {
        /// The file that was asked for.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },

    /// The configuration file was read but its content is not acceptable.
    #[error("config file {path}: {message}")]
    ConfigInvalid {
        /// The file that holds the mistake.
        path: PathBuf,
        /// What is wrong, naming the key where one is known.
        message: String,
    },

    /// A certificate or key named by the configuration is missing or unusable.
    #[error("config key `{key}` ({path}): {reason}")]
    Credential {
        /// The configuration key that named the file.
        key: &'static str,
        /// The resolved path of the file.
        path: PathBuf,
        /// Why the file cannot be used.
        reason: String,
    },

    /// The officer's private key file can be reached by users other than its owner. The
    /// sentence is the one `setu-node` uses for its own key.
    #[error(
        "private key {} is {} by group or others (mode {mode:04o}); run chmod 600 {}",
        .path.display(),
        open_to(*.mode),
        .path.display()
    )]
    KeyTooOpen {
        /// The key file.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },

    /// The node rejected this officer's certificate during the TLS handshake.
    #[error("the node refused this certificate: {reason}")]
    CertificateRefused {
        /// The TLS alert the node sent, in words.
        reason: String,
    },

    /// The node presented a certificate this client does not trust.
    #[error("the node's certificate is not trusted: {reason}")]
    NodeUntrusted {
        /// Why the node's certificate failed verification.
        reason: String,
    },

    /// Any other TLS failure that is neither side's certificate.
    #[error("TLS with the node failed: {reason}")]
    Tls {
        /// The TLS error in words.
        reason: String,
    },

    /// The node could not be reached at all.
    #[error("could not reach the node at {address}: {reason}")]
    Unreachable {
        /// The address from the configuration.
        address: String,
        /// Why the connection failed.
        reason: String,
    },

    /// A call was cut off below gRPC before the node answered: the connection was cancelled,
    /// closed or reset, or HTTP/2 failed.
    ///
    /// Under TLS 1.3 this is also how a refused certificate looks when the node's alert loses
    /// the race against the connection being torn down, so [`crate::execute`] probes the node
    /// (see [`crate::probe::diagnose`]) and reports the refusal it finds or, failing that, this
    /// error with the node's address ([`ClientError::at_address`]).
    #[error("{}", cut_off_text(code, message, network.as_deref()))]
    CallCutOff {
        /// The gRPC status code in lower-case words, e.g. "cancelled".
        code: String,
        /// The status message, e.g. "operation was canceled".
        message: String,
        /// The network-level reason, e.g. "connection closed", when the failure names one.
        network: Option<String>,
    },

    /// The node answered a call with a gRPC error, shown in an officer's words (see
    /// [`crate::plain`]); `--json` error output keeps the code.
    #[error("{}", crate::plain::rpc_sentence(code, message))]
    Rpc {
        /// The gRPC status code in lower-case words, e.g. "permission denied".
        code: String,
        /// The node's message.
        message: String,
    },

    /// A command-line value or input file could not be understood.
    #[error("{0}")]
    Input(String),

    /// A local file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    File {
        /// What was being done, e.g. "read" or "write".
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// The record does not list the photo that was asked for.
    #[error("record {record_id} has no photo with sha256 {sha256}")]
    PhotoNotListed {
        /// The record that was read.
        record_id: String,
        /// The digest that was asked for.
        sha256: String,
    },

    /// The bytes received or stored do not hash to the expected SHA-256.
    #[error("sha256 mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The digest that was expected.
        expected: String,
        /// The digest of the bytes actually seen.
        actual: String,
    },

    /// The node's answer lacked something the contract promises.
    #[error("unexpected answer from the node: {0}")]
    Protocol(String),

    /// Encoding the machine-readable output failed.
    #[error("cannot encode JSON output: {0}")]
    Json(#[from] serde_json::Error),

    /// An import ran to the end but refused some rows; the good ones were imported (or, in a
    /// dry run, would be). The report on standard output lists every refused row. The binary
    /// exits with [`EXIT_ROWS_REJECTED`] for this error.
    #[error("{}", rejected_text(*rejected, *rows, *dry_run))]
    RowsRejected {
        /// How many rows were refused.
        rejected: u64,
        /// How many rows the file had.
        rows: u64,
        /// Whether the import was a dry run.
        dry_run: bool,
    },
}

/// The exit status of `setu import` when some rows were refused (and the others imported):
/// distinct from 1 (the command failed) and 2 (a usage error), so that scripts can tell a
/// partly imported file from one that was not imported at all.
pub const EXIT_ROWS_REJECTED: u8 = 3;

impl ClientError {
    /// The exit status the `setu` binary ends with for this error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::RowsRejected { .. } => EXIT_ROWS_REJECTED,
            _ => 1,
        }
    }
}

impl ClientError {
    /// The error as `--json` prints it on standard error: the sentence, and for an answer
    /// of the node its gRPC code and message as received.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({ "error": self.to_string() });
        if let Self::Rpc { code, message } | Self::CallCutOff { code, message, .. } = self {
            value["code"] = crate::plain::grpc_name(code).into();
            value["message"] = message.clone().into();
        }
        value
    }
}

/// Describes which kind of access the permission bits `mode` grant to others.
fn open_to(mode: u32) -> &'static str {
    if mode & 0o044 != 0 {
        "readable"
    } else {
        "accessible"
    }
}

/// How an import with refused rows is summed up on standard error.
fn rejected_text(rejected: u64, rows: u64, dry_run: bool) -> String {
    let (verb, rest) = if dry_run {
        ("would be", "nothing was stored (dry run)")
    } else {
        ("were", "the others were imported")
    };
    let noun = if rows == 1 { "row" } else { "rows" };
    format!("{rejected} of {rows} {noun} {verb} rejected, as listed on standard output; {rest}")
}

impl ClientError {
    /// The error as the officer should see it once the node's address is known: a call cut off
    /// by the network becomes [`ClientError::Unreachable`] at `address`, any other cut-off call
    /// `<code>: <message>`. Other errors are returned unchanged.
    #[must_use]
    pub fn at_address(self, address: &str) -> Self {
        match self {
            Self::CallCutOff {
                network: Some(reason),
                ..
            } => Self::Unreachable {
                address: address.to_string(),
                reason,
            },
            Self::CallCutOff { code, message, .. } => Self::Rpc { code, message },
            other => other,
        }
    }
}

/// How a cut-off call reads while the node's address is not known.
fn cut_off_text(code: &str, message: &str, network: Option<&str>) -> String {
    match network {
        Some(reason) => format!("could not reach the node: {reason}"),
        None => crate::plain::rpc_sentence(code, message),
    }
}
