//! Who the officer is, read from their own certificate: for `setu whoami`, for the console
//! to greet them and offer what their role may do (a liaison's acknowledge button and alert
//! form), and for `alert watch` to know which district's acknowledgement it waits for.
//!
//! This is presentation only: the node decides every permission from the certificate it
//! verified, and refuses whatever the role may not do, whatever the client offered.

use std::path::Path;

use x509_parser::extensions::GeneralName;

/// The officer named by the certificate's `setu://officer/<district>/<badge>/<role>` URI and
/// its common name. Fields are empty when the certificate says nothing readable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Me {
    /// The officer's name (the certificate's CN).
    pub(crate) name: String,
    /// The badge number, e.g. "WB-2001".
    pub(crate) badge: String,
    /// The district, e.g. "wb-asansol-durgapur".
    pub(crate) district: String,
    /// `officer`, `liaison` or `admin`.
    pub(crate) role: String,
    /// The certificate's serial number, lower-case hex without leading zeros.
    pub(crate) serial: String,
    /// The end of the certificate's validity, in Unix milliseconds.
    pub(crate) not_after_ms: i64,
}

impl Me {
    /// Reads the first certificate of the PEM file at `path`; an unreadable one gives an
    /// empty identity (the node will say what is wrong with it on the first call).
    pub(crate) fn from_certificate(path: &Path) -> Me {
        Me::read(path).unwrap_or_default()
    }

    /// Reads the first certificate of the PEM file at `path`, saying why when it cannot.
    pub(crate) fn read(path: &Path) -> Result<Me, String> {
        let pem = std::fs::read(path).map_err(|e| e.to_string())?;
        Me::from_pem(&pem).ok_or_else(|| "no readable certificate in this PEM file".to_string())
    }

    /// Reads the identity out of a PEM certificate.
    fn from_pem(pem: &[u8]) -> Option<Me> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem).ok()?;
        let cert = pem.parse_x509().ok()?;
        let serial = hex::encode(cert.raw_serial());
        let serial = match serial.trim_start_matches('0') {
            "" => "0".to_string(),
            trimmed => trimmed.to_string(),
        };
        let not_after_ms = cert.validity().not_after.timestamp().saturating_mul(1000);
        let name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut me = Me {
            name,
            serial,
            not_after_ms,
            ..Me::default()
        };
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for general in &san.value.general_names {
                if let GeneralName::URI(uri) = general {
                    if let Some(rest) = uri.strip_prefix("setu://officer/") {
                        let parts: Vec<&str> = rest.split('/').collect();
                        if let [district, badge, role] = parts.as_slice() {
                            me.district = (*district).to_string();
                            me.badge = (*badge).to_string();
                            me.role = (*role).to_string();
                        }
                    }
                }
            }
        }
        Some(me)
    }

    /// Whether the role may post and acknowledge alerts (liaisons and admins).
    pub(crate) fn is_liaison(&self) -> bool {
        matches!(self.role.as_str(), "liaison" | "admin")
    }

    /// "Name (BADGE, role, district)", for the console's header and start-up line.
    pub(crate) fn describe(&self) -> String {
        if self.badge.is_empty() {
            return "the officer of this configuration".to_string();
        }
        format!(
            "{} ({}, {}, {})",
            self.name, self.badge, self.role, self.district
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_officer_uri_and_name() -> Result<(), Box<dyn std::error::Error>> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test Officer Bose");
        params.subject_alt_names = vec![rcgen::SanType::URI(rcgen::string::Ia5String::try_from(
            "setu://officer/wb-asansol-durgapur/WB-2001/liaison",
        )?)];
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let me = Me::from_pem(cert.pem().as_bytes()).ok_or("no identity read")?;
        assert_eq!(me.name, "Test Officer Bose");
        assert_eq!(me.badge, "WB-2001");
        assert_eq!(me.district, "wb-asansol-durgapur");
        assert!(me.is_liaison());
        assert!(
            !me.serial.is_empty() && !me.serial.starts_with('0'),
            "{me:?}"
        );
        assert!(me.not_after_ms > 0, "{me:?}");
        Ok(())
    }

    #[test]
    fn garbage_gives_an_empty_identity() {
        assert_eq!(Me::from_pem(b"not a certificate"), None);
        assert!(!Me::default().is_liaison());
    }
}
