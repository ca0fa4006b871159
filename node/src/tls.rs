//! Mutual-TLS material for the gRPC server: the node's own identity and the CA bundle
//! that client certificates (officers and peer nodes) must chain to. There is no
//! plaintext mode.

use crate::config::{ConfigError, NodeConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// Installs ring as the process's rustls crypto provider. Safe to call more than once.
pub fn install_crypto_provider() {
    // A second install returns an error that only says a provider is already there.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Parses every certificate in a PEM bundle.
pub fn parse_pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate bundle: {e}"))
}

/// Every CA bundle this node trusts: `trusted_cas` and each peer's `ca`, as PEM.
pub fn trusted_bundles(config: &NodeConfig) -> Result<Vec<Vec<u8>>, ConfigError> {
    let mut out = Vec::new();
    for (i, path) in config.trusted_cas.iter().enumerate() {
        out.push(std::fs::read(path).map_err(|e| {
            ConfigError::new(
                format!("trusted_cas[{i}]"),
                format!("cannot read {}: {e}", path.display()),
            )
        })?);
    }
    for (i, peer) in config.peers.iter().enumerate() {
        out.push(std::fs::read(&peer.ca).map_err(|e| {
            ConfigError::new(
                format!("peers[{i}].ca"),
                format!("cannot read {}: {e}", peer.ca.display()),
            )
        })?);
    }
    Ok(out)
}

/// The server's TLS settings: its certificate and key, and client certificates required
/// and checked against every trusted CA.
pub fn server_tls(config: &NodeConfig) -> Result<ServerTlsConfig, ConfigError> {
    let cert = std::fs::read(&config.cert).map_err(|e| {
        ConfigError::new(
            "cert",
            format!("cannot read {}: {e}", config.cert.display()),
        )
    })?;
    let key = std::fs::read(&config.key).map_err(|e| {
        ConfigError::new("key", format!("cannot read {}: {e}", config.key.display()))
    })?;
    // Peer districts' CAs are trusted too, for their nodes' incoming sync calls.
    let mut bundle = Vec::new();
    for pem in trusted_bundles(config)? {
        bundle.extend_from_slice(&pem);
        bundle.push(b'\n');
    }
    Ok(ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .client_ca_root(Certificate::from_pem(bundle)))
}
