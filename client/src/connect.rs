//! Opens the mutually authenticated gRPC channel to the district node.
//!
//! The certificates are read and checked here, before any network traffic, so that a
//! misnamed or empty PEM file is reported as such rather than as a mysterious handshake error.

use std::path::Path;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::explain::connection_lost;

pub use crate::explain::{code_words, explain_status, status_error, transport_error};

/// How long to wait for the TCP connection and TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long any single call may take, photo transfers included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Connects to the node named in `config`, presenting the officer's certificate.
///
/// Note that a node that refuses the certificate usually lets this succeed under TLS 1.3;
/// the refusal then arrives with the first call, and [`explain_status`] names it, or
/// [`crate::probe::diagnose`] finds it when the call was only cut off.
///
/// Should the connection itself be closed or reset without a TLS cause, the node is probed
/// for a refusal in the same way before the failure is reported.
pub async fn connect(config: &ClientConfig) -> Result<Channel, ClientError> {
    open(config, endpoint(config)?).await
}

/// Connects like [`connect`] but without [`REQUEST_TIMEOUT`], for `setu import` and
/// `setu export`, whose calls last as long as their files; HTTP/2 pings notice a node that
/// went away meanwhile.
pub async fn connect_untimed(config: &ClientConfig) -> Result<Channel, ClientError> {
    let endpoint = untimed_endpoint(config)?
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT);
    open(config, endpoint).await
}

/// How often an idle connection of [`connect_untimed`] is pinged.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long a ping may go unanswered before the connection counts as lost.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Connects `endpoint`, probing for a refused certificate when the connection is lost.
async fn open(config: &ClientConfig, endpoint: Endpoint) -> Result<Channel, ClientError> {
    match endpoint.connect().await {
        Ok(channel) => Ok(channel),
        Err(e) => {
            let error = transport_error(&config.address, &e);
            if matches!(error, ClientError::Unreachable { .. }) && connection_lost(&e) {
                if let Some(refusal) = crate::probe::refusal(config).await {
                    return Err(refusal);
                }
            }
            Err(error)
        }
    }
}

/// Builds the endpoint (address, timeouts and TLS) without connecting.
pub fn endpoint(config: &ClientConfig) -> Result<Endpoint, ClientError> {
    Ok(untimed_endpoint(config)?.timeout(REQUEST_TIMEOUT))
}

/// The endpoint without [`REQUEST_TIMEOUT`], for calls that last as long as their data:
/// an import streams its whole file before the node answers, which for a large file takes
/// far longer than any fixed limit. Connecting is still limited by [`CONNECT_TIMEOUT`].
pub fn untimed_endpoint(config: &ClientConfig) -> Result<Endpoint, ClientError> {
    let tls = tls_config(config)?;
    Endpoint::from_shared(config.address.clone())
        .map_err(|e| ClientError::Input(format!("config key `address` ({}): {e}", config.address)))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tls_config(tls)
        .map_err(|e| ClientError::Credential {
            key: "key",
            path: config.key.clone(),
            reason: credential_reason(&e),
        })
}

/// Reads the CA bundle and the officer's identity into a tonic TLS configuration.
pub fn tls_config(config: &ClientConfig) -> Result<ClientTlsConfig, ClientError> {
    let ca = read_pem("ca", &config.ca)?;
    require_certificates("ca", &config.ca, &ca)?;
    let cert = read_pem("cert", &config.cert)?;
    require_certificates("cert", &config.cert, &cert)?;
    let key = read_pem("key", &config.key)?;
    check_key_permissions(&config.key)?;
    if let Err(e) = PrivateKeyDer::from_pem_slice(&key) {
        return Err(ClientError::Credential {
            key: "key",
            path: config.key.clone(),
            reason: format!("no usable private key in PEM: {e}"),
        });
    }
    Ok(ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(Identity::from_pem(cert, key))
        .domain_name(config.effective_server_name()?))
}

/// Reads one PEM file named by configuration key `key`.
fn read_pem(key: &'static str, path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::Credential {
        key,
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Refuses a private key file that group or others can read, write or execute, as
/// `setu-node` refuses its own key: a key others can read is a certificate others can use.
/// The client does not depend on the node crate, so the check is repeated here.
#[cfg(unix)]
pub(crate) fn check_key_permissions(path: &Path) -> Result<(), ClientError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| ClientError::Credential {
            key: "key",
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(ClientError::KeyTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// File modes are a Unix notion; elsewhere the key is not checked.
#[cfg(not(unix))]
pub(crate) fn check_key_permissions(_path: &Path) -> Result<(), ClientError> {
    Ok(())
}

/// Insists that a PEM file holds at least one well-formed certificate.
fn require_certificates(key: &'static str, path: &Path, pem: &[u8]) -> Result<(), ClientError> {
    let mut count = 0usize;
    for item in CertificateDer::pem_slice_iter(pem) {
        match item {
            Ok(_) => count += 1,
            Err(e) => {
                return Err(ClientError::Credential {
                    key,
                    path: path.to_path_buf(),
                    reason: format!("malformed PEM: {e}"),
                })
            }
        }
    }
    if count == 0 {
        return Err(ClientError::Credential {
            key,
            path: path.to_path_buf(),
            reason: "no certificate found in this PEM file".to_string(),
        });
    }
    Ok(())
}

/// Why rustls refused the certificate and key, in words.
fn credential_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(rustls::Error::InconsistentKeys(_)) = e.downcast_ref::<rustls::Error>() {
            return "the private key does not match the certificate in `cert`".to_string();
        }
        current = e.source();
    }
    format!(
        "cannot use this certificate and key: {}",
        source_text(error)
    )
}

/// An error with its sources, joined, for errors that are not about the network.
fn source_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        text.push_str(": ");
        text.push_str(&e.to_string());
        current = e.source();
    }
    text
}
