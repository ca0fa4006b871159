//! Officers (and impostors) connecting to a node over mutual TLS, and reading the TLS
//! alert out of a refused call.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::AlertDescription;
use setu_proto::v1::alert_service_client::AlertServiceClient;
use setu_proto::v1::audit_service_client::AuditServiceClient;
use setu_proto::v1::import_service_client::ImportServiceClient;
use setu_proto::v1::mo_service_client::MoServiceClient;
use setu_proto::v1::photo_service_client::PhotoServiceClient;
use setu_proto::v1::record_service_client::RecordServiceClient;
use setu_proto::v1::search_service_client::SearchServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::Status;

use crate::pki::CertPair;

/// A channel to `addr` trusting `ca` and presenting `identity` (or no certificate at all).
///
/// Under TLS 1.3 this usually succeeds even when the node will refuse the certificate: the
/// refusal arrives with the first call.
pub async fn connect(
    addr: SocketAddr,
    ca: &Path,
    identity: Option<&CertPair>,
) -> anyhow::Result<Channel> {
    let ca_pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("127.0.0.1");
    if let Some(pair) = identity {
        let cert = std::fs::read(&pair.cert).context("reading the client certificate")?;
        let key = std::fs::read(&pair.key).context("reading the client key")?;
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Endpoint::from_shared(format!("https://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .tls_config(tls)?
        .connect()
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    Ok(channel)
}

/// The certificate the node at `addr` serves to a new connection (its serial, fingerprint
/// and expiry), read with a bare TLS handshake that trusts `ca` and presents `identity`.
pub async fn server_cert(
    addr: SocketAddr,
    ca: &Path,
    identity: &CertPair,
) -> anyhow::Result<setu_node::trust::cert::CertFacts> {
    let ca_pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in setu_node::trust::cert::parse_pem_certs(&ca_pem).map_err(anyhow::Error::msg)? {
        roots.add(cert)?;
    }
    let chain = setu_node::trust::cert::parse_pem_certs(&std::fs::read(&identity.cert)?)
        .map_err(anyhow::Error::msg)?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(&std::fs::read(&identity.key)?)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)?;
    tokio::task::spawn_blocking(move || {
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?.to_owned();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name)?;
        let mut sock = std::net::TcpStream::connect(addr)?;
        sock.set_read_timeout(Some(Duration::from_secs(10)))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
        let leaf = conn
            .peer_certificates()
            .and_then(|certs| certs.first())
            .context("the node presented no certificate")?;
        setu_node::trust::cert::CertFacts::of_der(leaf.as_ref()).map_err(anyhow::Error::msg)
    })
    .await?
}

/// A record service client on `channel`.
pub fn records(channel: &Channel) -> RecordServiceClient<Channel> {
    RecordServiceClient::new(channel.clone())
}

/// An MO-note service client on `channel`.
pub fn mo(channel: &Channel) -> MoServiceClient<Channel> {
    MoServiceClient::new(channel.clone())
}

/// A photo service client on `channel`.
pub fn photos(channel: &Channel) -> PhotoServiceClient<Channel> {
    PhotoServiceClient::new(channel.clone())
}

/// An audit service client on `channel`.
pub fn audit(channel: &Channel) -> AuditServiceClient<Channel> {
    AuditServiceClient::new(channel.clone())
}

/// A search service client on `channel`.
pub fn search(channel: &Channel) -> SearchServiceClient<Channel> {
    SearchServiceClient::new(channel.clone())
}

/// An officer connected to a node.
#[derive(Clone)]
pub struct Officer {
    /// The mutual-TLS channel.
    pub channel: Channel,
    /// The officer's certificate files.
    pub cert: CertPair,
    /// How the node names this officer in `created_by`/`updated_by`, e.g. `JH-1001 (jh-dhanbad)`.
    pub label: String,
}

impl Officer {
    /// The record service.
    pub fn records(&self) -> RecordServiceClient<Channel> {
        records(&self.channel)
    }

    /// The MO-note service.
    pub fn mo(&self) -> MoServiceClient<Channel> {
        mo(&self.channel)
    }

    /// The photo service.
    pub fn photos(&self) -> PhotoServiceClient<Channel> {
        photos(&self.channel)
    }

    /// The audit service.
    pub fn audit(&self) -> AuditServiceClient<Channel> {
        audit(&self.channel)
    }

    /// The search service.
    pub fn search(&self) -> SearchServiceClient<Channel> {
        search(&self.channel)
    }

    /// The alert service.
    pub fn alerts(&self) -> AlertServiceClient<Channel> {
        AlertServiceClient::new(self.channel.clone())
    }

    /// The import and export service.
    pub fn imports(&self) -> ImportServiceClient<Channel> {
        ImportServiceClient::new(self.channel.clone())
    }
}

/// Alerts a server may send when it refuses a client certificate.
const REFUSAL_ALERTS: [AlertDescription; 8] = [
    AlertDescription::CertificateRequired,
    AlertDescription::UnknownCA,
    AlertDescription::CertificateExpired,
    AlertDescription::BadCertificate,
    AlertDescription::CertificateUnknown,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::AccessDenied,
    AlertDescription::DecryptError,
];

/// The TLS alert the peer sent, found anywhere in the status's source chain.
///
/// The typed `rustls::Error` does not survive the trip through h2, which rebuilds I/O
/// errors from their kind and text; so the alert is taken from the typed error when it is
/// there, and otherwise from the `received fatal alert: <Name>` text rustls writes.
pub fn tls_alert(status: &Status) -> Option<AlertDescription> {
    for error in chain(status) {
        if let Some(rustls::Error::AlertReceived(alert)) = error.downcast_ref::<rustls::Error>() {
            return Some(*alert);
        }
        let text = error.to_string();
        if let Some((_, name)) = text.split_once("received fatal alert: ") {
            let name = name.trim();
            if let Some(alert) = REFUSAL_ALERTS.iter().find(|a| format!("{a:?}") == name) {
                return Some(*alert);
            }
        }
    }
    None
}

/// Every error in the status's source chain, entering wrapped I/O errors through `get_ref`
/// (their `source` skips the error they wrap).
fn chain(status: &Status) -> Vec<&(dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = StdError::source(status);
    while let Some(error) = current {
        if out.len() > 32 {
            break;
        }
        out.push(error);
        current = match error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => error.source(),
        };
    }
    out
}

/// The whole source chain of a status, joined, for assertion messages.
pub fn describe(status: &Status) -> String {
    let mut text = format!("{:?}: {}", status.code(), status.message());
    for error in chain(status) {
        text.push_str(" <- ");
        text.push_str(&error.to_string());
    }
    text
}

/// Creates a FEDERATION record named `name` through `officer` and uploads to it a photo of
/// `size` bytes that does not compress (a PNG header of colour `rgb`, then random bytes),
/// as a link test needs; returns the record's id and the photo's SHA-256 in hex.
pub async fn record_with_incompressible_photo(
    officer: &Officer,
    name: &str,
    size: usize,
    rgb: [u8; 3],
) -> anyhow::Result<(String, String)> {
    use setu_proto::v1::upload_photo_request::Part;
    use setu_proto::v1::{CreateRecordRequest, Handling, UploadPhotoHeader, UploadPhotoRequest};
    use sha2::Digest as _;

    let mut record = crate::fixtures::sample_record(name);
    record.handling = Handling::Federation as i32;
    let created = officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner();
    let mut photo = crate::fixtures::png_bytes(rgb);
    anyhow::ensure!(size >= photo.len(), "a photo of {size} bytes is too small");
    let mut noise = vec![0u8; size - photo.len()];
    rand::Rng::fill(&mut rand::rng(), noise.as_mut_slice());
    photo.extend_from_slice(&noise);
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let mut messages = vec![UploadPhotoRequest {
        part: Some(Part::Header(UploadPhotoHeader {
            record_id: created.id.clone(),
            expected_version: 0,
        })),
    }];
    messages.extend(photo.chunks(1 << 20).map(|c| UploadPhotoRequest {
        part: Some(Part::Chunk(c.to_vec())),
    }));
    officer
        .photos()
        .upload(tokio_stream::iter(messages))
        .await?;
    Ok((created.id, sha))
}
