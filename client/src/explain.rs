//! Turns gRPC statuses and transport failures into sentences an officer can act on.
//!
//! TLS problems hide deep inside tonic's errors: a refused client certificate arrives on the
//! first call as `Unknown: transport error` with the TLS alert several sources down. This
//! module walks those source chains and names the real cause.

use std::error::Error as StdError;

use rustls::{AlertDescription, CertificateError};
use tonic::{Code, Status};

use crate::error::ClientError;

/// How deep a source chain is followed before giving up; real chains are far shorter.
const MAX_CHAIN: usize = 32;

/// Explains a gRPC status in one line, e.g. `record ... is owned by ...`
/// or `the node refused this certificate: unknown CA`.
pub fn explain_status(status: &Status) -> String {
    status_error(status).to_string()
}

/// Classifies a gRPC status: TLS and network causes first, otherwise the node's answer
/// (shown in an officer's words, see [`crate::plain`]).
///
/// A status that failed below gRPC (it carries a transport source) without naming a TLS cause
/// becomes [`ClientError::CallCutOff`]: it may hide a refused certificate, which only a probe
/// of the node can tell (see [`crate::probe::diagnose`]).
pub fn status_error(status: &Status) -> ClientError {
    if let Some(source) = StdError::source(status) {
        if let Some(error) = tls_cause(source) {
            return error;
        }
        let network = network_cause(source);
        if network.is_some() || may_hide_refusal(status.code()) {
            return ClientError::CallCutOff {
                code: code_words(status.code()).to_string(),
                message: status_message(status),
                network,
            };
        }
    }
    ClientError::Rpc {
        code: code_words(status.code()).to_string(),
        message: status_message(status),
    }
}

/// The codes tonic gives a call that the connection under it cut off: hyper's "operation was
/// canceled", "transport error", and HTTP/2 resets and protocol errors.
fn may_hide_refusal(code: Code) -> bool {
    matches!(
        code,
        Code::Cancelled | Code::Unknown | Code::Unavailable | Code::Internal
    )
}

/// The status message, or a placeholder when the node gave none.
fn status_message(status: &Status) -> String {
    let message = status.message().trim();
    if message.is_empty() {
        "the node gave no details".to_string()
    } else {
        message.to_string()
    }
}

/// Classifies a failure to connect to `address`.
pub fn transport_error(address: &str, error: &tonic::transport::Error) -> ClientError {
    if let Some(tls) = tls_cause(error) {
        return tls;
    }
    let reason = network_cause(error).unwrap_or_else(|| innermost_message(error));
    ClientError::Unreachable {
        address: address.to_string(),
        reason,
    }
}

impl From<Status> for ClientError {
    fn from(status: Status) -> Self {
        status_error(&status)
    }
}

/// The gRPC code in lower-case words, as the CLI prints it.
pub fn code_words(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid argument",
        Code::DeadlineExceeded => "deadline exceeded",
        Code::NotFound => "not found",
        Code::AlreadyExists => "already exists",
        Code::PermissionDenied => "permission denied",
        Code::ResourceExhausted => "resource exhausted",
        Code::FailedPrecondition => "failed precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out of range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// Every error in a source chain, starting with `start`.
///
/// `std::io::Error::source` skips the error it wraps, so wrapped errors are entered through
/// `get_ref` instead; that is where tokio-rustls keeps the `rustls::Error`.
fn chain<'a>(start: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(start);
    while let Some(error) = current {
        if out.len() >= MAX_CHAIN {
            break;
        }
        out.push(error);
        current = match error.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => error.source(),
            },
            None => error.source(),
        };
    }
    out
}

/// Whether a connection failure is the peer closing or resetting the connection, which is
/// how a refused certificate can look when the node's TLS alert is lost.
pub(crate) fn connection_lost(start: &(dyn StdError + 'static)) -> bool {
    use std::io::ErrorKind as K;
    chain(start).iter().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
            )
        })
    })
}

/// The first TLS error in the chain, classified by whose certificate is at fault.
///
/// During a call the error has usually passed through h2, which keeps only the kind and the
/// text of I/O errors; the rustls message is then recognised by its wording instead.
pub(crate) fn tls_cause(start: &(dyn StdError + 'static)) -> Option<ClientError> {
    let links = chain(start);
    if let Some(error) = links.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return Some(classify_tls(error));
    }
    links.iter().find_map(|e| tls_from_text(&e.to_string()))
}

/// Recognises the text of a stringified `rustls::Error` for an alert or a bad certificate.
fn tls_from_text(text: &str) -> Option<ClientError> {
    if let Some((_, rest)) = text.split_once("received fatal alert: ") {
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let alert = (0..=u8::MAX)
            .map(AlertDescription::from)
            .find(|a| format!("{a:?}") == name)?;
        return Some(classify_tls(&rustls::Error::AlertReceived(alert)));
    }
    let (_, rest) = text.split_once("invalid peer certificate: ")?;
    Some(ClientError::NodeUntrusted {
        reason: rest.trim().to_string(),
    })
}

/// Sorts a rustls error into "they refused us", "we do not trust them" or anything else.
fn classify_tls(error: &rustls::Error) -> ClientError {
    match error {
        rustls::Error::AlertReceived(alert) => match certificate_alert(*alert) {
            Some(reason) => ClientError::CertificateRefused {
                reason: reason.to_string(),
            },
            None => ClientError::Tls {
                reason: format!("the node sent the TLS alert {}", alert_words(*alert)),
            },
        },
        rustls::Error::InvalidCertificate(cert) => ClientError::NodeUntrusted {
            reason: certificate_error_words(cert),
        },
        rustls::Error::NoCertificatesPresented => ClientError::NodeUntrusted {
            reason: "the node presented no certificate".to_string(),
        },
        other => ClientError::Tls {
            reason: other.to_string(),
        },
    }
}

/// The alerts a server sends when it rejects the client's certificate, in words.
fn certificate_alert(alert: AlertDescription) -> Option<&'static str> {
    Some(match alert {
        AlertDescription::UnknownCA => "unknown CA",
        AlertDescription::CertificateRequired => "certificate required",
        AlertDescription::CertificateExpired => "certificate expired",
        AlertDescription::CertificateRevoked => "certificate revoked",
        AlertDescription::BadCertificate => "bad certificate",
        AlertDescription::UnsupportedCertificate => "unsupported certificate",
        AlertDescription::CertificateUnknown => "certificate unknown",
        AlertDescription::NoCertificate => "no certificate",
        AlertDescription::AccessDenied => "access denied",
        AlertDescription::DecryptError => {
            "the handshake signature did not verify (does the key match the certificate?)"
        }
        _ => return None,
    })
}

/// Any TLS alert in lower-case words, e.g. `HandshakeFailure` becomes "handshake failure".
fn alert_words(alert: AlertDescription) -> String {
    let name = format!("{alert:?}");
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// Why the node's certificate failed verification, in words.
fn certificate_error_words(error: &CertificateError) -> String {
    match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate not valid yet".to_string()
        }
        CertificateError::UnknownIssuer => {
            "unknown issuer (it is not signed by a CA in the `ca` bundle)".to_string()
        }
        CertificateError::Revoked => "certificate revoked".to_string(),
        CertificateError::BadSignature => "bad signature".to_string(),
        CertificateError::NotValidForName => {
            "it is not valid for the expected name (see `server_name`)".to_string()
        }
        other => other.to_string(),
    }
}

/// A network-level reason (refused, reset, timed out) when the chain holds one.
fn network_cause(start: &(dyn StdError + 'static)) -> Option<String> {
    let links = chain(start);
    let io_reason = links.iter().find_map(|e| {
        let io = e.downcast_ref::<std::io::Error>()?;
        use std::io::ErrorKind as K;
        Some(match io.kind() {
            K::ConnectionRefused => "connection refused",
            K::ConnectionReset => "connection reset",
            K::ConnectionAborted => "connection aborted",
            K::TimedOut => "timed out",
            K::NotConnected => "not connected",
            K::AddrNotAvailable => "address not available",
            K::BrokenPipe => "connection closed",
            K::HostUnreachable => "host unreachable",
            K::NetworkUnreachable => "network unreachable",
            _ => return None,
        })
    });
    if let Some(reason) = io_reason {
        return Some(reason.to_string());
    }
    links
        .iter()
        .any(|e| e.to_string().contains("timed out") || e.to_string().contains("timeout"))
        .then(|| "timed out".to_string())
}

/// The message of the deepest error in the chain, which is usually the most specific.
fn innermost_message(start: &(dyn StdError + 'static)) -> String {
    chain(start)
        .into_iter()
        .rev()
        .map(|e| e.to_string())
        .find(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "unknown error".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_statuses_print_the_message_without_the_code() {
        let status = Status::permission_denied("record 0190 is owned by jh-dhanbad");
        assert_eq!(
            explain_status(&status),
            "not allowed: record 0190 is owned by jh-dhanbad"
        );
    }

    #[test]
    fn alerts_inside_io_errors_are_found() {
        let io = std::io::Error::other(rustls::Error::AlertReceived(AlertDescription::UnknownCA));
        let status = Status::from_error(Box::new(io));
        assert_eq!(
            explain_status(&status),
            "the node refused this certificate: unknown CA"
        );
    }

    #[test]
    fn untrusted_node_certificates_are_named() {
        let error = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
        let status = Status::from_error(Box::new(io));
        assert_eq!(
            explain_status(&status),
            "the node's certificate is not trusted: certificate expired"
        );
    }

    #[test]
    fn alerts_flattened_to_text_are_recognised() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "received fatal alert: CertificateRequired",
        );
        let status = Status::from_error(Box::new(io));
        assert_eq!(
            explain_status(&status),
            "the node refused this certificate: certificate required"
        );
    }

    #[test]
    fn calls_cut_off_below_grpc_await_a_probe() {
        let io = std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "stream closed because of a broken pipe",
        );
        let closed = Status::from_error(Box::new(io));
        let error = status_error(&closed);
        assert!(matches!(error, ClientError::CallCutOff { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "could not reach the node: connection closed"
        );
        assert_eq!(
            error.at_address("https://127.0.0.1:7401").to_string(),
            "could not reach the node at https://127.0.0.1:7401: connection closed"
        );

        let mut cancelled = Status::cancelled("operation was canceled");
        cancelled.set_source(std::sync::Arc::new(std::io::Error::other(
            "connection closed",
        )));
        let error = status_error(&cancelled);
        assert!(matches!(error, ClientError::CallCutOff { .. }), "{error:?}");
        assert_eq!(
            error.at_address("https://127.0.0.1:7401").to_string(),
            "the call was cancelled: operation was canceled"
        );
    }

    #[test]
    fn answers_from_the_node_are_not_cut_off() {
        let error = status_error(&Status::unavailable("node is shutting down"));
        assert!(matches!(error, ClientError::Rpc { .. }), "{error:?}");
    }

    #[test]
    fn alert_names_become_words() {
        assert_eq!(
            alert_words(AlertDescription::HandshakeFailure),
            "handshake failure"
        );
    }
}
