//! Who is calling, taken from a certificate alone.
//!
//! Setu accepts only mutual-TLS connections, so every caller presents a certificate
//! issued by the district CA. That certificate is the caller's whole identity: there
//! are no passwords, tokens or session tables to consult. This module defines what
//! an identity is (a peer node of some district, or an officer with a badge, a name
//! and a role) and how it is written into and read back out of a certificate.
//!
//! The encoding is a contract shared by the PKI that issues certificates and every
//! node that checks them:
//!
//! * a node certificate carries the subject alternative name URI
//!   `setu://node/<district>`;
//! * an officer certificate carries the URI `setu://officer/<district>/<badge>/<role>`
//!   and the officer's name as the subject Common Name.
//!
//! A certificate must carry exactly one `setu:` URI. Anything else is refused with an
//! [`IdentityError`] that says precisely what is wrong, because the person reading
//! the error is usually an administrator trying to work out why a login failed.

use std::fmt;
use std::str::FromStr;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

/// The scheme every Setu identity URI uses.
const SETU_SCHEME: &str = "setu";

/// The prefix of every well-formed Setu identity URI.
const SETU_PREFIX: &str = "setu://";

/// The shortest district id that is accepted.
const DISTRICT_MIN_LEN: usize = 2;

/// The longest district id that is accepted.
const DISTRICT_MAX_LEN: usize = 64;

/// The longest badge number that is accepted.
const BADGE_MAX_LEN: usize = 32;

/// The longest officer name (in characters, not bytes) that is accepted.
const NAME_MAX_CHARS: usize = 128;

/// Quotes a possibly hostile string for an error message.
///
/// Control characters are escaped so that they cannot corrupt a log line, and very
/// long input is shortened so that one bad certificate cannot flood the logs.
fn quote(s: &str) -> String {
    const LIMIT: usize = 80;
    let mut out = String::with_capacity(s.len().min(LIMIT) + 2);
    out.push('\'');
    for (i, c) in s.chars().enumerate() {
        if i == LIMIT {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('\'');
    out
}

/// Checks that `s` is a valid district id such as `jh-dhanbad`.
///
/// A district id is 2 to 64 characters long and consists of lower-case ASCII
/// letters and digits, with single dashes allowed between them (in other words it
/// matches `^[a-z0-9]+(-[a-z0-9]+)*$`). The error says which rule was broken.
pub fn validate_district_id(s: &str) -> Result<(), String> {
    let len = s.len();
    if !(DISTRICT_MIN_LEN..=DISTRICT_MAX_LEN).contains(&len) {
        return Err(format!(
            "district id {} must be {DISTRICT_MIN_LEN} to {DISTRICT_MAX_LEN} characters long (it has {len})",
            quote(s)
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "district id {} may contain only lower-case letters, digits and dashes",
            quote(s)
        ));
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err(format!(
            "district id {} may not start or end with a dash or contain two dashes in a row",
            quote(s)
        ));
    }
    Ok(())
}

/// Checks that `s` is a valid badge number such as `JH-1234` or `DHN/77.2`.
///
/// A badge is 1 to 32 characters long and consists of ASCII letters, digits,
/// dashes, slashes and dots.
pub fn validate_badge(s: &str) -> Result<(), String> {
    let len = s.len();
    if !(1..=BADGE_MAX_LEN).contains(&len) {
        return Err(format!(
            "badge {} must be 1 to {BADGE_MAX_LEN} characters long (it has {len})",
            quote(s)
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'))
    {
        return Err(format!(
            "badge {} may contain only ASCII letters, digits, '-', '/' and '.'",
            quote(s)
        ));
    }
    Ok(())
}

/// Checks that `s` is acceptable as an officer's name.
///
/// Names may be written in any script (Devanagari names are common), so the only
/// rules are a length of 1 to 128 characters, no control characters, and no
/// leading or trailing white space.
pub fn validate_officer_name(s: &str) -> Result<(), String> {
    let chars = s.chars().count();
    if !(1..=NAME_MAX_CHARS).contains(&chars) {
        return Err(format!(
            "officer name {} must be 1 to {NAME_MAX_CHARS} characters long (it has {chars})",
            quote(s)
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(format!(
            "officer name {} may not contain control characters",
            quote(s)
        ));
    }
    if s.trim() != s {
        return Err(format!(
            "officer name {} may not start or end with white space",
            quote(s)
        ));
    }
    Ok(())
}

/// What an officer is allowed to do, in order of increasing privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An ordinary officer: may read and search records.
    Officer,
    /// A liaison officer: may also post cross-district alerts.
    Liaison,
    /// An administrator: may do everything, including managing the node.
    Admin,
}

impl Role {
    /// Every role, in order of increasing privilege.
    pub const ALL: [Role; 3] = [Role::Officer, Role::Liaison, Role::Admin];

    /// The lower-case name used in certificates, configuration and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Liaison => "liaison",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may post alerts to other districts.
    pub fn can_post_alerts(self) -> bool {
        matches!(self, Role::Liaison | Role::Admin)
    }

    /// Whether this role has administrative rights.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl FromStr for Role {
    type Err = String;

    /// Parses a role name, ignoring case and surrounding white space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                format!(
                    "unknown role {}: expected one of officer, liaison, admin",
                    quote(s)
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A police officer, as named by their certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    /// The district that issued the officer's certificate, such as `jh-dhanbad`.
    pub district: String,
    /// The officer's badge number, such as `JH-1234`.
    pub badge: String,
    /// The officer's name as written in the certificate's Common Name.
    pub name: String,
    /// What the officer is allowed to do.
    pub role: Role,
}

impl fmt::Display for Officer {
    /// Formats the officer as `JH-1234 (Ravi Example, admin, jh-dhanbad)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {}, {})",
            self.badge, self.name, self.role, self.district
        )
    }
}

/// The authenticated party on the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A person using the client.
    Officer(Officer),
    /// Another district's node, dialling in to federate.
    Node {
        /// The district the node serves.
        district: String,
    },
}

impl Identity {
    /// The district this identity belongs to.
    pub fn district(&self) -> &str {
        match self {
            Identity::Officer(officer) => &officer.district,
            Identity::Node { district } => district,
        }
    }

    /// The officer, if this identity is one.
    pub fn as_officer(&self) -> Option<&Officer> {
        match self {
            Identity::Officer(officer) => Some(officer),
            Identity::Node { .. } => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Officer(officer) => write!(f, "officer {officer}"),
            Identity::Node { district } => write!(f, "node {district}"),
        }
    }
}

/// The DNS name every node certificate of `district` also carries,
/// `<district>.node.setu`, so that a peer can pin the district in the TLS handshake.
pub fn node_dns_name(district: &str) -> String {
    format!("{district}.node.setu")
}

/// The SAN URI that names a node: `setu://node/<district>`.
pub fn node_uri(district: &str) -> String {
    format!("{SETU_PREFIX}node/{district}")
}

/// The SAN URI that names an officer: `setu://officer/<district>/<badge>/<role>`.
pub fn officer_uri(district: &str, badge: &str, role: Role) -> String {
    format!("{SETU_PREFIX}officer/{district}/{badge}/{role}")
}

/// Why a certificate does not name a Setu identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The bytes are not a DER-encoded X.509 certificate.
    #[error("the certificate could not be parsed as X.509: {0}")]
    Unparsable(String),
    /// The subject alternative name extension is present but unreadable.
    #[error("the certificate's subject alternative name extension is malformed: {0}")]
    BadSanExtension(String),
    /// The certificate has no subject alternative name extension at all.
    #[error(
        "the certificate has no subject alternative name extension, so it names no Setu node or officer"
    )]
    NoSan,
    /// None of the subject alternative names is a `setu:` URI.
    #[error(
        "the certificate's subject alternative names contain no setu:// URI, so it names no Setu node or officer"
    )]
    NoSetuUri,
    /// More than one `setu:` URI is present, so the identity is ambiguous.
    #[error("the certificate carries more than one setu:// URI ({first} and {second}); exactly one is allowed")]
    MultipleSetuUris {
        /// The first `setu:` URI found, quoted.
        first: String,
        /// The second `setu:` URI found, quoted.
        second: String,
    },
    /// The `setu:` URI does not have one of the two accepted shapes.
    #[error("the certificate's setu URI {uri} is malformed: {reason}")]
    MalformedUri {
        /// The offending URI, quoted.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The district in the URI is not a valid district id.
    #[error("the certificate names an invalid district: {0}")]
    BadDistrict(String),
    /// The badge in the URI is not a valid badge number.
    #[error("the certificate names an invalid badge: {0}")]
    BadBadge(String),
    /// The role in the URI is not one of the known roles.
    #[error("the certificate names an invalid role: {0}")]
    BadRole(String),
    /// An officer certificate has no subject Common Name to take the name from.
    #[error("the officer certificate has no subject common name to take the officer's name from")]
    MissingName,
    /// The subject Common Name cannot serve as the officer's name.
    #[error("the officer certificate's common name is unusable: {0}")]
    BadName(String),
}

/// What a `setu:` URI says, before the rest of the certificate is consulted.
enum SetuUri {
    /// `setu://node/<district>`.
    Node { district: String },
    /// `setu://officer/<district>/<badge>/<role>`.
    Officer {
        district: String,
        badge: String,
        role: Role,
    },
}

/// Whether `uri` uses the `setu:` scheme, compared without regard to case.
///
/// The comparison is lenient on purpose: a URI such as `SETU://node/x` still counts
/// towards the "exactly one" rule, and is then refused as malformed, rather than
/// being silently ignored next to another, well-formed one.
fn is_setu_uri(uri: &str) -> bool {
    uri.split_once(':')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(SETU_SCHEME))
}

/// Parses a `setu:` URI into the identity it describes.
fn parse_setu_uri(uri: &str) -> Result<SetuUri, IdentityError> {
    let malformed = |reason: &str| IdentityError::MalformedUri {
        uri: quote(uri),
        reason: reason.to_owned(),
    };
    let rest = uri
        .strip_prefix(SETU_PREFIX)
        .ok_or_else(|| malformed("it must begin with 'setu://' in lower case"))?;
    let (kind, rest) = rest.split_once('/').ok_or_else(|| {
        malformed("it must be setu://node/<district> or setu://officer/<district>/<badge>/<role>")
    })?;
    match kind {
        "node" => {
            if rest.contains('/') {
                return Err(malformed("a node URI must be setu://node/<district>"));
            }
            validate_district_id(rest).map_err(IdentityError::BadDistrict)?;
            Ok(SetuUri::Node {
                district: rest.to_owned(),
            })
        }
        "officer" => {
            // The district and the role cannot contain slashes, but the badge can, so
            // the district is everything before the first slash, the role everything
            // after the last one, and the badge whatever lies between them.
            let shape = "an officer URI must be setu://officer/<district>/<badge>/<role>";
            let (district, rest) = rest.split_once('/').ok_or_else(|| malformed(shape))?;
            let (badge, role) = rest.rsplit_once('/').ok_or_else(|| malformed(shape))?;
            validate_district_id(district).map_err(IdentityError::BadDistrict)?;
            validate_badge(badge).map_err(IdentityError::BadBadge)?;
            let role = Role::from_str(role).map_err(IdentityError::BadRole)?;
            Ok(SetuUri::Officer {
                district: district.to_owned(),
                badge: badge.to_owned(),
                role,
            })
        }
        _ => Err(malformed(
            "the kind after 'setu://' must be 'node' or 'officer'",
        )),
    }
}

/// Reads the officer's name from the certificate's single subject Common Name.
fn officer_name(cert: &X509Certificate<'_>) -> Result<String, IdentityError> {
    let mut names = cert.subject().iter_common_name();
    let first = names.next().ok_or(IdentityError::MissingName)?;
    if names.next().is_some() {
        return Err(IdentityError::BadName(
            "the subject has more than one common name".to_owned(),
        ));
    }
    let name = first.as_str().map_err(|e| {
        IdentityError::BadName(format!("it is not a UTF-8, printable or IA5 string ({e})"))
    })?;
    validate_officer_name(name).map_err(IdentityError::BadName)?;
    Ok(name.to_owned())
}

/// Works out who a DER-encoded certificate names.
///
/// The certificate's signature, validity period and issuer are not checked here:
/// that is the TLS layer's job, and this function is meant to be called only on a
/// certificate that the TLS layer has already accepted. What it does check is that
/// the certificate carries exactly one well-formed `setu:` URI and, for an officer,
/// a usable name.
pub fn identity_from_der(der: &[u8]) -> Result<Identity, IdentityError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    if !rest.is_empty() {
        return Err(IdentityError::Unparsable(format!(
            "{} bytes of trailing data follow the certificate",
            rest.len()
        )));
    }
    let san = cert
        .subject_alternative_name()
        .map_err(|e| IdentityError::BadSanExtension(e.to_string()))?
        .ok_or(IdentityError::NoSan)?;

    let mut found: Option<&str> = None;
    for name in &san.value.general_names {
        if let GeneralName::URI(uri) = name {
            if is_setu_uri(uri) {
                if let Some(first) = found {
                    return Err(IdentityError::MultipleSetuUris {
                        first: quote(first),
                        second: quote(uri),
                    });
                }
                found = Some(uri);
            }
        }
    }
    let uri = found.ok_or(IdentityError::NoSetuUri)?;

    match parse_setu_uri(uri)? {
        SetuUri::Node { district } => Ok(Identity::Node { district }),
        SetuUri::Officer {
            district,
            badge,
            role,
        } => Ok(Identity::Officer(Officer {
            district,
            badge,
            name: officer_name(&cert)?,
            role,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::pki::{Ca, IssuedCert, Validity};
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    /// Converts the PEM certificate of an issued pair to DER.
    fn der_of(issued: &IssuedCert) -> Vec<u8> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(issued.cert_pem.as_bytes())
            .expect("the issued certificate is valid PEM");
        pem.contents
    }

    /// Makes a self-signed certificate with the given URIs and Common Name.
    fn self_signed(uris: &[&str], cn: Option<&str>) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        params.subject_alt_names = uris
            .iter()
            .map(|u| SanType::URI((*u).try_into().expect("ASCII URI")))
            .collect();
        let key = KeyPair::generate().expect("key generation works");
        params
            .self_signed(&key)
            .expect("self-signing works")
            .der()
            .to_vec()
    }

    #[test]
    fn district_ids() {
        for ok in ["jh-dhanbad", "ab", "a1", "mh-mumbai-2", &"x".repeat(64)] {
            assert_eq!(validate_district_id(ok), Ok(()), "{ok}");
        }
        let err = validate_district_id("Jh_Dhanbad").unwrap_err();
        assert_eq!(
            err,
            "district id 'Jh_Dhanbad' may contain only lower-case letters, digits and dashes"
        );
        for bad in [
            "",
            "a",
            "-ab",
            "ab-",
            "a--b",
            "a b",
            "jh/dhanbad",
            &"x".repeat(65),
        ] {
            assert!(validate_district_id(bad).is_err(), "{bad}");
        }
        assert!(validate_district_id("a").unwrap_err().contains("2 to 64"));
        assert!(validate_district_id("a--b")
            .unwrap_err()
            .contains("two dashes"));
    }

    #[test]
    fn badges() {
        for ok in ["JH-1234", "1", "DHN/77.2", &"9".repeat(32)] {
            assert_eq!(validate_badge(ok), Ok(()), "{ok}");
        }
        for bad in ["", "JH 1234", "JH_1234", "बैज", &"9".repeat(33)] {
            assert!(validate_badge(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn officer_names() {
        assert_eq!(validate_officer_name("रवि कुमार"), Ok(()));
        assert_eq!(validate_officer_name(&"क".repeat(128)), Ok(()));
        assert!(validate_officer_name(&"क".repeat(129)).is_err());
        assert!(validate_officer_name("").is_err());
        assert!(validate_officer_name("Ravi\nExample").is_err());
        assert!(validate_officer_name(" Ravi").is_err());
    }

    #[test]
    fn roles() {
        assert_eq!("ADMIN".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" Liaison ".parse::<Role>(), Ok(Role::Liaison));
        assert_eq!("officer".parse::<Role>(), Ok(Role::Officer));
        let err = "chief".parse::<Role>().unwrap_err();
        assert!(err.contains("officer, liaison, admin"), "{err}");
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
        assert!(!Role::Officer.can_post_alerts());
        assert!(Role::Liaison.can_post_alerts());
        assert!(Role::Admin.can_post_alerts());
        assert!(Role::Admin.is_admin());
        assert!(!Role::Liaison.is_admin());
    }

    #[test]
    fn display() {
        let officer = Officer {
            district: "jh-dhanbad".into(),
            badge: "JH-1234".into(),
            name: "Ravi Example".into(),
            role: Role::Admin,
        };
        assert_eq!(
            officer.to_string(),
            "JH-1234 (Ravi Example, admin, jh-dhanbad)"
        );
        let identity = Identity::Officer(officer);
        assert_eq!(identity.district(), "jh-dhanbad");
        assert!(identity.as_officer().is_some());
        let node = Identity::Node {
            district: "jh-bokaro".into(),
        };
        assert_eq!(node.to_string(), "node jh-bokaro");
        assert_eq!(node.district(), "jh-bokaro");
    }

    #[test]
    fn uris() {
        assert_eq!(node_uri("jh-dhanbad"), "setu://node/jh-dhanbad");
        assert_eq!(
            officer_uri("jh-dhanbad", "JH-1234", Role::Liaison),
            "setu://officer/jh-dhanbad/JH-1234/liaison"
        );
    }

    #[test]
    fn node_certificate_round_trips() {
        let ca = Ca::generate("Test CA").unwrap();
        let issued = ca
            .issue_node(
                "jh-dhanbad",
                &["localhost".to_owned(), "127.0.0.1".to_owned()],
                Validity::days(30),
            )
            .unwrap();
        assert_eq!(
            identity_from_der(&der_of(&issued)),
            Ok(Identity::Node {
                district: "jh-dhanbad".into()
            })
        );
    }

    #[test]
    fn officer_certificate_round_trips_with_devanagari_name_and_slashed_badge() {
        let ca = Ca::generate("Test CA").unwrap();
        let issued = ca
            .issue_officer(
                "jh-dhanbad",
                "DHN/77.2",
                "रवि कुमार",
                Role::Liaison,
                Validity::days(30),
            )
            .unwrap();
        let identity = identity_from_der(&der_of(&issued)).unwrap();
        assert_eq!(
            identity,
            Identity::Officer(Officer {
                district: "jh-dhanbad".into(),
                badge: "DHN/77.2".into(),
                name: "रवि कुमार".into(),
                role: Role::Liaison,
            })
        );
        assert_eq!(
            identity.to_string(),
            "officer DHN/77.2 (रवि कुमार, liaison, jh-dhanbad)"
        );
    }

    #[test]
    fn garbage_is_unparsable() {
        assert!(matches!(
            identity_from_der(b"not a certificate"),
            Err(IdentityError::Unparsable(_))
        ));
        let mut der = self_signed(&["setu://node/jh-dhanbad"], None);
        der.push(0);
        assert!(matches!(
            identity_from_der(&der),
            Err(IdentityError::Unparsable(_))
        ));
    }

    #[test]
    fn certificate_without_san_is_refused() {
        let der = self_signed(&[], Some("Ravi"));
        assert_eq!(identity_from_der(&der), Err(IdentityError::NoSan));
    }

    #[test]
    fn certificate_without_setu_uri_is_refused() {
        let der = self_signed(&["https://example.org/"], Some("Ravi"));
        assert_eq!(identity_from_der(&der), Err(IdentityError::NoSetuUri));
    }

    #[test]
    fn two_setu_uris_are_refused() {
        let der = self_signed(
            &[
                "setu://node/jh-dhanbad",
                "setu://officer/jh-dhanbad/1/admin",
            ],
            Some("Ravi"),
        );
        let err = identity_from_der(&der).unwrap_err();
        assert!(
            matches!(err, IdentityError::MultipleSetuUris { .. }),
            "{err}"
        );
        // An upper-case scheme still counts, so that it cannot hide next to a good URI.
        let der = self_signed(&["setu://node/jh-dhanbad", "SETU://node/jh-bokaro"], None);
        assert!(matches!(
            identity_from_der(&der),
            Err(IdentityError::MultipleSetuUris { .. })
        ));
    }

    #[test]
    fn malformed_uris_are_refused() {
        type Check = fn(&IdentityError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("setu://node/Jh_Dhanbad", |e| {
                matches!(e, IdentityError::BadDistrict(_))
            }),
            ("setu://node/jh-dhanbad/extra", |e| {
                matches!(e, IdentityError::MalformedUri { .. })
            }),
            ("setu://officer/jh-dhanbad/JH-1/chief", |e| {
                matches!(e, IdentityError::BadRole(_))
            }),
            ("setu://officer/jh-dhanbad/JH_1/admin", |e| {
                matches!(e, IdentityError::BadBadge(_))
            }),
            ("setu://officer/jh-dhanbad//admin", |e| {
                matches!(e, IdentityError::BadBadge(_))
            }),
            ("setu://officer/jh-dhanbad/admin", |e| {
                matches!(e, IdentityError::MalformedUri { .. })
            }),
            ("setu://officer/jh-dhanbad", |e| {
                matches!(e, IdentityError::MalformedUri { .. })
            }),
            ("setu://district/jh-dhanbad", |e| {
                matches!(e, IdentityError::MalformedUri { .. })
            }),
            ("setu:node/jh-dhanbad", |e| {
                matches!(e, IdentityError::MalformedUri { .. })
            }),
        ];
        for (uri, expected) in cases {
            let der = self_signed(&[uri], Some("Ravi"));
            let err = identity_from_der(&der).unwrap_err();
            assert!(expected(&err), "{uri}: {err}");
        }
    }

    #[test]
    fn officer_without_name_is_refused() {
        let der = self_signed(&["setu://officer/jh-dhanbad/JH-1/officer"], None);
        assert_eq!(identity_from_der(&der), Err(IdentityError::MissingName));
        let der = self_signed(&["setu://officer/jh-dhanbad/JH-1/officer"], Some(""));
        assert!(matches!(
            identity_from_der(&der),
            Err(IdentityError::BadName(_))
        ));
    }

    #[test]
    fn error_messages_quote_hostile_input_safely() {
        let err = validate_district_id("a\nb").unwrap_err();
        assert!(err.contains("'a\\nb'"), "{err}");
        let long = "x".repeat(500);
        assert!(validate_district_id(&long).unwrap_err().len() < 200);
    }
}
