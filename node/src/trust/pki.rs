//! The district PKI: the certificate authority and the node and officer certificates
//! it issues.
//!
//! Every Setu connection is mutual TLS, and the certificate on each side is the
//! only proof of who is calling (see [`crate::trust::identity`]). Each district therefore
//! runs a small certificate authority of its own, kept offline in a directory
//! holding `ca.pem` and `ca.key`. This module creates that authority, loads it
//! back, and issues two kinds of certificate from it:
//!
//! * node certificates, which name a district's node with `setu://node/<district>`
//!   and carry the host names and addresses it is reached at; nodes both serve and
//!   dial each other, so these are valid for server and client authentication;
//! * officer certificates, which name one officer with
//!   `setu://officer/<district>/<badge>/<role>` and the officer's name as Common
//!   Name; these are valid for client authentication only.
//!
//! Private keys are written with mode 0600 and refused when group or others can
//! reach them, because a leaked CA or node key lets anyone impersonate the
//! district.

use std::fmt;
use std::fs::{self, OpenOptions, Permissions};
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rcgen::string::{Ia5String, PrintableString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::{ParsedExtension, X509Certificate};

use crate::trust::identity::{
    identity_from_der, node_dns_name, node_uri, officer_uri, validate_badge, validate_district_id,
    validate_officer_name, Identity, Role,
};
use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::extensions::GeneralName;

/// How long a node certificate is valid for by default, in days.
pub const NODE_CERT_DAYS: u32 = 825;

/// How long an officer certificate is valid for by default, in days.
pub const OFFICER_CERT_DAYS: u32 = 365;

/// How long the CA certificate is valid for, in days (about ten years).
pub const CA_CERT_DAYS: u32 = 3652;

/// The CA certificate's file name inside a CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";

/// The CA private key's file name inside a CA directory.
pub const CA_KEY_FILE: &str = "ca.key";

/// The longest validity that is honoured, in days (about a hundred years).
///
/// Longer requests are cut down to this, which keeps the date arithmetic far away
/// from the limits of the date types involved.
const MAX_DAYS: u32 = 36_525;

/// How far into the past a new certificate's validity starts, to tolerate peers
/// whose clocks run a little behind ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The longest CA name (in characters) that is accepted.
const CA_NAME_MAX_CHARS: usize = 128;

/// Everything that can go wrong while creating, loading or using the PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Reading or writing a file or directory failed.
    #[error("could not read or write {}: {source}", .path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// rcgen refused to generate a key or a certificate.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// An argument (district, badge, name, host, validity...) is not acceptable.
    #[error("{0}")]
    InvalidInput(String),
    /// A private key file can be reached by users other than its owner.
    #[error(
        "private key {} is {} by group or others (mode {mode:04o}); run chmod 600 {}",
        .path.display(),
        open_to(*.mode),
        .path.display()
    )]
    KeyTooOpen {
        /// The key file.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },
    /// A CA key already exists where a new CA was to be created.
    #[error(
        "{} already exists; refusing to overwrite the CA key (every certificate it issued would stop working). Move it away first if you really mean to start a new CA",
        .path.display()
    )]
    CaExists {
        /// The existing key file.
        path: PathBuf,
    },
    /// The CA certificate file cannot be used to issue certificates.
    #[error("{} is not a usable CA certificate: {reason}", .path.display())]
    BadCaCert {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A private key file cannot be read as a key.
    #[error("{} is not a usable private key: {reason}", .path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA key and the CA certificate do not belong together.
    #[error(
        "the private key {} does not belong to the CA certificate {}",
        .key.display(),
        .cert.display()
    )]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
}

/// Describes which kind of access the permission bits `mode` grant to others.
fn open_to(mode: u32) -> &'static str {
    if mode & 0o044 != 0 {
        "readable"
    } else {
        "accessible"
    }
}

/// Builds a closure that wraps an I/O error together with the path concerned.
fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A freshly issued certificate and its private key, both PEM-encoded.
#[derive(Clone)]
pub struct IssuedCert {
    /// The certificate, PEM-encoded.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM-encoded. Keep it secret.
    pub key_pem: String,
}

impl fmt::Debug for IssuedCert {
    /// Shows the certificate but never the private key, so that the key cannot
    /// end up in a log by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The period during which a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first moment the certificate is valid.
    pub not_before: OffsetDateTime,
    /// The last moment the certificate is valid.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// A validity starting five minutes ago (to allow for clock skew) and lasting
    /// `days` days from now. Requests beyond about a hundred years are cut down.
    pub fn days(days: u32) -> Self {
        let now = OffsetDateTime::now_utc();
        let days = i64::from(days.min(MAX_DAYS));
        Validity {
            not_before: now.checked_sub(CLOCK_SKEW).unwrap_or(now),
            // An overflow is impossible with the cap above and a sane clock; if the
            // clock is insane the empty period is refused when a certificate is issued.
            not_after: now.checked_add(Duration::days(days)).unwrap_or(now),
        }
    }

    /// A validity that ended yesterday, for testing that expired certificates are
    /// refused: it runs from ten days ago to one day ago.
    pub fn expired() -> Self {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now.checked_sub(Duration::days(10)).unwrap_or(now),
            not_after: now.checked_sub(Duration::days(1)).unwrap_or(now),
        }
    }

    /// Refuses a period that ends before it starts.
    fn check(&self) -> Result<(), PkiError> {
        if self.not_before >= self.not_after {
            return Err(PkiError::InvalidInput(format!(
                "certificate validity must end after it starts (not before {}, not after {})",
                self.not_before, self.not_after
            )));
        }
        Ok(())
    }
}

/// A random, positive, 128-bit certificate serial number.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Clearing the top bit keeps the number positive; setting the next one keeps it
    // non-zero and exactly sixteen bytes long.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// Checks a CA name, which becomes its Common Name and Organization.
fn validate_ca_name(name: &str) -> Result<(), PkiError> {
    let chars = name.chars().count();
    if !(1..=CA_NAME_MAX_CHARS).contains(&chars) || name.trim().is_empty() {
        return Err(PkiError::InvalidInput(format!(
            "the CA name must be 1 to {CA_NAME_MAX_CHARS} characters long and not blank"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(PkiError::InvalidInput(
            "the CA name may not contain control characters".to_owned(),
        ));
    }
    Ok(())
}

/// Turns a host given on the command line into a subject alternative name: an IP
/// address if it parses as one, a DNS name otherwise.
fn host_san(host: &str) -> Result<SanType, PkiError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    // Checking the name the way rustls does guarantees that clients can actually
    // dial the node under this name.
    if rustls::pki_types::DnsName::try_from(host).is_err() || host.starts_with("*.") {
        return Err(PkiError::InvalidInput(format!(
            "host {host:?} is neither an IP address nor a valid DNS name"
        )));
    }
    let name = Ia5String::try_from(host).map_err(|e| {
        PkiError::InvalidInput(format!("host {host:?} cannot be put in a certificate: {e}"))
    })?;
    Ok(SanType::DnsName(name))
}

/// Turns a Setu identity URI into a subject alternative name.
fn uri_san(uri: String) -> Result<SanType, PkiError> {
    Ia5String::try_from(uri)
        .map(SanType::URI)
        .map_err(|e| PkiError::InvalidInput(format!("identity URI is not ASCII: {e}")))
}

/// A district certificate authority: its certificate and its signing key.
pub struct Ca {
    /// The CA certificate, PEM-encoded, exactly as generated or loaded.
    cert_pem: String,
    /// The CA certificate, DER-encoded.
    cert_der: Vec<u8>,
    /// The last moment the CA certificate is valid; no issued certificate outlives it.
    not_after: OffsetDateTime,
    /// The CA's name and key, ready to sign.
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for Ca {
    /// Shows nothing of the signing key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Creates a new self-signed CA named `name`, valid for about ten years.
    ///
    /// The CA may sign end-entity certificates only (path length 0).
    pub fn generate(name: &str) -> Result<Ca, PkiError> {
        validate_ca_name(name)?;
        let validity = Validity::days(CA_CERT_DAYS);
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.serial_number = Some(random_serial());

        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Ca {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            not_after: validity.not_after,
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads the CA kept in `dir` as `ca.pem` and `ca.key`.
    ///
    /// The key must not be reachable by group or others, must belong to the
    /// certificate, and the certificate must be an unexpired CA certificate.
    pub fn load(dir: &Path) -> Result<Ca, PkiError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let cert_pem = fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
        check_key_permissions(&key_path)?;
        let key_pem = fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| PkiError::BadKey {
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        let bad_cert = |reason: String| PkiError::BadCaCert {
            path: cert_path.clone(),
            reason,
        };

        let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .map_err(|e| bad_cert(format!("no PEM certificate found ({e})")))?;
        if pem.label != "CERTIFICATE" {
            return Err(bad_cert(format!(
                "the PEM block is a {:?}, not a CERTIFICATE",
                pem.label
            )));
        }
        let cert_der = pem.contents;

        let (params, not_after, subject_raw) = {
            let (_, x509) = x509_parser::parse_x509_certificate(&cert_der)
                .map_err(|e| bad_cert(format!("it cannot be parsed ({e})")))?;
            match x509.basic_constraints() {
                Ok(Some(bc)) if bc.value.ca => {}
                _ => {
                    return Err(bad_cert(
                        "it is not a CA certificate (basic constraints CA flag not set)".to_owned(),
                    ))
                }
            }
            if x509.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
                return Err(PkiError::KeyMismatch {
                    key: key_path,
                    cert: cert_path,
                });
            }
            let not_after = x509.validity().not_after.to_datetime();
            if not_after <= OffsetDateTime::now_utc() {
                return Err(bad_cert(format!("it expired on {not_after}")));
            }
            let params = issuer_params(&x509).map_err(bad_cert)?;
            (params, not_after, x509.subject().as_raw().to_vec())
        };

        let ca = Ca {
            cert_pem,
            cert_der,
            not_after,
            issuer: Issuer::new(params, key),
        };
        ca.check_issuer_name(&subject_raw).map_err(bad_cert)?;
        Ok(ca)
    }

    /// Checks that certificates signed by this CA name it exactly as its own
    /// certificate does.
    ///
    /// TLS libraries match a certificate's issuer to its CA byte for byte, so a
    /// difference in encoding would make every issued certificate useless. Signing
    /// a throw-away certificate and comparing is the only sure way to know.
    fn check_issuer_name(&self, subject_raw: &[u8]) -> Result<(), String> {
        let probe = CertificateParams::default()
            .signed_by(self.issuer.key(), &self.issuer)
            .map_err(|e| format!("it cannot sign a test certificate ({e})"))?;
        let (_, probe) = x509_parser::parse_x509_certificate(probe.der())
            .map_err(|e| format!("its test certificate cannot be parsed ({e})"))?;
        if probe.issuer().as_raw() != subject_raw {
            return Err(
                "its subject name cannot be reproduced exactly when signing, so issued certificates would not chain to it"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Writes the CA to `dir` as `ca.pem` (mode 0644) and `ca.key` (mode 0600),
    /// creating the directory if needed and overwriting existing files.
    pub fn save(&self, dir: &Path) -> Result<(), PkiError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        write_public(&dir.join(CA_CERT_FILE), &self.cert_pem)?;
        write_private_key(&dir.join(CA_KEY_FILE), &self.issuer.key().serialize_pem())
    }

    /// The CA certificate, PEM-encoded: what nodes and clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER-encoded.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Issues a certificate for the node of `district`, reachable at `hosts`
    /// (DNS names or IP addresses), valid for both serving and dialling.
    pub fn issue_node(
        &self,
        district: &str,
        hosts: &[String],
        validity: Validity,
    ) -> Result<IssuedCert, PkiError> {
        validate_district_id(district).map_err(PkiError::InvalidInput)?;
        // The synthetic DNS name lets a peer pin the district during the TLS handshake
        // itself: a node dialling jh-dhanbad verifies the name `jh-dhanbad.node.setu`.
        let mut sans = vec![
            uri_san(node_uri(district))?,
            host_san(&node_dns_name(district))?,
        ];
        for host in hosts {
            let san = host_san(host)?;
            if !sans.contains(&san) {
                sans.push(san);
            }
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("setu node {district}"));
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.issue(params, validity)
    }

    /// Issues a certificate for an officer, valid for client authentication only.
    pub fn issue_officer(
        &self,
        district: &str,
        badge: &str,
        name: &str,
        role: Role,
        validity: Validity,
    ) -> Result<IssuedCert, PkiError> {
        validate_district_id(district).map_err(PkiError::InvalidInput)?;
        validate_badge(badge).map_err(PkiError::InvalidInput)?;
        validate_officer_name(name).map_err(PkiError::InvalidInput)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.subject_alt_names = vec![uri_san(officer_uri(district, badge, role))?];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params, validity)
    }

    /// Fills in what every end-entity certificate shares, generates its key and
    /// signs it.
    fn issue(
        &self,
        mut params: CertificateParams,
        validity: Validity,
    ) -> Result<IssuedCert, PkiError> {
        // A certificate cannot be trusted longer than the CA that vouches for it.
        params.not_before = validity.not_before;
        params.not_after = validity.not_after.min(self.not_after);
        Validity {
            not_before: params.not_before,
            not_after: params.not_after,
        }
        .check()?;
        params.serial_number = Some(random_serial());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Rebuilds, from a parsed CA certificate, the parameters rcgen needs to sign as
/// that CA: its subject name, key usages and key identifier.
fn issuer_params(x509: &X509Certificate<'_>) -> Result<CertificateParams, String> {
    let mut dn = DistinguishedName::new();
    for rdn in x509.subject().iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err("its subject has an empty or multi-valued name component".to_owned());
        };
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .ok_or("its subject has an attribute with an oversized type")?
            .collect();
        let ty = DnType::from_oid(&oid);
        if dn.get(&ty).is_some() {
            return Err("its subject repeats an attribute type".to_owned());
        }
        let value = attr.attr_value();
        let text = std::str::from_utf8(value.data)
            .map_err(|_| "its subject has an attribute that is not valid text".to_owned())?;
        let value = match value.header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text.to_owned()),
            Tag::PrintableString => DnValue::PrintableString(
                PrintableString::try_from(text).map_err(|e| e.to_string())?,
            ),
            Tag::Ia5String => {
                DnValue::Ia5String(Ia5String::try_from(text).map_err(|e| e.to_string())?)
            }
            other => {
                return Err(format!(
                    "its subject uses an unsupported string type ({other})"
                ))
            }
        };
        dn.push(ty, value);
    }

    let mut key_usages = Vec::new();
    if let Ok(Some(ku)) = x509.key_usage() {
        let ku = ku.value;
        let flags = [
            (ku.digital_signature(), KeyUsagePurpose::DigitalSignature),
            (ku.non_repudiation(), KeyUsagePurpose::ContentCommitment),
            (ku.key_encipherment(), KeyUsagePurpose::KeyEncipherment),
            (ku.data_encipherment(), KeyUsagePurpose::DataEncipherment),
            (ku.key_agreement(), KeyUsagePurpose::KeyAgreement),
            (ku.key_cert_sign(), KeyUsagePurpose::KeyCertSign),
            (ku.crl_sign(), KeyUsagePurpose::CrlSign),
            (ku.encipher_only(), KeyUsagePurpose::EncipherOnly),
            (ku.decipher_only(), KeyUsagePurpose::DecipherOnly),
        ];
        key_usages.extend(flags.into_iter().filter(|(set, _)| *set).map(|(_, ku)| ku));
    }

    // Issued certificates name the CA key by the CA's own subject key identifier,
    // so that the two always agree, whoever made the CA certificate.
    let key_identifier_method = x509
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => {
                Some(KeyIdMethod::PreSpecified(id.0.to_vec()))
            }
            _ => None,
        })
        .unwrap_or(KeyIdMethod::Sha256);

    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.key_usages = key_usages;
    params.key_identifier_method = key_identifier_method;
    Ok(params)
}

/// Writes a private key to `path` with mode 0600.
///
/// The permissions are set before the key is written, also when the file already
/// existed with wider permissions, so the key is never readable by others.
pub fn write_private_key(path: &Path, pem: &str) -> Result<(), PkiError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_err(path))?;
    file.set_permissions(Permissions::from_mode(0o600))
        .map_err(io_err(path))?;
    file.set_len(0).map_err(io_err(path))?;
    file.write_all(pem.as_bytes()).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// Writes a certificate or other public file to `path` with mode 0644.
pub fn write_public(path: &Path, pem: &str) -> Result<(), PkiError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)
        .map_err(io_err(path))?;
    file.set_permissions(Permissions::from_mode(0o644))
        .map_err(io_err(path))?;
    file.write_all(pem.as_bytes()).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// Refuses a private key file that group or others can read, write or execute.
pub fn check_key_permissions(path: &Path) -> Result<(), PkiError> {
    let mode = fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(PkiError::KeyTooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Writes an issued certificate to `dir/<stem>.pem` and its key to
/// `dir/<stem>.key`, creating `dir` if needed.
pub fn write_issued(dir: &Path, stem: &str, issued: &IssuedCert) -> Result<(), PkiError> {
    if stem.is_empty() || stem.contains(['/', '\\']) || stem == "." || stem == ".." {
        return Err(PkiError::InvalidInput(format!(
            "file stem {stem:?} must be a plain file name"
        )));
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_public(&dir.join(format!("{stem}.pem")), &issued.cert_pem)?;
    write_private_key(&dir.join(format!("{stem}.key")), &issued.key_pem)
}

/// Creates a new CA named `name` in `out` (as `ca.pem` and `ca.key`).
///
/// An existing `ca.key` is never overwritten, because replacing a CA silently
/// would lock every node and officer out.
pub fn init_ca_dir(out: &Path, name: &str) -> Result<(), PkiError> {
    let key_path = out.join(CA_KEY_FILE);
    if fs::symlink_metadata(&key_path).is_ok() {
        return Err(PkiError::CaExists { path: key_path });
    }
    Ca::generate(name)?.save(out)
}

/// Issues a node certificate from the CA in `ca_dir` and writes `out/node.pem`,
/// `out/node.key` and a copy of the CA certificate as `out/ca.pem`.
pub fn issue_node_to_dir(
    ca_dir: &Path,
    district: &str,
    hosts: &[String],
    out: &Path,
) -> Result<(), PkiError> {
    let ca = Ca::load(ca_dir)?;
    let issued = ca.issue_node(district, hosts, Validity::days(NODE_CERT_DAYS))?;
    write_issued(out, "node", &issued)?;
    write_public(&out.join(CA_CERT_FILE), ca.cert_pem())
}

/// What `pki officer` tells the issuer about the certificate it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedFacts {
    /// The certificate's serial (lower-case hex), for the deny-list.
    pub serial: String,
    /// The end of its validity, in Unix milliseconds (never later than the CA's own).
    pub not_after_ms: i64,
    /// The certificate file.
    pub cert: PathBuf,
    /// The private key file (mode 0600).
    pub key: PathBuf,
}

/// Issues an officer certificate from the CA in `ca_dir`, valid for `days` days (the usual
/// [`OFFICER_CERT_DAYS`] when `None`; never beyond the CA's own validity), and writes
/// `out/officer.pem`, `out/officer.key` and a copy of the CA certificate as `out/ca.pem`.
pub fn issue_officer_to_dir(
    ca_dir: &Path,
    district: &str,
    badge: &str,
    name: &str,
    role: Role,
    days: Option<u32>,
    out: &Path,
) -> Result<IssuedFacts, PkiError> {
    let days = days.unwrap_or(OFFICER_CERT_DAYS);
    if days == 0 {
        return Err(PkiError::InvalidInput(
            "--days: 0 days is no validity; give at least 1".to_owned(),
        ));
    }
    let ca = Ca::load(ca_dir)?;
    let issued = ca.issue_officer(district, badge, name, role, Validity::days(days))?;
    write_issued(out, "officer", &issued)?;
    write_public(&out.join(CA_CERT_FILE), ca.cert_pem())?;
    let facts = facts_of_pem(&issued.cert_pem)?;
    Ok(IssuedFacts {
        serial: facts.serial,
        not_after_ms: facts.not_after_ms,
        cert: out.join("officer.pem"),
        key: out.join("officer.key"),
    })
}

/// The serial, fingerprint and expiry of the first certificate of a PEM text.
fn facts_of_pem(pem: &str) -> Result<crate::trust::cert::CertFacts, PkiError> {
    let der = crate::trust::cert::parse_pem_certs(pem.as_bytes())
        .map_err(PkiError::InvalidInput)?
        .into_iter()
        .next()
        .ok_or_else(|| PkiError::InvalidInput("the new certificate is empty".to_owned()))?;
    crate::trust::cert::CertFacts::of_der(der.as_ref()).map_err(PkiError::InvalidInput)
}

/// A renewed certificate: who it names and where it was written.
#[derive(Debug, Clone)]
pub struct Renewed {
    /// The identity, the same as the old certificate's.
    pub identity: Identity,
    /// The new certificate's serial (lower-case hex).
    pub serial: String,
    /// The old certificate's serial (lower-case hex), for the deny-list.
    pub old_serial: String,
    /// The end of the new certificate's validity.
    pub not_after: OffsetDateTime,
    /// The new certificate file.
    pub cert: PathBuf,
    /// The new private key file (mode 0600).
    pub key: PathBuf,
}

/// Issues a successor of the certificate in `old_cert` from the CA in `ca_dir`: the same
/// identity (district; badge, name and role of an officer; the host names and addresses of
/// a node), a new key pair and a new validity of `days` (the usual validity of its kind
/// when `None`). Writes `out/node.pem` and `out/node.key` (or `officer.*`) and a copy of the
/// CA certificate as `out/ca.pem`, like `pki node` and `pki officer`.
///
/// The old certificate must have been issued by that CA; it may have expired already.
pub fn renew_to_dir(
    ca_dir: &Path,
    old_cert: &Path,
    out: &Path,
    days: Option<u32>,
) -> Result<Renewed, PkiError> {
    let ca = Ca::load(ca_dir)?;
    let pem = fs::read(old_cert).map_err(io_err(old_cert))?;
    let bad = |reason: String| PkiError::InvalidInput(format!("{}: {reason}", old_cert.display()));
    let der = crate::trust::cert::parse_pem_certs(&pem)
        .map_err(bad)?
        .into_iter()
        .next()
        .ok_or_else(|| bad("holds no certificate".to_owned()))?;
    ca.check_issued(der.as_ref()).map_err(|reason| {
        PkiError::InvalidInput(format!(
            "{} was not issued by the CA in {} ({reason}); renew it with the CA that issued it",
            old_cert.display(),
            ca_dir.display()
        ))
    })?;
    let identity = identity_from_der(der.as_ref()).map_err(|e| bad(e.to_string()))?;
    let old_serial = crate::trust::cert::CertFacts::of_der(der.as_ref())
        .map_err(bad)?
        .serial;
    let (issued, stem) = match &identity {
        Identity::Node { district } => {
            let hosts = node_hosts(der.as_ref(), district).map_err(bad)?;
            let validity = Validity::days(days.unwrap_or(NODE_CERT_DAYS));
            (ca.issue_node(district, &hosts, validity)?, "node")
        }
        Identity::Officer(officer) => {
            let validity = Validity::days(days.unwrap_or(OFFICER_CERT_DAYS));
            let issued = ca.issue_officer(
                &officer.district,
                &officer.badge,
                &officer.name,
                officer.role,
                validity,
            )?;
            (issued, "officer")
        }
    };
    write_issued(out, stem, &issued)?;
    write_public(&out.join(CA_CERT_FILE), ca.cert_pem())?;
    let facts = facts_of_pem(&issued.cert_pem)?;
    let not_after = OffsetDateTime::from_unix_timestamp(facts.not_after_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(Renewed {
        identity,
        serial: facts.serial,
        old_serial,
        not_after,
        cert: out.join(format!("{stem}.pem")),
        key: out.join(format!("{stem}.key")),
    })
}

/// The host names and addresses a node certificate is valid for, besides the synthetic
/// `<district>.node.setu`.
fn node_hosts(der: &[u8], district: &str) -> Result<Vec<String>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let synthetic = node_dns_name(district);
    let mut hosts = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) if *dns != synthetic => hosts.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                        16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                        _ => None,
                    };
                    match ip {
                        Some(ip) => hosts.push(ip.to_string()),
                        None => return Err("it carries a malformed IP address".to_owned()),
                    }
                }
                _ => {}
            }
        }
    }
    Ok(hosts)
}

impl Ca {
    /// Checks that this CA signed the certificate `der` (at the start of its validity,
    /// so an expired certificate can still be renewed).
    fn check_issued(&self, der: &[u8]) -> Result<(), String> {
        let ca_der = CertificateDer::from(self.cert_der.as_slice());
        let anchor = webpki::anchor_from_trusted_cert(&ca_der)
            .map_err(|e| format!("the CA certificate cannot be a trust anchor: {e}"))?;
        let leaf_der = CertificateDer::from(der);
        let leaf = webpki::EndEntityCert::try_from(&leaf_der)
            .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
        let not_before = u64::try_from(parsed.validity().not_before.timestamp()).unwrap_or(0);
        // One second in, so that the check sits inside the validity period.
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(not_before + 1));
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &[anchor],
            &[],
            at,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::identity::{identity_from_der, Identity, Officer};
    use rustls::client::danger::ServerCertVerifier;
    use rustls::client::WebPkiServerVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::server::danger::ClientCertVerifier;
    use rustls::server::WebPkiClientVerifier;
    use rustls::RootCertStore;
    use std::sync::Arc;

    /// Converts a PEM certificate to DER.
    fn der(pem: &str) -> Vec<u8> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        pem.contents
    }

    /// The permission bits of a file.
    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Verifiers that trust only `ca_pem`, the way nodes and clients will.
    struct Verifiers {
        client: Arc<dyn ClientCertVerifier>,
        server: Arc<WebPkiServerVerifier>,
    }

    impl Verifiers {
        fn trusting(ca_pem: &str) -> Self {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from(der(ca_pem))).unwrap();
            let roots = Arc::new(roots);
            Verifiers {
                client: WebPkiClientVerifier::builder_with_provider(
                    roots.clone(),
                    provider.clone(),
                )
                .build()
                .unwrap(),
                server: WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .unwrap(),
            }
        }

        fn client_ok(&self, cert_pem: &str) -> Result<(), rustls::Error> {
            let ee = CertificateDer::from(der(cert_pem));
            self.client
                .verify_client_cert(&ee, &[], UnixTime::now())
                .map(drop)
        }

        fn server_ok(&self, cert_pem: &str, host: &str) -> Result<(), rustls::Error> {
            let ee = CertificateDer::from(der(cert_pem));
            let name = ServerName::try_from(host.to_owned()).unwrap();
            self.server
                .verify_server_cert(&ee, &[], &name, &[], UnixTime::now())
                .map(drop)
        }
    }

    fn hosts() -> Vec<String> {
        vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ]
    }

    #[test]
    fn issued_certificates_name_their_holders() {
        let ca = Ca::generate("Dhanbad District CA").unwrap();
        let node = ca
            .issue_node("jh-dhanbad", &hosts(), Validity::days(NODE_CERT_DAYS))
            .unwrap();
        assert_eq!(
            identity_from_der(&der(&node.cert_pem)).unwrap(),
            Identity::Node {
                district: "jh-dhanbad".into()
            }
        );
        let officer = ca
            .issue_officer(
                "jh-dhanbad",
                "JH-1234",
                "Ravi Example",
                Role::Admin,
                Validity::days(OFFICER_CERT_DAYS),
            )
            .unwrap();
        assert_eq!(
            identity_from_der(&der(&officer.cert_pem)).unwrap(),
            Identity::Officer(Officer {
                district: "jh-dhanbad".into(),
                badge: "JH-1234".into(),
                name: "Ravi Example".into(),
                role: Role::Admin,
            })
        );
        assert!(officer.key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{officer:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn issued_certificates_are_accepted_by_rustls() {
        let ca = Ca::generate("Dhanbad District CA").unwrap();
        let verifiers = Verifiers::trusting(ca.cert_pem());
        let node = ca
            .issue_node("jh-dhanbad", &hosts(), Validity::days(30))
            .unwrap();
        verifiers.client_ok(&node.cert_pem).unwrap();
        for host in hosts() {
            verifiers.server_ok(&node.cert_pem, &host).unwrap();
        }
        assert!(verifiers
            .server_ok(&node.cert_pem, "elsewhere.example")
            .is_err());

        let officer = ca
            .issue_officer(
                "jh-dhanbad",
                "JH-1",
                "रवि",
                Role::Officer,
                Validity::days(30),
            )
            .unwrap();
        verifiers.client_ok(&officer.cert_pem).unwrap();
        // An officer certificate is for client authentication only.
        let officer_node = ca
            .issue_officer(
                "jh-dhanbad",
                "localhost",
                "x",
                Role::Officer,
                Validity::days(30),
            )
            .unwrap();
        assert!(verifiers
            .server_ok(&officer_node.cert_pem, "localhost")
            .is_err());

        // Another CA's certificates are not accepted.
        let other = Ca::generate("Other CA").unwrap();
        let foreign = other
            .issue_node("jh-dhanbad", &hosts(), Validity::days(30))
            .unwrap();
        assert!(verifiers.client_ok(&foreign.cert_pem).is_err());
    }

    #[test]
    fn expired_validity_is_in_the_past_and_refused() {
        let validity = Validity::expired();
        let now = OffsetDateTime::now_utc();
        assert!(validity.not_before < validity.not_after);
        assert!(validity.not_after < now);

        let ca = Ca::generate("Test CA").unwrap();
        let issued = ca
            .issue_officer("jh-dhanbad", "JH-1", "Ravi", Role::Officer, validity)
            .unwrap();
        let der = der(&issued.cert_pem);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(cert.validity().not_after.timestamp() < now.unix_timestamp());
        assert!(Verifiers::trusting(ca.cert_pem())
            .client_ok(&issued.cert_pem)
            .is_err());
    }

    #[test]
    fn validity_days_allows_for_clock_skew() {
        let now = OffsetDateTime::now_utc();
        let validity = Validity::days(10);
        assert!(validity.not_before <= now - Duration::minutes(4));
        assert!(validity.not_after >= now + Duration::days(10) - Duration::minutes(1));
        let huge = Validity::days(u32::MAX);
        assert!(huge.not_after > now + Duration::days(36_000));
    }

    #[test]
    fn bad_input_is_refused() {
        let ca = Ca::generate("Test CA").unwrap();
        let v = Validity::days(1);
        let cases = [
            ca.issue_node("Jh_Dhanbad", &[], v),
            ca.issue_node("jh-dhanbad", &["bad host!".to_owned()], v),
            ca.issue_node("jh-dhanbad", &["*.example.org".to_owned()], v),
            ca.issue_officer("jh-dhanbad", "JH 1", "Ravi", Role::Officer, v),
            ca.issue_officer("jh-dhanbad", "JH-1", "", Role::Officer, v),
            ca.issue_officer("jh-dhanbad", "JH-1", "Ravi\u{7}", Role::Officer, v),
            ca.issue_officer("jh-dhanbad", "JH-1", &"a".repeat(129), Role::Officer, v),
        ];
        for result in cases {
            assert!(
                matches!(result, Err(PkiError::InvalidInput(_))),
                "{result:?}"
            );
        }
        let backwards = Validity {
            not_before: OffsetDateTime::now_utc(),
            not_after: OffsetDateTime::now_utc() - Duration::days(1),
        };
        assert!(matches!(
            ca.issue_node("jh-dhanbad", &[], backwards),
            Err(PkiError::InvalidInput(_))
        ));
        assert!(matches!(Ca::generate(""), Err(PkiError::InvalidInput(_))));
    }

    #[test]
    fn saved_ca_loads_and_issues_certificates_that_chain() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let ca = Ca::generate("Dhanbad District CA").unwrap();
        ca.save(&ca_dir).unwrap();
        assert_eq!(mode(&ca_dir.join("ca.key")), 0o600);
        assert_eq!(mode(&ca_dir.join("ca.pem")), 0o644);

        let loaded = Ca::load(&ca_dir).unwrap();
        assert_eq!(loaded.cert_pem(), ca.cert_pem());
        assert_eq!(loaded.cert_der(), ca.cert_der());
        let node = loaded
            .issue_node("jh-dhanbad", &hosts(), Validity::days(30))
            .unwrap();
        let verifiers = Verifiers::trusting(ca.cert_pem());
        verifiers.client_ok(&node.cert_pem).unwrap();
        verifiers.server_ok(&node.cert_pem, "localhost").unwrap();
    }

    #[test]
    fn ca_with_devanagari_name_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::generate("धनबाद ज़िला CA").unwrap();
        ca.save(dir.path()).unwrap();
        let loaded = Ca::load(dir.path()).unwrap();
        let officer = loaded
            .issue_officer(
                "jh-dhanbad",
                "JH-9",
                "सीता",
                Role::Liaison,
                Validity::days(3),
            )
            .unwrap();
        Verifiers::trusting(ca.cert_pem())
            .client_ok(&officer.cert_pem)
            .unwrap();
    }

    #[test]
    fn load_refuses_open_key_and_foreign_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::generate("Test CA").unwrap();
        ca.save(dir.path()).unwrap();
        let key_path = dir.path().join("ca.key");

        fs::set_permissions(&key_path, Permissions::from_mode(0o644)).unwrap();
        let err = Ca::load(dir.path()).unwrap_err();
        assert!(
            matches!(err, PkiError::KeyTooOpen { mode: 0o644, .. }),
            "{err}"
        );
        fs::set_permissions(&key_path, Permissions::from_mode(0o600)).unwrap();

        let other = Ca::generate("Other CA").unwrap();
        write_private_key(&key_path, &other.issuer.key().serialize_pem()).unwrap();
        let err = Ca::load(dir.path()).unwrap_err();
        assert!(matches!(err, PkiError::KeyMismatch { .. }), "{err}");

        let missing = Ca::load(&dir.path().join("nowhere")).unwrap_err();
        assert!(matches!(missing, PkiError::Io { .. }), "{missing}");
        assert!(missing.to_string().contains("nowhere"), "{missing}");
    }

    #[test]
    fn load_refuses_a_leaf_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::generate("Test CA").unwrap();
        let leaf = ca.issue_node("jh-dhanbad", &[], Validity::days(1)).unwrap();
        write_public(&dir.path().join("ca.pem"), &leaf.cert_pem).unwrap();
        write_private_key(&dir.path().join("ca.key"), &leaf.key_pem).unwrap();
        let err = Ca::load(dir.path()).unwrap_err();
        assert!(matches!(err, PkiError::BadCaCert { .. }), "{err}");
    }

    #[test]
    fn key_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        write_private_key(&path, "secret").unwrap();
        assert_eq!(mode(&path), 0o600);
        check_key_permissions(&path).unwrap();

        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let err = check_key_permissions(&path).unwrap_err();
        let shown = path.display().to_string();
        assert_eq!(
            err.to_string(),
            format!(
                "private key {shown} is readable by group or others (mode 0644); run chmod 600 {shown}"
            )
        );

        // Rewriting an existing, too open key file closes it again.
        write_private_key(&path, "new secret").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new secret");

        fs::set_permissions(&path, Permissions::from_mode(0o620)).unwrap();
        assert!(matches!(
            check_key_permissions(&path),
            Err(PkiError::KeyTooOpen { mode: 0o620, .. })
        ));
    }

    #[test]
    fn init_ca_dir_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        init_ca_dir(&ca_dir, "Test CA").unwrap();
        let before = fs::read_to_string(ca_dir.join("ca.key")).unwrap();
        let err = init_ca_dir(&ca_dir, "Test CA").unwrap_err();
        assert!(matches!(err, PkiError::CaExists { .. }), "{err}");
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(fs::read_to_string(ca_dir.join("ca.key")).unwrap(), before);
    }

    #[test]
    fn issue_to_dir_writes_certificate_key_and_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        init_ca_dir(&ca_dir, "Test CA").unwrap();
        let ca_pem = fs::read_to_string(ca_dir.join("ca.pem")).unwrap();
        let verifiers = Verifiers::trusting(&ca_pem);

        let node_dir = dir.path().join("node");
        issue_node_to_dir(&ca_dir, "jh-dhanbad", &hosts(), &node_dir).unwrap();
        assert_eq!(mode(&node_dir.join("node.key")), 0o600);
        assert_eq!(fs::read_to_string(node_dir.join("ca.pem")).unwrap(), ca_pem);
        let node_pem = fs::read_to_string(node_dir.join("node.pem")).unwrap();
        verifiers.server_ok(&node_pem, "127.0.0.1").unwrap();
        assert_eq!(
            identity_from_der(&der(&node_pem)).unwrap().district(),
            "jh-dhanbad"
        );
        KeyPair::from_pem(&fs::read_to_string(node_dir.join("node.key")).unwrap()).unwrap();

        let officer_dir = dir.path().join("officer");
        issue_officer_to_dir(
            &ca_dir,
            "jh-dhanbad",
            "JH-1234",
            "Ravi Example",
            Role::Liaison,
            Some(10),
            &officer_dir,
        )
        .unwrap();
        assert_eq!(mode(&officer_dir.join("officer.key")), 0o600);
        assert_eq!(
            fs::read_to_string(officer_dir.join("ca.pem")).unwrap(),
            ca_pem
        );
        let officer_pem = fs::read_to_string(officer_dir.join("officer.pem")).unwrap();
        verifiers.client_ok(&officer_pem).unwrap();
        let facts = crate::trust::cert::CertFacts::of_der(&der(&officer_pem)).unwrap();
        let now_ms = OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let days_left = crate::trust::cert::days_left(facts.not_after_ms, now_ms);
        assert!(
            (9..=10).contains(&days_left),
            "a ten-day certificate issued a moment ago: {days_left} whole days left"
        );
        assert!(matches!(
            issue_officer_to_dir(
                &ca_dir,
                "jh-dhanbad",
                "JH-1234",
                "Ravi Example",
                Role::Liaison,
                Some(0),
                &officer_dir,
            ),
            Err(PkiError::InvalidInput(m)) if m.contains("--days")
        ));
        let identity = identity_from_der(&der(&officer_pem)).unwrap();
        assert_eq!(
            identity.to_string(),
            "officer JH-1234 (Ravi Example, liaison, jh-dhanbad)"
        );
    }

    #[test]
    fn write_issued_refuses_paths_as_stems() {
        let dir = tempfile::tempdir().unwrap();
        let issued = IssuedCert {
            cert_pem: String::new(),
            key_pem: String::new(),
        };
        for stem in ["", "../x", "a/b", ".."] {
            assert!(matches!(
                write_issued(dir.path(), stem, &issued),
                Err(PkiError::InvalidInput(_))
            ));
        }
    }
}
