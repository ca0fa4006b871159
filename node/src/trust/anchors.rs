//! Trust anchors bound to districts: which CA may vouch for which districts' identities,
//! and of which kind (officer or node certificates).
//!
//! The TLS handshake accepts any certificate that chains to one of the node's CAs; that
//! only proves *some* trusted CA issued it. Whether the identity the certificate names is
//! believed is decided here: a certificate is accepted as identity X only when it chains
//! to a CA bound to X's district and kind. So a state CA can vouch for its own districts
//! and nothing else, and a peer's `ca` for that peer district alone. The same bindings
//! decide which node certificates may attest another district's signing key, so a
//! compromised state CA cannot forge records of a district it is not bound to.
//!
//! A pattern is an exact district id (`jh-dhanbad`), a prefix ending in `*` (`jh-*`), or
//! `*` alone.

use crate::trust::identity::{validate_district_id, Identity};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use webpki::{EndEntityCert, KeyUsage};

/// The kinds of certificate a CA may vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// Officer certificates of any role (officer, liaison, admin).
    Officer,
    /// District node certificates.
    Node,
}

impl CertKind {
    /// The kind of certificate that carries `identity`.
    pub fn of(identity: &Identity) -> CertKind {
        match identity {
            Identity::Officer(_) => CertKind::Officer,
            Identity::Node { .. } => CertKind::Node,
        }
    }

    /// The word used in config files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CertKind::Officer => "officer",
            CertKind::Node => "node",
        }
    }
}

impl fmt::Display for CertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of districts: an exact id, a prefix ending in `*`, or `*` for every district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictPattern(String);

impl DistrictPattern {
    /// Parses a pattern, refusing anything that is not a district id with an optional
    /// trailing `*`.
    pub fn parse(text: &str) -> Result<DistrictPattern, String> {
        if text == "*" {
            return Ok(DistrictPattern(text.to_string()));
        }
        match text.strip_suffix('*') {
            Some(prefix) => {
                let stem = prefix.trim_end_matches('-');
                validate_district_id(stem).map_err(|e| {
                    format!("the pattern's prefix is not the start of a district id: {e}")
                })?;
                if prefix.contains('*') {
                    return Err("only one `*` is allowed, at the end".to_string());
                }
                Ok(DistrictPattern(text.to_string()))
            }
            None => {
                validate_district_id(text)?;
                Ok(DistrictPattern(text.to_string()))
            }
        }
    }

    /// Whether `district` is in the set.
    pub fn matches(&self, district: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => district.starts_with(prefix),
            None => self.0 == district,
        }
    }
}

impl fmt::Display for DistrictPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What one binding is made of, before its certificates are parsed.
#[derive(Debug, Clone)]
pub struct BindingSpec {
    /// Where the binding comes from, for messages (a config key such as `trust[0]`).
    pub source: String,
    /// The CA certificate bundle, PEM.
    pub pem: Vec<u8>,
    /// The districts the CA vouches for.
    pub districts: Vec<DistrictPattern>,
    /// The kinds of certificate it vouches for.
    pub kinds: Vec<CertKind>,
}

/// Why a binding cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{source_key}: {problem}")]
pub struct AnchorError {
    /// The binding at fault (a config key).
    pub source_key: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Why a certificate is not accepted as the identity it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotVouched {
    /// No CA bound to the district and kind issued it.
    #[error("it names {identity}, but no CA this node binds to {district}'s {kind} certificates issued it")]
    NoBinding {
        /// The identity the certificate claims.
        identity: String,
        /// The district it claims.
        district: String,
        /// Its kind.
        kind: CertKind,
    },
    /// A CA bound to the district issued it, but not for this kind of certificate (a
    /// peer's CA names an officer: the peer is believed about its own officers only so far
    /// as to refuse them plainly).
    #[error("it names {identity}; the CA that issued it vouches for {district}'s node certificates only")]
    KindNotBound {
        /// The identity the certificate claims.
        identity: String,
        /// The district it claims.
        district: String,
        /// Its kind.
        kind: CertKind,
    },
    /// A CA bound to the district and kind issued it, but the chain does not verify (for
    /// instance, expired at the time that matters).
    #[error("{0}")]
    Rejected(String),
    /// It cannot be parsed as a certificate at all.
    #[error("it cannot be parsed: {0}")]
    Unparsable(String),
}

/// One CA and the districts and kinds it vouches for.
struct Binding {
    source: String,
    certs: Vec<CertificateDer<'static>>,
    anchors: Vec<TrustAnchor<'static>>,
    districts: Vec<DistrictPattern>,
    kinds: Vec<CertKind>,
}

impl Binding {
    fn issued(&self, cert: &EndEntityCert<'_>, at: UnixTime) -> bool {
        self.check(cert, at).is_ok()
    }

    fn check(&self, cert: &EndEntityCert<'_>, at: UnixTime) -> Result<(), webpki::Error> {
        cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &[],
            at,
            KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    }
}

/// What the bindings say about one certificate and the identity it names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// A CA bound to the district and kind issued it.
    Vouched,
    /// A CA bound to the district issued it, for another kind.
    KindNotBound,
    /// No CA bound to the district issued it.
    NoBinding,
    /// A CA bound to the district and kind issued it, but the chain does not verify.
    Rejected(String),
}

fn verdict_error(verdict: Verdict, identity: &Identity) -> Result<(), NotVouched> {
    let (identity_text, district, kind) = (
        identity.to_string(),
        identity.district().to_string(),
        CertKind::of(identity),
    );
    match verdict {
        Verdict::Vouched => Ok(()),
        Verdict::KindNotBound => Err(NotVouched::KindNotBound {
            identity: identity_text,
            district,
            kind,
        }),
        Verdict::NoBinding => Err(NotVouched::NoBinding {
            identity: identity_text,
            district,
            kind,
        }),
        Verdict::Rejected(reason) => Err(NotVouched::Rejected(reason)),
    }
}

/// Says in words why webpki refused a certificate chain.
pub(crate) fn describe_chain_error(error: &webpki::Error) -> String {
    match error {
        webpki::Error::UnknownIssuer => "it was not issued by any trusted CA".to_owned(),
        webpki::Error::CertExpired { .. } => {
            "it had expired when the statement was made".to_owned()
        }
        webpki::Error::CertNotValidYet { .. } => {
            "it was not yet valid when the statement was made".to_owned()
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "it is not valid for client authentication".to_owned()
        }
        other => other.to_string(),
    }
}

/// How many verdicts the per-certificate cache keeps before it starts afresh.
const VERDICT_CACHE_LIMIT: usize = 4096;

/// Every CA binding of a node, with a small cache of verdicts by certificate fingerprint
/// (a verdict costs a signature check; an officer's calls reuse one certificate).
pub struct TrustAnchors {
    bindings: Vec<Binding>,
    verdicts: Mutex<HashMap<([u8; 32], String), Verdict>>,
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.bindings.iter().map(|b| &b.source))
            .finish()
    }
}

impl TrustAnchors {
    /// Parses each binding's CA bundle. Every bundle must hold at least one usable CA
    /// certificate, and every binding at least one district and one kind.
    pub fn from_specs(specs: &[BindingSpec]) -> Result<TrustAnchors, AnchorError> {
        let mut bindings = Vec::with_capacity(specs.len());
        for spec in specs {
            let bad = |problem: String| AnchorError {
                source_key: spec.source.clone(),
                problem,
            };
            let mut certs = Vec::new();
            let mut anchors = Vec::new();
            for cert in CertificateDer::pem_slice_iter(&spec.pem) {
                let cert = cert.map_err(|e| bad(format!("is not valid PEM ({e})")))?;
                let anchor = webpki::anchor_from_trusted_cert(&cert)
                    .map_err(|e| bad(format!("holds a certificate that cannot be parsed ({e})")))?
                    .to_owned();
                anchors.push(anchor);
                certs.push(cert);
            }
            if certs.is_empty() {
                return Err(bad("holds no PEM certificate".to_string()));
            }
            if spec.districts.is_empty() {
                return Err(bad(
                    "binds no district; list at least one in `districts`".into()
                ));
            }
            if spec.kinds.is_empty() {
                return Err(bad(
                    "vouches for no kind of certificate; list `officer`, `node` or both in `kinds`"
                        .into(),
                ));
            }
            bindings.push(Binding {
                source: spec.source.clone(),
                certs,
                anchors,
                districts: spec.districts.clone(),
                kinds: spec.kinds.clone(),
            });
        }
        Ok(TrustAnchors {
            bindings,
            verdicts: Mutex::new(HashMap::new()),
        })
    }

    /// Every CA certificate of every binding, for the TLS handshake's root store.
    pub fn all_certs(&self) -> impl Iterator<Item = &CertificateDer<'static>> {
        self.bindings.iter().flat_map(|b| b.certs.iter())
    }

    /// Checks that `leaf` (DER), which names `identity`, chains to a CA bound to the
    /// identity's district and kind, valid at `at`.
    pub fn vouch_at(
        &self,
        leaf: &[u8],
        identity: &Identity,
        at: UnixTime,
    ) -> Result<(), NotVouched> {
        let der = CertificateDer::from(leaf);
        let cert =
            EndEntityCert::try_from(&der).map_err(|e| NotVouched::Unparsable(e.to_string()))?;
        verdict_error(self.verdict(&cert, identity, at), identity)
    }

    fn verdict(&self, cert: &EndEntityCert<'_>, identity: &Identity, at: UnixTime) -> Verdict {
        let district = identity.district();
        let kind = CertKind::of(identity);
        let mut district_bound = false;
        let mut rejected = None;
        for binding in &self.bindings {
            if !binding.districts.iter().any(|p| p.matches(district)) {
                continue;
            }
            match binding.check(cert, at) {
                Ok(()) if binding.kinds.contains(&kind) => return Verdict::Vouched,
                Ok(()) => district_bound = true,
                Err(webpki::Error::UnknownIssuer) => {}
                Err(other) if binding.kinds.contains(&kind) => {
                    rejected = Some(describe_chain_error(&other));
                }
                Err(_) => {}
            }
        }
        if let Some(reason) = rejected {
            Verdict::Rejected(reason)
        } else if district_bound {
            Verdict::KindNotBound
        } else {
            Verdict::NoBinding
        }
    }

    /// [`vouch_at`](Self::vouch_at) now, remembering the verdict for this certificate (the
    /// handshake already checked its validity period).
    pub fn vouch(&self, leaf: &[u8], identity: &Identity) -> Result<(), NotVouched> {
        let key = (Sha256::digest(leaf).into(), identity.to_string());
        let cached = self
            .verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        let verdict = match cached {
            Some(verdict) => verdict,
            None => {
                let der = CertificateDer::from(leaf);
                let cert = EndEntityCert::try_from(&der)
                    .map_err(|e| NotVouched::Unparsable(e.to_string()))?;
                let verdict = self.verdict(&cert, identity, UnixTime::now());
                let mut verdicts = self
                    .verdicts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if verdicts.len() >= VERDICT_CACHE_LIMIT {
                    verdicts.clear();
                }
                verdicts.insert(key, verdict.clone());
                verdict
            }
        };
        verdict_error(verdict, identity)
    }

    /// The sources of the bindings whose CA issued `leaf` (whatever it names), e.g. to
    /// tell which binding is the node's own state CA.
    pub fn issuers_of(&self, leaf: &[u8]) -> Vec<String> {
        let der = CertificateDer::from(leaf);
        let Ok(cert) = EndEntityCert::try_from(&der) else {
            return Vec::new();
        };
        self.bindings
            .iter()
            .filter(|b| b.issued(&cert, UnixTime::now()))
            .map(|b| b.source.clone())
            .collect()
    }
}

/// The bindings in force, swapped whole by a reload and read by every call and every key
/// statement check.
#[derive(Clone)]
pub struct SharedAnchors(Arc<RwLock<Arc<TrustAnchors>>>);

impl SharedAnchors {
    /// Starts with `anchors`.
    pub fn new(anchors: Arc<TrustAnchors>) -> SharedAnchors {
        SharedAnchors(Arc::new(RwLock::new(anchors)))
    }

    /// The bindings in force now.
    pub fn current(&self) -> Arc<TrustAnchors> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the bindings (after a reload validated them).
    pub fn replace(&self, anchors: Arc<TrustAnchors>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = anchors;
    }
}

impl fmt::Debug for SharedAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.current().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::identity::Role;
    use crate::trust::pki::{Ca, Validity};

    fn spec(source: &str, ca: &Ca, districts: &[&str], kinds: &[CertKind]) -> BindingSpec {
        BindingSpec {
            source: source.to_string(),
            pem: ca.cert_pem().as_bytes().to_vec(),
            districts: districts
                .iter()
                .map(|d| DistrictPattern::parse(d).expect("a pattern"))
                .collect(),
            kinds: kinds.to_vec(),
        }
    }

    fn leaf(pem: &str) -> Vec<u8> {
        crate::trust::cert::parse_pem_certs(pem.as_bytes()).expect("a certificate")[0]
            .as_ref()
            .to_vec()
    }

    #[test]
    fn patterns_match_exact_ids_and_prefixes() {
        let exact = DistrictPattern::parse("jh-dhanbad").unwrap();
        assert!(exact.matches("jh-dhanbad"));
        assert!(!exact.matches("jh-dhanbad-rural"));
        let state = DistrictPattern::parse("jh-*").unwrap();
        assert!(state.matches("jh-bokaro"));
        assert!(!state.matches("wb-asansol"));
        assert!(DistrictPattern::parse("*").unwrap().matches("br-gaya"));
        assert!(DistrictPattern::parse("JH-*").is_err());
        assert!(DistrictPattern::parse("jh-*-x*").is_err());
        assert!(DistrictPattern::parse("").is_err());
    }

    #[test]
    fn a_ca_vouches_only_for_its_districts_and_kinds() {
        let jh = Ca::generate("Test Jharkhand CA").unwrap();
        let wb = Ca::generate("Test West Bengal CA").unwrap();
        let anchors = TrustAnchors::from_specs(&[
            spec(
                "trust[0]",
                &jh,
                &["jh-*"],
                &[CertKind::Officer, CertKind::Node],
            ),
            spec(
                "peers[0].ca",
                &wb,
                &["wb-asansol-durgapur"],
                &[CertKind::Node],
            ),
        ])
        .unwrap();
        let check = |ca: &Ca, district: &str, node: bool| {
            let issued = if node {
                ca.issue_node(district, &[], Validity::days(10)).unwrap()
            } else {
                ca.issue_officer(
                    district,
                    "XX-0001",
                    "Test Officer",
                    Role::Admin,
                    Validity::days(10),
                )
                .unwrap()
            };
            let der = leaf(&issued.cert_pem);
            let identity = crate::trust::identity::identity_from_der(&der).unwrap();
            anchors.vouch(&der, &identity)
        };
        assert!(check(&jh, "jh-dhanbad", false).is_ok());
        assert!(check(&jh, "jh-bokaro", true).is_ok());
        let jh_for_wb = check(&jh, "wb-asansol-durgapur", true);
        assert!(
            matches!(jh_for_wb, Err(NotVouched::NoBinding { .. })),
            "jh may not vouch for wb: {jh_for_wb:?}"
        );
        assert!(check(&wb, "wb-asansol-durgapur", true).is_ok());
        let wb_officer = check(&wb, "wb-asansol-durgapur", false);
        assert!(
            matches!(wb_officer, Err(NotVouched::KindNotBound { .. })),
            "the peer CA vouches for its node only: {wb_officer:?}"
        );
        for node in [false, true] {
            let forged = check(&wb, "jh-dhanbad", node);
            assert!(
                matches!(forged, Err(NotVouched::NoBinding { .. })),
                "wb may not vouch for jh: {forged:?}"
            );
            // The cached verdict is the same the second time.
            assert_eq!(check(&wb, "jh-dhanbad", node), forged);
        }
    }

    #[test]
    fn bindings_need_districts_kinds_and_certificates() {
        let jh = Ca::generate("Test Jharkhand CA").unwrap();
        let err =
            TrustAnchors::from_specs(&[spec("trust[0]", &jh, &[], &[CertKind::Node])]).unwrap_err();
        assert!(
            err.to_string().contains("trust[0]: binds no district"),
            "{err}"
        );
        let err = TrustAnchors::from_specs(&[spec("trust[1]", &jh, &["jh-*"], &[])]).unwrap_err();
        assert!(err.to_string().contains("no kind"), "{err}");
        let mut bad = spec("trust[2]", &jh, &["jh-*"], &[CertKind::Node]);
        bad.pem = b"nothing".to_vec();
        assert!(TrustAnchors::from_specs(&[bad]).is_err());
    }
}
