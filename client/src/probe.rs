//! Tells a refused certificate apart from a lost connection by asking the node once more.
//!
//! Under TLS 1.3 the client finishes its side of the handshake before the node has checked
//! the client's certificate, and tonic sends the first request straight away. A node that
//! refuses the certificate sends a TLS alert and closes the connection; the request bytes it
//! never read can make its kernel reset the connection, so the alert is lost, or hyper
//! reports the closed connection first. The call then fails as "operation was canceled" or
//! "connection closed" instead of naming the refusal.
//!
//! The probe opens a separate connection with the same CA, certificate, key and server name,
//! completes the handshake and then only reads. It sends no application data, so the node
//! has read everything the client sent when it refuses, and its alert arrives intact as the
//! answer to that read. A node that accepts the certificate answers with its HTTP/2 settings
//! instead, which ends the probe at once.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::config::ClientConfig;
use crate::connect::CONNECT_TIMEOUT;
use crate::error::ClientError;
use crate::explain::tls_cause;

/// How long the probe waits after its handshake for the node's alert (or its first bytes).
pub const PROBE_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// How long closing an accepted probe connection may take.
const PROBE_CLOSE_TIMEOUT: Duration = Duration::from_millis(200);

/// Explains a call cut off by the connection ([`ClientError::CallCutOff`]): the node's
/// refusal of the certificate when a probe finds one, otherwise the error itself with the
/// node's address. Any other error is returned unchanged, without touching the network.
pub async fn diagnose(config: &ClientConfig, error: ClientError) -> ClientError {
    if !matches!(error, ClientError::CallCutOff { .. }) {
        return error;
    }
    match refusal(config).await {
        Some(found) => found,
        None => error.at_address(&config.address),
    }
}

/// Connects to the node once more and returns the TLS failure it reports, if any: its alert
/// (e.g. "the node refused this certificate: unknown CA") or a handshake error.
///
/// `None` means the probe found nothing to blame on TLS: the node accepted the certificate,
/// stayed silent, closed without an alert, or could not be reached at all.
pub async fn refusal(config: &ClientConfig) -> Option<ClientError> {
    let connector = TlsConnector::from(Arc::new(probe_tls(config)?));
    let name = ServerName::try_from(config.effective_server_name().ok()?).ok()?;
    let (host, port) = host_and_port(&config.address)?;
    let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port)))
        .await
        .ok()?
        .ok()?;
    let mut tls = match timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .ok()?
    {
        Ok(tls) => tls,
        Err(error) => return tls_cause(&error),
    };
    let mut byte = [0u8; 1];
    match timeout(PROBE_READ_TIMEOUT, tls.read(&mut byte)).await {
        Ok(Err(error)) => tls_cause(&error),
        Ok(Ok(_)) | Err(_) => {
            // Accepted or silent: say goodbye with close_notify (an alert, not data).
            let _ = timeout(PROBE_CLOSE_TIMEOUT, tls.shutdown()).await;
            None
        }
    }
}

/// The rustls client configuration tonic would build: the `ca` roots, the officer's
/// certificate and key, ring, and ALPN `h2`. `None` if the files cannot be used (the
/// connection itself reports that, naming the file).
fn probe_tls(config: &ClientConfig) -> Option<rustls::ClientConfig> {
    let ca = std::fs::read(&config.ca).ok()?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) =
        roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&ca).filter_map(Result::ok));
    if added == 0 {
        return None;
    }
    let cert = std::fs::read(&config.cert).ok()?;
    let chain = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_slice(&std::fs::read(&config.key).ok()?).ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .ok()?;
    tls.alpn_protocols = vec![b"h2".to_vec()];
    Some(tls)
}

/// The host (without the brackets of an IPv6 literal) and port of an `https://` address.
fn host_and_port(address: &str) -> Option<(String, u16)> {
    let uri: tonic::transport::Uri = address.parse().ok()?;
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_string(), uri.port_u16().unwrap_or(443)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            host_and_port("https://127.0.0.1:7401"),
            Some(("127.0.0.1".to_string(), 7401))
        );
        assert_eq!(
            host_and_port("https://[::1]:7401"),
            Some(("::1".to_string(), 7401))
        );
        assert_eq!(
            host_and_port("https://node.jh-dhanbad.police"),
            Some(("node.jh-dhanbad.police".to_string(), 443))
        );
    }
}
