//! The signing keys that let a change be verified against the district it came from.
//!
//! Changes travel between districts through other districts: a record made in
//! `jh-dhanbad` can reach `wb-kolkata` by way of `jh-bokaro`. Mutual TLS proves only who
//! the immediate peer is, not who made what it forwards, so every change carries its own
//! proof of origin. The origin node signs the exact encoded bytes of each
//! [`EnvelopePayload`] with an Ed25519 key of its own, and the resulting [`Envelope`] can
//! then be relayed unchanged through any number of districts and still be checked
//! against its origin.
//!
//! An Ed25519 key by itself proves nothing, so each node publishes a [`KeyStatement`]:
//! the key's body ("this key signs for this district") signed with the private key of
//! the node's TLS certificate, with that certificate attached. A receiver accepts the key
//! when the certificate chains to the origin district's CA, names the origin's node, and
//! its key made the signature. Because the chain is checked at the moment the statement
//! was made, a statement stays valid after its certificate has expired, and records signed
//! with an old, rotated key still verify as long as the statement for that key is kept
//! (the storage layer keeps every statement it has seen; this module only checks them).
//!
//! A consequence worth knowing: whoever holds a node's TLS private key can attest
//! Ed25519 keys for that district, also back-dated into the certificate's validity
//! period. A leaked node key therefore calls for a new CA, not only a new certificate.

use std::fmt;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::trust::anchors::TrustAnchors;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use prost::Message;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, UnixTime};
use setu_proto::v1::{Envelope, EnvelopePayload, KeyStatement, KeyStatementBody};
use sha2::{Digest, Sha256};
use webpki::EndEntityCert;

use crate::trust::identity::{identity_from_der, Identity, IdentityError};
use crate::trust::pki::{check_key_permissions, PkiError};

/// The file inside the node's data directory that holds the Ed25519 seed.
pub const SIGNING_KEY_FILE: &str = "signing-key.ed25519";

/// The length of an Ed25519 seed and of an Ed25519 public key, in bytes.
const KEY_LEN: usize = 32;

/// How many bytes of the public key's SHA-256 make up a key id.
const KEY_ID_BYTES: usize = 8;

/// Everything that can go wrong while creating, attesting or checking signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file or its directory failed.
    #[error("could not read or write {}: {source}", .path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file is refused, for instance because others can read it.
    #[error(transparent)]
    KeyFile(#[from] PkiError),
    /// The key file does not hold a 32-byte seed.
    #[error(
        "{} must hold exactly {KEY_LEN} bytes (an Ed25519 seed) but holds {len}; if the node never signed anything with it, delete it and a new key is made",
        .path.display()
    )]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// How many bytes it holds.
        len: usize,
    },
    /// The node's TLS private key cannot sign key statements.
    #[error("the node private key cannot sign key statements: {0}")]
    NodeKey(String),
    /// The node's TLS certificate does not fit the node it is given to.
    #[error("the node certificate cannot attest this node's signing key: {0}")]
    NodeCertificate(String),
    /// The body of a key statement cannot be decoded.
    #[error("key statement body cannot be decoded: {0}")]
    MalformedStatement(prost::DecodeError),
    /// A key statement's certificate cannot be parsed.
    #[error("key statement certificate cannot be parsed: {0}")]
    BadCertificate(String),
    /// A key statement's creation time cannot be a point in time.
    #[error("key statement of {origin} has an impossible creation time {created_at_ms} ms")]
    BadCreationTime {
        /// The district the statement names.
        origin: String,
        /// The creation time it gives.
        created_at_ms: i64,
    },
    /// A key statement's certificate is not vouched for by any trusted CA.
    #[error("key statement certificate does not chain to a trusted CA: {0}")]
    Untrusted(String),
    /// A key statement's certificate names no Setu identity at all.
    #[error("key statement certificate names no Setu node: {0}")]
    CertificateIdentity(#[from] IdentityError),
    /// A key statement's certificate belongs to an officer, not a node.
    #[error(
        "key statement for {origin} carries the certificate of {identity}, not a node certificate"
    )]
    NotNodeCertificate {
        /// The district the statement names.
        origin: String,
        /// Who the certificate names.
        identity: String,
    },
    /// A key statement names another district than its certificate.
    #[error(
        "key statement names {claimed} but its certificate is the node certificate of {actual}"
    )]
    WrongOrigin {
        /// The district the statement names.
        claimed: String,
        /// The district the certificate names.
        actual: String,
    },
    /// A key statement's signature was not made with its certificate's key.
    #[error(
        "key statement signature of {origin} does not verify under its node certificate's key: {reason}"
    )]
    StatementSignature {
        /// The district the statement names.
        origin: String,
        /// Why the signature was refused.
        reason: String,
    },
    /// A key statement's public key is not a usable Ed25519 key.
    #[error("key statement of {origin} carries an unusable Ed25519 public key: {reason}")]
    BadPublicKey {
        /// The district the statement names.
        origin: String,
        /// What is wrong with the key.
        reason: String,
    },
    /// A key statement's key id is not the id of its public key.
    #[error(
        "key statement of {origin} claims key id {claimed} but its public key has id {actual}"
    )]
    KeyIdMismatch {
        /// The district the statement names.
        origin: String,
        /// The key id the statement gives.
        claimed: String,
        /// The id computed from the public key.
        actual: String,
    },
    /// No verified key is known for the key an envelope names.
    #[error("envelope signed by unknown key {origin}/{key_id}")]
    UnknownKey {
        /// The origin district.
        origin: String,
        /// The key id the envelope names.
        key_id: String,
    },
    /// An envelope is checked against another key than the one it names.
    #[error("envelope names key {envelope_key_id} but was checked against key {origin}/{key_id}")]
    WrongKey {
        /// The key id the envelope names.
        envelope_key_id: String,
        /// The origin of the key it was checked against.
        origin: String,
        /// The id of the key it was checked against.
        key_id: String,
    },
    /// An envelope's signature does not verify.
    #[error("signature does not verify under key {origin}/{key_id}")]
    BadSignature {
        /// The origin of the key.
        origin: String,
        /// The id of the key.
        key_id: String,
    },
    /// An envelope's payload cannot be decoded.
    #[error("envelope payload cannot be decoded: {0}")]
    MalformedPayload(prost::DecodeError),
    /// An envelope's payload claims another origin than the district of its key.
    #[error("envelope payload claims origin {claimed} but is signed by key {origin}/{key_id}")]
    PayloadOrigin {
        /// The origin the payload names.
        claimed: String,
        /// The district of the signing key.
        origin: String,
        /// The id of the signing key.
        key_id: String,
    },
}

/// Builds a closure that wraps an I/O error together with the path concerned.
fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lower-case hex of the first 8 bytes of SHA-256 of the 32-byte public key (16 hex chars).
pub fn key_id(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(public_key);
    hex::encode(&digest[..KEY_ID_BYTES])
}

/// The node's Ed25519 signer plus its CA-attested statement.
pub struct Signer {
    /// The district this node serves.
    district: String,
    /// The id of the public key.
    key_id: String,
    /// The Ed25519 signing key.
    key: SigningKey,
    /// The statement attesting the key, signed with the node certificate's key.
    statement: KeyStatement,
}

impl fmt::Debug for Signer {
    /// Shows which key this is, never the key itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("district", &self.district)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads `data_dir/signing-key.ed25519` (32 raw seed bytes, mode 0600), or creates it
    /// if it is missing, and attests the key for `district` with the node's certificate.
    ///
    /// A key file that group or others can reach is refused. `node_key_pem` is the node
    /// certificate's private key as PKCS#8 PEM (ECDSA P-256). When the key file is
    /// replaced to rotate the key, the statements of earlier keys are kept by the storage
    /// layer, not here.
    pub fn load_or_create(
        data_dir: &Path,
        district: &str,
        node_cert_der: &[u8],
        node_key_pem: &[u8],
    ) -> Result<Signer, KeyError> {
        let seed = load_or_create_seed(data_dir)?;
        Signer::from_seed(seed, district, node_cert_der, node_key_pem)
    }

    /// Like [`Signer::load_or_create`], from a seed held in memory (tests, benchmarks).
    pub fn from_seed(
        seed: [u8; 32],
        district: &str,
        node_cert_der: &[u8],
        node_key_pem: &[u8],
    ) -> Result<Signer, KeyError> {
        // A certificate that does not name this district's node would only be refused by
        // every peer later, so it is refused here, where the message reaches the operator.
        match identity_from_der(node_cert_der)
            .map_err(|e| KeyError::NodeCertificate(format!("it names no Setu node ({e})")))?
        {
            Identity::Node { district: named } if named == district => {}
            other => {
                return Err(KeyError::NodeCertificate(format!(
                    "it is the certificate of {other}, not of node {district}"
                )))
            }
        }
        let key = SigningKey::from_bytes(&seed);
        let statement = make_statement(
            &key,
            district,
            node_cert_der,
            node_key_pem,
            crate::clock::now_ms(),
        )?;
        // A private key that does not belong to the certificate makes statements that no
        // peer accepts; checking the signature now catches the mix-up at start-up.
        let der = CertificateDer::from(node_cert_der);
        let cert = EndEntityCert::try_from(&der)
            .map_err(|e| KeyError::NodeCertificate(format!("it cannot be parsed ({e})")))?;
        cert.verify_signature(
            webpki::ring::ECDSA_P256_SHA256,
            &statement.body,
            &statement.signature,
        )
        .map_err(|_| KeyError::NodeKey("it does not belong to the node certificate".to_owned()))?;
        Ok(Signer {
            district: district.to_owned(),
            key_id: key_id(&key.verifying_key().to_bytes()),
            key,
            statement,
        })
    }

    /// The district this node signs for.
    pub fn district(&self) -> &str {
        &self.district
    }

    /// The id of this node's current signing key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The statement attesting the key, to be sent to peers.
    pub fn statement(&self) -> &KeyStatement {
        &self.statement
    }

    /// Signs the exact payload bytes (an encoded [`EnvelopePayload`]).
    pub fn sign(&self, payload: &[u8]) -> Envelope {
        let signature = self.key.sign(payload);
        Envelope {
            payload: payload.to_vec(),
            key_id: self.key_id.clone(),
            signature: signature.to_bytes().to_vec(),
            retraction: None,
        }
    }
}

/// Reads the seed from `data_dir/signing-key.ed25519`, or makes a new one and writes it.
fn load_or_create_seed(data_dir: &Path) -> Result<[u8; 32], KeyError> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match fs::symlink_metadata(&path) {
        Ok(_) => read_seed(&path),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let seed: [u8; 32] = rand::random();
            write_seed(data_dir, &path, &seed)?;
            Ok(seed)
        }
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Reads a seed file, refusing it when others can reach it or its length is wrong.
fn read_seed(path: &Path) -> Result<[u8; 32], KeyError> {
    check_key_permissions(path)?;
    let bytes = fs::read(path).map_err(io_err(path))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadKeyFile {
        path: path.to_owned(),
        len: bytes.len(),
    })
}

/// Writes a new seed with mode 0600.
///
/// The seed goes to a temporary file first and is renamed into place once it is on
/// disk, so that a crash never leaves a truncated key file behind.
fn write_seed(data_dir: &Path, path: &Path, seed: &[u8; 32]) -> Result<(), KeyError> {
    fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    let tmp = data_dir.join(format!("{SIGNING_KEY_FILE}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    // The permissions are narrowed before anything is written, also when a stale
    // temporary file was left behind with wider ones.
    file.set_permissions(Permissions::from_mode(0o600))
        .map_err(io_err(&tmp))?;
    file.set_len(0).map_err(io_err(&tmp))?;
    file.write_all(seed).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io_err(path))?;
    File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_err(data_dir))
}

/// Builds a key statement for `key` and `district`, created at `created_at_ms`, signed
/// with the node certificate's private key.
fn make_statement(
    key: &SigningKey,
    district: &str,
    node_cert_der: &[u8],
    node_key_pem: &[u8],
    created_at_ms: i64,
) -> Result<KeyStatement, KeyError> {
    let public_key = key.verifying_key().to_bytes();
    let body = KeyStatementBody {
        origin: district.to_owned(),
        key_id: key_id(&public_key),
        public_key: public_key.to_vec(),
        created_at_ms,
    }
    .encode_to_vec();
    let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(node_key_pem)
        .map_err(|e| KeyError::NodeKey(format!("it is not a PKCS#8 PEM private key ({e})")))?;
    let rng = SystemRandom::new();
    let signing = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.secret_pkcs8_der(),
        &rng,
    )
    .map_err(|e| KeyError::NodeKey(format!("it is not an ECDSA P-256 key ({e})")))?;
    let signature = signing
        .sign(&rng, &body)
        .map_err(|_| KeyError::NodeKey("signing with it failed".to_owned()))?;
    Ok(KeyStatement {
        body,
        signature: signature.as_ref().to_vec(),
        node_certificate: node_cert_der.to_vec(),
    })
}

/// A verified key: origin district, key id, public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedKey {
    /// The district the key signs for.
    pub origin: String,
    /// The key's id, as [`key_id`] computes it.
    pub key_id: String,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// The decompressed public key, kept so that each envelope check skips decompression.
    pub verifying_key: VerifyingKey,
    /// When the statement attesting the key was made (Unix ms).
    pub created_at_ms: i64,
}

/// Verifies a key statement and returns the key it attests.
///
/// The certificate must chain directly (no intermediates) to one of `anchors`, be valid
/// for client authentication at the time the statement was made (so statements made while
/// a since-expired certificate was valid still verify), and be the node certificate of
/// the district the body names. The body must be signed with the certificate's key
/// (ECDSA P-256, SHA-256), and its key id must be the id of its 32-byte public key.
pub fn verify_statement(
    statement: &KeyStatement,
    anchors: &TrustAnchors,
) -> Result<VerifiedKey, KeyError> {
    let body = KeyStatementBody::decode(statement.body.as_slice())
        .map_err(KeyError::MalformedStatement)?;
    let origin = body.origin;

    let der = CertificateDer::from(statement.node_certificate.as_slice());
    let cert =
        EndEntityCert::try_from(&der).map_err(|e| KeyError::BadCertificate(e.to_string()))?;
    let created_at = u64::try_from(body.created_at_ms)
        .map(|ms| UnixTime::since_unix_epoch(Duration::from_millis(ms)))
        .map_err(|_| KeyError::BadCreationTime {
            origin: origin.clone(),
            created_at_ms: body.created_at_ms,
        })?;
    let identity = match identity_from_der(&statement.node_certificate)? {
        Identity::Node { district } if district == origin => Identity::Node { district },
        Identity::Node { district } => {
            return Err(KeyError::WrongOrigin {
                claimed: origin,
                actual: district,
            })
        }
        officer @ Identity::Officer(_) => {
            return Err(KeyError::NotNodeCertificate {
                origin,
                identity: officer.to_string(),
            })
        }
    };
    // Only a CA bound to the origin's node certificates may attest its key: a state CA
    // cannot put words in the mouth of a district it is not bound to.
    anchors
        .vouch_at(&statement.node_certificate, &identity, created_at)
        .map_err(|e| KeyError::Untrusted(e.to_string()))?;

    cert.verify_signature(
        webpki::ring::ECDSA_P256_SHA256,
        &statement.body,
        &statement.signature,
    )
    .map_err(|e| KeyError::StatementSignature {
        origin: origin.clone(),
        reason: e.to_string(),
    })?;

    let public_key =
        <[u8; 32]>::try_from(body.public_key.as_slice()).map_err(|_| KeyError::BadPublicKey {
            origin: origin.clone(),
            reason: format!(
                "it is {} bytes long instead of {KEY_LEN}",
                body.public_key.len()
            ),
        })?;
    let verifying_key =
        VerifyingKey::from_bytes(&public_key).map_err(|e| KeyError::BadPublicKey {
            origin: origin.clone(),
            reason: e.to_string(),
        })?;
    let actual = key_id(&public_key);
    if body.key_id != actual {
        return Err(KeyError::KeyIdMismatch {
            origin,
            claimed: body.key_id,
            actual,
        });
    }
    Ok(VerifiedKey {
        origin,
        key_id: actual,
        public_key,
        verifying_key,
        created_at_ms: body.created_at_ms,
    })
}

/// Checks many envelopes' signatures at once (Ed25519 batch verification, about twice as
/// fast per signature as one by one). True only when every signature verifies under the
/// key given beside it; on false the caller checks them one by one to find the bad ones.
pub fn verify_batch(envelopes: &[&Envelope], keys: &[&VerifiedKey]) -> bool {
    if envelopes.len() != keys.len() || envelopes.is_empty() {
        return false;
    }
    let mut messages = Vec::with_capacity(envelopes.len());
    let mut signatures = Vec::with_capacity(envelopes.len());
    let mut verifying_keys = Vec::with_capacity(envelopes.len());
    for (envelope, key) in envelopes.iter().zip(keys) {
        if envelope.key_id != key.key_id {
            return false;
        }
        let Ok(signature) = Signature::from_slice(&envelope.signature) else {
            return false;
        };
        messages.push(envelope.payload.as_slice());
        signatures.push(signature);
        verifying_keys.push(key.verifying_key);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &verifying_keys).is_ok()
}

/// Decodes the payload of an envelope whose signature [`verify_batch`] accepted, and checks
/// that it names the key's district as its origin.
pub fn decode_verified(
    envelope: &Envelope,
    key: &VerifiedKey,
) -> Result<EnvelopePayload, KeyError> {
    let payload =
        EnvelopePayload::decode(envelope.payload.as_slice()).map_err(KeyError::MalformedPayload)?;
    if payload.origin != key.origin {
        return Err(KeyError::PayloadOrigin {
            claimed: payload.origin,
            origin: key.origin.clone(),
            key_id: key.key_id.clone(),
        });
    }
    Ok(payload)
}

/// Verifies an envelope's signature over its exact payload bytes with `key`, then decodes
/// the payload and checks that it names the key's district as its origin.
///
/// The caller looks the key up by the origin and the envelope's key id, and reports
/// [`KeyError::UnknownKey`] when there is none.
pub fn verify_envelope(
    envelope: &Envelope,
    key: &VerifiedKey,
) -> Result<EnvelopePayload, KeyError> {
    if envelope.key_id != key.key_id {
        return Err(KeyError::WrongKey {
            envelope_key_id: envelope.key_id.clone(),
            origin: key.origin.clone(),
            key_id: key.key_id.clone(),
        });
    }
    let bad_signature = || KeyError::BadSignature {
        origin: key.origin.clone(),
        key_id: key.key_id.clone(),
    };
    let signature = Signature::from_slice(&envelope.signature).map_err(|_| bad_signature())?;
    key.verifying_key
        .verify_strict(&envelope.payload, &signature)
        .map_err(|_| bad_signature())?;
    decode_verified(envelope, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::anchors::{BindingSpec, CertKind, DistrictPattern};
    use crate::trust::identity::Role;
    use crate::trust::pki::{Ca, IssuedCert, Validity};
    use setu_proto::v1::ItemKind;

    /// The DER of an issued certificate.
    fn der(issued: &IssuedCert) -> Vec<u8> {
        CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    /// Trust anchors holding just `ca`, bound to every district's nodes.
    fn anchors(ca: &Ca) -> TrustAnchors {
        bound(&[ca.cert_pem().as_bytes().to_vec()], "*")
    }

    /// Trust anchors holding each bundle, each bound to the nodes of `districts`.
    fn bound(bundles: &[Vec<u8>], districts: &str) -> TrustAnchors {
        let specs: Vec<BindingSpec> = bundles
            .iter()
            .enumerate()
            .map(|(i, pem)| BindingSpec {
                source: format!("trust[{i}]"),
                pem: pem.clone(),
                districts: vec![DistrictPattern::parse(districts).unwrap()],
                kinds: vec![CertKind::Node],
            })
            .collect();
        TrustAnchors::from_specs(&specs).unwrap()
    }

    /// A node certificate for `district` from `ca`, valid for a month.
    fn node(ca: &Ca, district: &str) -> IssuedCert {
        ca.issue_node(district, &[], Validity::days(30)).unwrap()
    }

    /// A signer for `district` with the given seed.
    fn signer(ca: &Ca, district: &str, seed: u8) -> Signer {
        let cert = node(ca, district);
        Signer::from_seed([seed; 32], district, &der(&cert), cert.key_pem.as_bytes()).unwrap()
    }

    /// An encoded payload of `origin`.
    fn payload(origin: &str, seq: u64) -> Vec<u8> {
        EnvelopePayload {
            origin: origin.to_owned(),
            kind: ItemKind::Record as i32,
            id: "rec-1".to_owned(),
            seq,
            epoch: 1,
            body: b"record".to_vec(),
            signed_at_ms: 1_700_000_000_000,
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// The permission bits of a file.
    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn key_ids_are_sixteen_hex_characters() {
        let id = key_id(&[7; 32]);
        assert_eq!(id.len(), 16);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(id, key_id(&[8; 32]));
    }

    #[test]
    fn signed_envelopes_verify_against_their_origin() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let signer = signer(&ca, "jh-dhanbad", 1);
        assert_eq!(signer.district(), "jh-dhanbad");
        assert_eq!(signer.key_id(), key_id(&signer.public_key()));
        assert!(!format!("{signer:?}").contains("key: "));

        let key = verify_statement(signer.statement(), &anchors(&ca)).unwrap();
        assert_eq!(key.origin, "jh-dhanbad");
        assert_eq!(key.key_id, signer.key_id());
        assert_eq!(key.public_key, signer.public_key());

        let bytes = payload("jh-dhanbad", 42);
        let envelope = signer.sign(&bytes);
        assert_eq!(envelope.payload, bytes);
        assert_eq!(envelope.key_id, signer.key_id());
        assert!(envelope.retraction.is_none());
        let decoded = verify_envelope(&envelope, &key).unwrap();
        assert_eq!(decoded.seq, 42);
        assert_eq!(decoded.origin, "jh-dhanbad");
    }

    #[test]
    fn tampered_envelopes_are_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let signer = signer(&ca, "jh-dhanbad", 1);
        let key = verify_statement(signer.statement(), &anchors(&ca)).unwrap();
        let envelope = signer.sign(&payload("jh-dhanbad", 1));

        for i in 0..envelope.payload.len() {
            let mut tampered = envelope.clone();
            tampered.payload[i] ^= 0x01;
            let err = verify_envelope(&tampered, &key).unwrap_err();
            assert!(matches!(err, KeyError::BadSignature { .. }), "{err}");
            assert_eq!(
                err.to_string(),
                format!(
                    "signature does not verify under key jh-dhanbad/{}",
                    key.key_id
                )
            );
        }

        let mut tampered = envelope.clone();
        tampered.signature[0] ^= 0x80;
        assert!(matches!(
            verify_envelope(&tampered, &key),
            Err(KeyError::BadSignature { .. })
        ));
        let mut truncated = envelope.clone();
        truncated.signature.pop();
        assert!(matches!(
            verify_envelope(&truncated, &key),
            Err(KeyError::BadSignature { .. })
        ));
        let mut renamed = envelope;
        renamed.key_id = "0000000000000000".to_owned();
        assert!(matches!(
            verify_envelope(&renamed, &key),
            Err(KeyError::WrongKey { .. })
        ));
    }

    #[test]
    fn a_payload_naming_another_origin_is_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let signer = signer(&ca, "jh-dhanbad", 1);
        let key = verify_statement(signer.statement(), &anchors(&ca)).unwrap();
        let envelope = signer.sign(&payload("wb-kolkata", 1));
        let err = verify_envelope(&envelope, &key).unwrap_err();
        assert!(matches!(err, KeyError::PayloadOrigin { .. }), "{err}");
        assert!(
            err.to_string().contains("claims origin wb-kolkata"),
            "{err}"
        );
    }

    #[test]
    fn a_statement_from_an_untrusted_ca_is_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let other = Ca::generate("Impostor CA").unwrap();
        let signer = signer(&other, "jh-dhanbad", 1);
        let err = verify_statement(signer.statement(), &anchors(&ca)).unwrap_err();
        assert!(matches!(err, KeyError::Untrusted(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "key statement certificate does not chain to a trusted CA: it names node jh-dhanbad, but no CA this node binds to jh-dhanbad's node certificates issued it"
        );

        // Trusting both CAs accepts it.
        let both = bound(
            &[
                ca.cert_pem().as_bytes().to_vec(),
                other.cert_pem().as_bytes().to_vec(),
            ],
            "*",
        );
        verify_statement(signer.statement(), &both).unwrap();
    }

    #[test]
    fn a_state_ca_cannot_attest_a_district_it_is_not_bound_to() {
        let jh = Ca::generate("Test Jharkhand CA").unwrap();
        let anchors = bound(&[jh.cert_pem().as_bytes().to_vec()], "jh-*");
        verify_statement(signer(&jh, "jh-bokaro", 1).statement(), &anchors).unwrap();
        // A Jharkhand CA issuing a West Bengal node certificate cannot speak for it.
        let err = verify_statement(signer(&jh, "wb-kolkata", 2).statement(), &anchors).unwrap_err();
        assert!(matches!(err, KeyError::Untrusted(_)), "{err}");
    }

    #[test]
    fn a_statement_for_another_district_is_refused() {
        let ca = Ca::generate("Shared CA").unwrap();
        let cert = node(&ca, "wb-kolkata");
        let statement = make_statement(
            &SigningKey::from_bytes(&[3; 32]),
            "jh-dhanbad",
            &der(&cert),
            cert.key_pem.as_bytes(),
            crate::clock::now_ms(),
        )
        .unwrap();
        let err = verify_statement(&statement, &anchors(&ca)).unwrap_err();
        assert!(matches!(err, KeyError::WrongOrigin { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "key statement names jh-dhanbad but its certificate is the node certificate of wb-kolkata"
        );

        // The signer refuses to make such a statement in the first place.
        let err = Signer::from_seed([3; 32], "jh-dhanbad", &der(&cert), cert.key_pem.as_bytes())
            .unwrap_err();
        assert!(matches!(err, KeyError::NodeCertificate(_)), "{err}");
    }

    #[test]
    fn a_statement_with_an_officer_certificate_is_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let officer = ca
            .issue_officer(
                "jh-dhanbad",
                "JH-1",
                "Ravi",
                Role::Admin,
                Validity::days(30),
            )
            .unwrap();
        let statement = make_statement(
            &SigningKey::from_bytes(&[4; 32]),
            "jh-dhanbad",
            &der(&officer),
            officer.key_pem.as_bytes(),
            crate::clock::now_ms(),
        )
        .unwrap();
        let err = verify_statement(&statement, &anchors(&ca)).unwrap_err();
        assert!(matches!(err, KeyError::NotNodeCertificate { .. }), "{err}");
        assert!(err.to_string().contains("not a node certificate"), "{err}");

        let err = Signer::from_seed(
            [4; 32],
            "jh-dhanbad",
            &der(&officer),
            officer.key_pem.as_bytes(),
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::NodeCertificate(_)), "{err}");
    }

    #[test]
    fn a_statement_made_while_an_expired_certificate_was_valid_still_verifies() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let cert = ca
            .issue_node("jh-dhanbad", &[], Validity::expired())
            .unwrap();
        let key = SigningKey::from_bytes(&[5; 32]);
        let five_days_ago = crate::clock::now_ms() - 5 * 24 * 60 * 60 * 1000;
        let statement = make_statement(
            &key,
            "jh-dhanbad",
            &der(&cert),
            cert.key_pem.as_bytes(),
            five_days_ago,
        )
        .unwrap();
        let verified = verify_statement(&statement, &anchors(&ca)).unwrap();
        assert_eq!(verified.created_at_ms, five_days_ago);

        // Envelopes signed with that key keep verifying.
        let bytes = payload("jh-dhanbad", 9);
        let envelope = Envelope {
            payload: bytes.clone(),
            key_id: verified.key_id.clone(),
            signature: key.sign(&bytes).to_bytes().to_vec(),
            retraction: None,
        };
        verify_envelope(&envelope, &verified).unwrap();

        // A statement dated after the certificate expired is refused.
        let late = make_statement(
            &key,
            "jh-dhanbad",
            &der(&cert),
            cert.key_pem.as_bytes(),
            crate::clock::now_ms(),
        )
        .unwrap();
        let err = verify_statement(&late, &anchors(&ca)).unwrap_err();
        assert!(matches!(err, KeyError::Untrusted(_)), "{err}");
        assert!(err.to_string().contains("had expired"), "{err}");

        // So is one dated before 1970.
        let ancient =
            make_statement(&key, "jh-dhanbad", &der(&cert), cert.key_pem.as_bytes(), -1).unwrap();
        assert!(matches!(
            verify_statement(&ancient, &anchors(&ca)),
            Err(KeyError::BadCreationTime { .. })
        ));
    }

    #[test]
    fn a_forged_statement_body_is_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let signer = signer(&ca, "jh-dhanbad", 1);
        let honest = KeyStatementBody::decode(signer.statement().body.as_slice()).unwrap();

        // Swapping in another key without re-signing breaks the signature.
        let forged_key = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        let mut forged = signer.statement().clone();
        forged.body = KeyStatementBody {
            public_key: forged_key.to_vec(),
            key_id: key_id(&forged_key),
            ..honest.clone()
        }
        .encode_to_vec();
        let err = verify_statement(&forged, &anchors(&ca)).unwrap_err();
        assert!(matches!(err, KeyError::StatementSignature { .. }), "{err}");

        // A signed body whose key id does not match its key is refused too.
        let cert = node(&ca, "jh-dhanbad");
        let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
        let rng = SystemRandom::new();
        let ecdsa = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.secret_pkcs8_der(),
            &rng,
        )
        .unwrap();
        let sign = |body: KeyStatementBody| {
            let body = body.encode_to_vec();
            KeyStatement {
                signature: ecdsa.sign(&rng, &body).unwrap().as_ref().to_vec(),
                body,
                node_certificate: der(&cert),
            }
        };
        let err = verify_statement(
            &sign(KeyStatementBody {
                key_id: "0123456789abcdef".to_owned(),
                ..honest.clone()
            }),
            &anchors(&ca),
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::KeyIdMismatch { .. }), "{err}");
        let err = verify_statement(
            &sign(KeyStatementBody {
                public_key: vec![1; 31],
                ..honest
            }),
            &anchors(&ca),
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::BadPublicKey { .. }), "{err}");
    }

    #[test]
    fn rotated_keys_of_one_district_both_verify() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let old = signer(&ca, "jh-dhanbad", 1);
        let new = signer(&ca, "jh-dhanbad", 2);
        assert_ne!(old.key_id(), new.key_id());
        let anchors = anchors(&ca);
        let old_key = verify_statement(old.statement(), &anchors).unwrap();
        let new_key = verify_statement(new.statement(), &anchors).unwrap();

        let old_envelope = old.sign(&payload("jh-dhanbad", 1));
        let new_envelope = new.sign(&payload("jh-dhanbad", 2));
        assert_eq!(verify_envelope(&old_envelope, &old_key).unwrap().seq, 1);
        assert_eq!(verify_envelope(&new_envelope, &new_key).unwrap().seq, 2);

        // An envelope does not verify under the other key, even if it claims to.
        let mut relabelled = old_envelope.clone();
        relabelled.key_id = new_key.key_id.clone();
        assert!(matches!(
            verify_envelope(&relabelled, &new_key),
            Err(KeyError::BadSignature { .. })
        ));
        assert!(matches!(
            verify_envelope(&old_envelope, &new_key),
            Err(KeyError::WrongKey { .. })
        ));
    }

    #[test]
    fn the_key_file_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let cert = node(&ca, "jh-dhanbad");
        let load = || {
            Signer::load_or_create(
                &data_dir,
                "jh-dhanbad",
                &der(&cert),
                cert.key_pem.as_bytes(),
            )
        };

        let first = load().unwrap();
        let path = data_dir.join(SIGNING_KEY_FILE);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read(&path).unwrap().len(), 32);
        assert!(!data_dir.join(format!("{SIGNING_KEY_FILE}.tmp")).exists());
        let second = load().unwrap();
        assert_eq!(first.key_id(), second.key_id());
        assert_eq!(mode(&path), 0o600);
        verify_statement(second.statement(), &anchors(&ca)).unwrap();

        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let err = load().unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::KeyFile(PkiError::KeyTooOpen { mode: 0o644, .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");

        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, [0_u8; 31]).unwrap();
        let err = load().unwrap_err();
        assert!(matches!(err, KeyError::BadKeyFile { len: 31, .. }), "{err}");
    }

    #[test]
    fn a_node_key_that_is_not_the_certificates_is_refused() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let cert = node(&ca, "jh-dhanbad");
        let other = node(&ca, "jh-dhanbad");
        let err = Signer::from_seed([1; 32], "jh-dhanbad", &der(&cert), other.key_pem.as_bytes())
            .unwrap_err();
        assert!(matches!(err, KeyError::NodeKey(_)), "{err}");
        let err = Signer::from_seed([1; 32], "jh-dhanbad", &der(&cert), b"not a key").unwrap_err();
        assert!(matches!(err, KeyError::NodeKey(_)), "{err}");
    }

    #[test]
    fn trust_anchor_bundles_must_hold_certificates() {
        let ca = Ca::generate("Dhanbad CA").unwrap();
        let other = Ca::generate("Other CA").unwrap();
        let bundle = format!("{}{}", ca.cert_pem(), other.cert_pem());
        let anchors = bound(&[bundle.into_bytes()], "*");
        assert_eq!(anchors.all_certs().count(), 2);
        verify_statement(signer(&other, "wb-kolkata", 1).statement(), &anchors).unwrap();
    }
}
