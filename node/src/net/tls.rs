//! Mutual-TLS material: the node's own certificate and key, the CA bundles that client
//! certificates (officers and peer nodes) must chain to, and the rustls settings built from
//! them for serving and for dialling peers. There is no plaintext mode.
//!
//! The settings are plain `rustls` configs (ring provider, TLS 1.2 and 1.3, ALPN `h2`,
//! client certificates required and verified against every bound CA), built afresh
//! from the files on each reload and swapped in by [`crate::net::reload`].

use crate::config::{ConfigError, NodeConfig};
use crate::trust::anchors::TrustAnchors;
use crate::trust::cert::{parse_pem_certs, CertFacts};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::collections::HashMap;
use std::sync::Arc;

/// Installs ring as the process's rustls crypto provider. Safe to call more than once.
pub fn install_crypto_provider() {
    // A second install returns an error that only says a provider is already there.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The ALPN protocol gRPC speaks.
const ALPN_H2: &[u8] = b"h2";

/// Everything TLS needs from the files a config names, read and checked.
pub struct TlsMaterial {
    /// The node's certificate chain (leaf first).
    pub chain: Vec<CertificateDer<'static>>,
    /// The node's private key (PEM, as in the file), for the signing key's statement.
    pub key_pem: Vec<u8>,
    /// Serial, fingerprint and expiry of the node's certificate.
    pub own: CertFacts,
    /// The settings every new incoming connection is accepted with.
    pub server: Arc<ServerConfig>,
    /// The settings each peer is dialled with, by district: the node's certificate and the
    /// peer's own CA bundle.
    pub dial: HashMap<String, Arc<ClientConfig>>,
    /// Which CA vouches for which districts and kinds, checked on every call and for
    /// every key statement.
    pub anchors: Arc<TrustAnchors>,
}

impl std::fmt::Debug for TlsMaterial {
    /// Shows which certificate this is, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("own", &self.own)
            .field("peers", &self.dial.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The ring provider every TLS setting of the node uses, whatever else is installed.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsMaterial {
    /// Reads the node's certificate and key, every trusted CA bundle and each peer's CA
    /// bundle, and builds the server and dial settings. Each problem names its config key.
    pub fn load(config: &NodeConfig) -> Result<TlsMaterial, ConfigError> {
        let cert_pem = read("cert", &config.cert)?;
        let key_pem = read("key", &config.key)?;
        let chain = parse_pem_certs(&cert_pem)
            .map_err(|e| ConfigError::new("cert", format!("{}: {e}", config.cert.display())))?;
        let leaf = chain.first().ok_or_else(|| {
            ConfigError::new(
                "cert",
                format!("{} holds no certificate", config.cert.display()),
            )
        })?;
        let own = CertFacts::of_der(leaf.as_ref())
            .map_err(|e| ConfigError::new("cert", format!("{}: {e}", config.cert.display())))?;
        let key = || {
            PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                ConfigError::new(
                    "key",
                    format!("{} holds no usable private key: {e}", config.key.display()),
                )
            })
        };
        // The handshake accepts a chain to any bound CA; which identities each CA may
        // vouch for is checked per call against the same bindings (`anchors`).
        let specs = config.trust_specs()?;
        let mut roots = RootCertStore::empty();
        for spec in &specs {
            let certs =
                parse_pem_certs(&spec.pem).map_err(|e| ConfigError::new(&spec.source, e))?;
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(ConfigError::new(
                    &spec.source,
                    "holds no CA certificate that can be used",
                ));
            }
        }
        let anchors = Arc::new(
            TrustAnchors::from_specs(&specs)
                .map_err(|e| ConfigError::new(e.source_key, e.problem))?,
        );
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| ConfigError::new("trust", format!("cannot be used: {e}")))?;
        let mut server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::new("cert", format!("TLS settings: {e}")))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key()?)
            .map_err(|e| {
                ConfigError::new(
                    "key",
                    format!(
                        "{} does not fit the certificate {}: {e}",
                        config.key.display(),
                        config.cert.display()
                    ),
                )
            })?;
        server.alpn_protocols = vec![ALPN_H2.to_vec()];
        let mut dial = HashMap::new();
        for (i, peer) in config.peers.iter().enumerate() {
            let key_name = format!("peers[{i}].ca");
            let pem = read(&key_name, &peer.ca)?;
            let mut roots = RootCertStore::empty();
            let certs = parse_pem_certs(&pem).map_err(|e| ConfigError::new(&key_name, e))?;
            roots.add_parsable_certificates(certs);
            let mut client = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| ConfigError::new(&key_name, format!("TLS settings: {e}")))?
                .with_root_certificates(roots)
                .with_client_auth_cert(chain.clone(), key()?)
                .map_err(|e| ConfigError::new("key", format!("{}: {e}", config.key.display())))?;
            client.alpn_protocols = vec![ALPN_H2.to_vec()];
            dial.insert(peer.district.clone(), Arc::new(client));
        }
        Ok(TlsMaterial {
            anchors,
            chain,
            key_pem,
            own,
            server: Arc::new(server),
            dial,
        })
    }
}

fn read(key: &str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))
}
