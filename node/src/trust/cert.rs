//! What the rest of the trust code reads off a certificate: its DER from a PEM bundle, and
//! the serial, fingerprint and expiry that identify it in the deny-list, in logs and in
//! `setu peers`, and when its expiry is worth a warning. The one module of `trust/` that depends on nothing else of the node.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

/// A certificate expiring within this many days is warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

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

/// Unix milliseconds as an RFC 3339 UTC time, for logs.
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// Whole days from `now_ms` until `not_after_ms` (negative once expired).
pub fn days_left(not_after_ms: i64, now_ms: i64) -> i64 {
    not_after_ms.saturating_sub(now_ms).div_euclid(DAY_MS)
}

/// Whether a certificate expiring at `not_after_ms` is to be warned about at `now_ms`.
pub fn expires_soon(not_after_ms: i64, now_ms: i64) -> bool {
    not_after_ms != 0 && days_left(not_after_ms, now_ms) < EXPIRY_WARNING_DAYS
}

/// Logs a warning when the certificate `what` expires within the warning period.
pub fn warn_if_expiring(what: &str, facts: &CertFacts, now_ms: i64) {
    if !expires_soon(facts.not_after_ms, now_ms) {
        return;
    }
    let days = days_left(facts.not_after_ms, now_ms);
    let expires = format_ms(facts.not_after_ms);
    if days < 0 {
        tracing::error!(certificate = what, serial = %facts.serial, %expires, "certificate has expired; renew it with `setu-node pki renew` and reload (SIGHUP)");
    } else {
        tracing::warn!(certificate = what, serial = %facts.serial, %expires, days_left = days, "certificate expires within {EXPIRY_WARNING_DAYS} days; renew it with `setu-node pki renew` and reload (SIGHUP)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_warnings() {
        let now = 1_760_000_000_000;
        assert_eq!(days_left(now + 10 * DAY_MS + 5, now), 10);
        assert_eq!(days_left(now - 1, now), -1);
        assert!(expires_soon(now + 29 * DAY_MS, now));
        assert!(!expires_soon(now + 31 * DAY_MS, now));
        assert!(!expires_soon(0, now), "unknown expiry is not warned about");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
    }
}
