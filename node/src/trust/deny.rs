//! The node's deny-list: certificates it refuses although they chain to a trusted CA (an
//! officer transferred out, a stolen laptop, a retired node), named in `node.toml` by
//! serial number or by SHA-256 fingerprint.
//!
//! Entries are `serial:<hex>` or `sha256:<hex>`, hexadecimal in either case with or
//! without colons (`serial:4A:1B:...` as `openssl x509 -serial` or a browser shows it).
//! Serials are compared as numbers, so leading zeros do not matter. The list is checked on
//! every call (see [`crate::trust::auth::caller`]) and against every open connection when it
//! changes (see [`crate::net::connection`]); a reload swaps it without a restart.

use crate::trust::cert::{normalise_serial, CertFacts};

use std::collections::HashSet;
use std::fmt;

/// The longest serial number in hex digits (RFC 5280 allows 20 octets).
const MAX_SERIAL_HEX: usize = 40;
/// The length of a SHA-256 fingerprint in hex digits.
const FINGERPRINT_HEX: usize = 64;

/// An entry of the `deny` list that cannot be read, naming it (`deny[2]`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("config key `{key}`: {problem}")]
pub struct DenyError {
    /// The entry at fault.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

impl DenyError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        DenyError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Why a certificate is refused: which entry of the list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The certificate's serial (lower-case hex).
    pub serial: String,
    /// The entry that matched, as normalised (`serial:…` or `sha256:…`).
    pub entry: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate serial {} is on this node's deny-list (entry {})",
            self.serial, self.entry
        )
    }
}

/// The certificates a node refuses, by serial or fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyList {
    serials: HashSet<String>,
    fingerprints: HashSet<String>,
}

impl DenyList {
    /// Parses the `deny` entries of `node.toml`; a bad entry is refused naming `deny[i]`.
    pub fn parse(entries: &[String]) -> Result<DenyList, DenyError> {
        let mut list = DenyList::default();
        for (i, entry) in entries.iter().enumerate() {
            let key = format!("deny[{i}]");
            let (kind, value) = entry.trim().split_once(':').ok_or_else(|| {
                DenyError::new(
                    &key,
                    format!("'{entry}' must be `serial:<hex>` or `sha256:<hex>`"),
                )
            })?;
            let digits: String = value.chars().filter(|c| *c != ':').collect();
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(DenyError::new(
                    &key,
                    format!("'{entry}': the value must be hexadecimal digits (colons allowed)"),
                ));
            }
            let digits = digits.to_ascii_lowercase();
            match kind.trim().to_ascii_lowercase().as_str() {
                "serial" => {
                    if digits.len() > MAX_SERIAL_HEX {
                        return Err(DenyError::new(
                            &key,
                            format!(
                                "'{entry}': a serial has at most {MAX_SERIAL_HEX} hex digits (20 octets); this has {}",
                                digits.len()
                            ),
                        ));
                    }
                    list.serials.insert(normalise_serial(&digits));
                }
                "sha256" => {
                    if digits.len() != FINGERPRINT_HEX {
                        return Err(DenyError::new(
                            &key,
                            format!(
                                "'{entry}': a SHA-256 fingerprint has {FINGERPRINT_HEX} hex digits; this has {}",
                                digits.len()
                            ),
                        ));
                    }
                    list.fingerprints.insert(digits);
                }
                other => {
                    return Err(DenyError::new(
                        &key,
                        format!("'{entry}': unknown kind '{other}'; use `serial:` or `sha256:`"),
                    ))
                }
            }
        }
        Ok(list)
    }

    /// How many certificates the list names.
    pub fn len(&self) -> usize {
        self.serials.len() + self.fingerprints.len()
    }

    /// Whether the list names no certificate.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry naming the certificate with these facts, if any.
    pub fn check(&self, facts: &CertFacts) -> Option<Denial> {
        if self.serials.contains(&facts.serial) {
            return Some(Denial {
                serial: facts.serial.clone(),
                entry: format!("serial:{}", facts.serial),
            });
        }
        if self.fingerprints.contains(&facts.sha256) {
            return Some(Denial {
                serial: facts.serial.clone(),
                entry: format!("sha256:{}", facts.sha256),
            });
        }
        None
    }

    /// Like [`DenyList::check`], for a DER certificate; a certificate that cannot be parsed
    /// is not this list's business (the identity check refuses it).
    pub fn check_der(&self, der: &[u8]) -> Option<Denial> {
        if self.is_empty() {
            return None;
        }
        CertFacts::of_der(der).ok().and_then(|f| self.check(&f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(serial: &str, sha256: &str) -> CertFacts {
        CertFacts {
            serial: serial.into(),
            sha256: sha256.into(),
            not_after_ms: 0,
        }
    }

    #[test]
    fn entries_match_by_serial_or_fingerprint_in_any_spelling() -> Result<(), DenyError> {
        let fp = "ab".repeat(32);
        let list = DenyList::parse(&[
            "serial:00:4A:1B:2c".to_string(),
            format!("SHA256:{}", fp.to_uppercase()),
        ])?;
        assert_eq!(list.len(), 2);
        let denied = list.check(&facts("4a1b2c", "00")).expect("serial matches");
        assert_eq!(denied.entry, "serial:4a1b2c");
        assert!(denied.to_string().contains("deny-list"), "{denied}");
        assert!(
            list.check(&facts("1", &fp)).is_some(),
            "fingerprint matches"
        );
        assert!(list.check(&facts("4a1b2d", "00")).is_none());
        Ok(())
    }

    #[test]
    fn bad_entries_name_their_position() {
        let err = |entries: &[&str]| {
            let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
            DenyList::parse(&entries).unwrap_err().to_string()
        };
        let e = err(&["serial:01", "4a1b"]);
        assert!(e.contains("deny[1]") && e.contains("serial:<hex>"), "{e}");
        let e = err(&["serial:xyz"]);
        assert!(e.contains("deny[0]") && e.contains("hexadecimal"), "{e}");
        let e = err(&["sha256:abcd"]);
        assert!(e.contains("64 hex digits"), "{e}");
        let e = err(&["md5:abcd"]);
        assert!(e.contains("unknown kind 'md5'"), "{e}");
        let e = err(&[&format!("serial:{}", "1".repeat(41))]);
        assert!(e.contains("at most 40"), "{e}");
    }

    #[test]
    fn facts_of_a_real_certificate() -> Result<(), Box<dyn std::error::Error>> {
        let ca = crate::trust::pki::Ca::generate("Test Deny CA")?;
        let issued = ca.issue_officer(
            "jh-dhanbad",
            "JH-0001",
            "Test Officer",
            crate::trust::identity::Role::Officer,
            crate::trust::pki::Validity::days(10),
        )?;
        let der = crate::trust::cert::parse_pem_certs(issued.cert_pem.as_bytes())?
            .into_iter()
            .next()
            .ok_or("no certificate")?;
        let facts = CertFacts::of_der(der.as_ref())?;
        assert_eq!(facts.sha256.len(), 64);
        assert!(!facts.serial.starts_with('0'));
        let days = (facts.not_after_ms - crate::clock::now_ms()) / (24 * 3600 * 1000);
        assert!((9..=10).contains(&days), "{days}");
        let list = DenyList::parse(&[format!("serial:{}", facts.serial)])?;
        assert!(list.check_der(der.as_ref()).is_some());
        Ok(())
    }
}
