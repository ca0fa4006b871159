//! What the rest of the trust code reads off a certificate: its DER from a PEM bundle, and
//! the serial, fingerprint and expiry that identify it in the deny-list, in logs and in
//! `setu peers`. The one module of `trust/` that depends on nothing else of the node.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

/// Parses every certificate in a PEM bundle.
pub fn parse_pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate bundle: {e}"))
}

/// What identifies one certificate for the deny-list and in logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The serial number, lower-case hex without leading zeros or colons.
    pub serial: String,
    /// The SHA-256 of the DER encoding, lower-case hex.
    pub sha256: String,
    /// The end of the validity period, in Unix milliseconds.
    pub not_after_ms: i64,
}

impl CertFacts {
    /// Reads the serial, fingerprint and expiry of a DER certificate.
    pub fn of_der(der: &[u8]) -> Result<CertFacts, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
        Ok(CertFacts {
            serial: normalise_serial(&hex::encode(cert.raw_serial())),
            sha256: hex::encode(Sha256::digest(der)),
            not_after_ms: cert.validity().not_after.timestamp().saturating_mul(1000),
        })
    }
}

/// Lower-case hex without leading zeros ("0" for zero).
pub(crate) fn normalise_serial(hex: &str) -> String {
    let trimmed = hex.trim_start_matches('0').to_ascii_lowercase();
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed
    }
}
