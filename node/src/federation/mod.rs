//! Federation between district nodes: every change leaves its origin as a signed envelope,
//! each node pulls its peers' changes over a long-lived `Sync` stream (backlog, then a live
//! tail), anti-entropy digests repair what watermarks cannot see, and handling codes decide
//! what may travel where.
//!
//! Invariants:
//! - a change is verified against its origin's CA-attested key before anything of it is
//!   stored, on the exact bytes that travelled;
//! - a batch of changes and the watermark it advances are applied in one transaction and
//!   flushed before the next batch is read;
//! - `LOCAL_ONLY` items never leave their origin, `PEERS` items go only to the origin's
//!   direct peers, and narrowing an item's handling retracts the copies that may no longer
//!   be held (see `policy.rs`).

pub mod keys;
pub mod policy;
pub mod puller;
pub mod status;

use crate::config::{NodeConfig, PeerConfig};
use crate::storage::{ChangeSigner, Kind, RemoteBody, RemoteChange, Storage};
use crate::trust::anchors::{SharedAnchors, TrustAnchors};
use keys::{KeyError, Signer, VerifiedKey};
use prost::Message;
use setu_proto::v1::{
    Alert, AlertAck, Envelope, EnvelopePayload, Handling, ItemKind, KeyStatement, KeyStatementBody,
    MoNote, PersonRecord, Tombstone,
};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

/// The response header by which a server says it honoured `SyncClass::Alerts` (a peer
/// that predates the priority stream sends everything and omits it).
pub const SYNC_CLASS_HEADER: &str = "setu-sync-class";

impl ChangeSigner for Signer {
    fn sign(&self, payload: &[u8]) -> Envelope {
        Signer::sign(self, payload)
    }
}

/// Why a change from a peer was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefusedChange {
    /// The signature or key did not verify.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The envelope is well signed but breaks a federation rule.
    #[error("{0}")]
    Rule(String),
    /// Storing what was verified failed.
    #[error("storage: {0}")]
    Store(String),
    /// The payload or body could not be decoded.
    #[error("undecodable {what}: {detail}")]
    Decode { what: &'static str, detail: String },
}

/// What the federation parts of a node share.
pub struct Federation {
    /// This node's district.
    pub district: String,
    /// The district's store.
    pub storage: Storage,
    /// This node's signer (its current key and statement).
    pub signer: Arc<Signer>,
    /// CAs that may attest other districts' keys (replaced by a reload).
    anchors: SharedAnchors,
    /// The configured peers.
    pub peers: Vec<PeerConfig>,
    /// Time between anti-entropy checks.
    pub anti_entropy: Duration,
    /// How long a tombstone is kept after every peer has applied it.
    pub tombstone_grace: Duration,
    /// Verified keys by (origin, key id), with the trust anchors they were checked against.
    keyring: RwLock<Keyring>,
    /// Live status of each peer link.
    pub status: status::PeerStatusBoard,
    /// Per peer, woken when the peer's node calls this one: the link is up again, so a
    /// puller waiting out its reconnect backoff towards that peer tries at once.
    heard_from: HashMap<String, Arc<tokio::sync::Notify>>,
    /// Per peer, the highest sequence of this district's own log that the full stream
    /// has sent the peer: how far behind it is, for the priority stream to decide whether
    /// a live change should overtake it.
    ordered_sent: HashMap<String, Arc<std::sync::atomic::AtomicU64>>,
    /// Where interrupted photo transfers keep the bytes received so far, to resume from.
    pub spool_dir: std::path::PathBuf,
}

/// The verified signing keys by (origin, key id), and the trust anchors they were checked
/// against.
struct Keyring {
    keys: HashMap<(String, String), VerifiedKey>,
    anchors: Arc<TrustAnchors>,
}

impl Federation {
    /// Sets up federation for a node: keeps its own key statement, and loads every stored
    /// statement that still verifies into the keyring.
    pub fn new(
        config: &NodeConfig,
        storage: Storage,
        signer: Arc<Signer>,
        anchors: SharedAnchors,
    ) -> Result<Federation, crate::storage::StorageError> {
        let anchors_at_start = anchors.current();
        let federation = Federation {
            district: config.district.clone(),
            storage,
            signer,
            anchors,
            peers: config.peers.clone(),
            anti_entropy: Duration::from_secs(config.anti_entropy_secs),
            tombstone_grace: Duration::from_secs(config.tombstone_grace_hours * 3600),
            keyring: RwLock::new(Keyring {
                keys: HashMap::new(),
                anchors: anchors_at_start,
            }),
            status: status::PeerStatusBoard::new(&config.peers),
            heard_from: config
                .peers
                .iter()
                .map(|p| (p.district.clone(), Arc::new(tokio::sync::Notify::new())))
                .collect(),
            ordered_sent: config
                .peers
                .iter()
                .map(|p| (p.district.clone(), Arc::default()))
                .collect(),
            spool_dir: config.data_dir.join("photo-spool"),
        };
        let own = federation.signer.statement().clone();
        federation.storage.put_key_statement(
            &federation.district,
            federation.signer.key_id(),
            &own.encode_to_vec(),
        )?;
        federation.check_stored_keys(federation.anchors())?;
        Ok(federation)
    }

    /// Fills the keyring with every stored key statement that verifies under `anchors`.
    /// Run at start and again whenever a reload changed the trust anchors: a CA no longer
    /// bound to a district stops vouching for the keys it attested, at once.
    fn check_stored_keys(
        &self,
        anchors: Arc<TrustAnchors>,
    ) -> Result<(), crate::storage::StorageError> {
        let mut keys = HashMap::new();
        for (origin, key_id, bytes) in self.storage.key_statements()? {
            let verified = KeyStatement::decode(bytes.as_slice())
                .map_err(|e| e.to_string())
                .and_then(|s| keys::verify_statement(&s, &anchors).map_err(|e| e.to_string()));
            match verified {
                Ok(key) if key.origin == origin => {
                    keys.insert((origin, key_id), key);
                }
                Ok(key) => {
                    tracing::warn!(%origin, %key_id, other = %key.origin, "stored key statement names another district; ignored")
                }
                Err(e) => {
                    tracing::warn!(%origin, %key_id, error = %e, "stored key statement no longer verifies; ignored")
                }
            }
        }
        let mut ring = self.keyring.write().unwrap_or_else(PoisonError::into_inner);
        *ring = Keyring { keys, anchors };
        Ok(())
    }

    /// The keyring, checked again first if the trust anchors changed since it was filled.
    fn current_keys(&self) -> RwLockReadGuard<'_, Keyring> {
        let anchors = self.anchors();
        {
            let ring = self.keyring.read().unwrap_or_else(PoisonError::into_inner);
            if Arc::ptr_eq(&ring.anchors, &anchors) {
                return ring;
            }
        }
        tracing::info!("trust anchors changed: checking every stored signing key again");
        if let Err(e) = self.check_stored_keys(anchors) {
            tracing::error!(error = %e, "stored signing keys could not be read; none is trusted until they can");
            let mut ring = self.keyring.write().unwrap_or_else(PoisonError::into_inner);
            ring.keys.clear();
        }
        self.keyring.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes a call from `peer`'s node: a puller towards it that is waiting out its
    /// backoff tries again now (after a long outage the wait may be many seconds).
    pub fn heard_from(&self, peer: &str) {
        if let Some(notify) = self.heard_from.get(peer) {
            // Only a puller waiting now is woken; nothing is kept for later.
            notify.notify_waiters();
        }
    }

    /// What wakes a puller towards `peer` when that peer calls in.
    pub fn calls_from(&self, peer: &str) -> Arc<tokio::sync::Notify> {
        self.heard_from
            .get(peer)
            .cloned()
            .unwrap_or_else(|| Arc::new(tokio::sync::Notify::new()))
    }

    /// Notes that the full stream to `peer` has sent this district's log up to `seq`.
    pub fn note_ordered_sent(&self, peer: &str, seq: u64) {
        if let Some(sent) = self.ordered_sent.get(peer) {
            sent.store(seq, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// How far the full stream to `peer` has sent this district's log.
    pub fn ordered_sent(&self, peer: &str) -> u64 {
        self.ordered_sent
            .get(peer)
            .map_or(0, |sent| sent.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The CAs that may attest other districts' keys now.
    pub fn anchors(&self) -> Arc<TrustAnchors> {
        self.anchors.current()
    }

    /// Whether `statement` is, byte for byte, one this node verified into its keyring
    /// already. In a mesh every neighbour passes on every district's statement; checking
    /// each copy's certificate chain again was most of the work of a mesh coming up.
    fn holds_verified(&self, statement: &KeyStatement) -> bool {
        let Ok(body) = KeyStatementBody::decode(statement.body.as_slice()) else {
            return false;
        };
        let in_keyring = self
            .current_keys()
            .keys
            .contains_key(&(body.origin.clone(), body.key_id.clone()));
        in_keyring
            && self
                .storage
                .key_statement(&body.origin, &body.key_id)
                .is_ok_and(|held| held.as_deref() == Some(statement.encode_to_vec().as_slice()))
    }

    /// Keeps `key`, verified under `anchors`, unless the anchors changed meanwhile.
    fn remember_key(&self, key: VerifiedKey, anchors: &Arc<TrustAnchors>) {
        let mut ring = self.keyring.write().unwrap_or_else(PoisonError::into_inner);
        if Arc::ptr_eq(&ring.anchors, anchors) {
            ring.keys
                .insert((key.origin.clone(), key.key_id.clone()), key);
        }
    }

    /// The configured peer with this district id.
    pub fn peer(&self, district: &str) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.district == district)
    }

    /// Verifies a key statement received from a peer and keeps it. Returns whether the key
    /// was new here.
    pub fn accept_key_statement(&self, statement: &KeyStatement) -> Result<bool, RefusedChange> {
        if self.holds_verified(statement) {
            return Ok(false);
        }
        let anchors = self.current_keys().anchors.clone();
        let key = keys::verify_statement(statement, &anchors)?;
        let origin = key.origin.clone();
        let fresh = self
            .storage
            .put_key_statement(&origin, &key.key_id, &statement.encode_to_vec())
            .map_err(|e| RefusedChange::Store(e.to_string()))?;
        if fresh {
            tracing::info!(%origin, key_id = %key.key_id, "accepted a new signing key");
        }
        self.remember_key(key, &anchors);
        Ok(fresh)
    }

    /// Accepts the key statements `peer` sent (a refused one is logged and skipped). A new
    /// key wakes this node's own sync streams, which pass it on to their peers at once: in
    /// a mesh a district's key travels hop by hop ahead of its first record, and without
    /// the wake it waited at each hop for some unrelated change.
    pub async fn take_key_statements<'a>(
        &self,
        peer: &str,
        statements: impl IntoIterator<Item = &'a KeyStatement>,
    ) -> Result<(), String> {
        let mut fresh = false;
        for statement in statements {
            match self.accept_key_statement(statement) {
                Ok(new) => fresh |= new,
                Err(e) => tracing::warn!(%peer, error = %e, "refused a key statement"),
            }
        }
        if fresh {
            self.storage.flush().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn key_for(&self, origin: &str, key_id: &str) -> Result<VerifiedKey, KeyError> {
        self.current_keys()
            .keys
            .get(&(origin.to_string(), key_id.to_string()))
            .cloned()
            .ok_or_else(|| KeyError::UnknownKey {
                origin: origin.to_string(),
                key_id: key_id.to_string(),
            })
    }

    /// Verifies the envelopes of one batch: all signatures at once when they all verify,
    /// one by one otherwise so that only the bad ones are refused.
    pub fn verify_changes(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        envelopes: Vec<Envelope>,
    ) -> Vec<Result<RemoteChange, RefusedChange>> {
        // One look at the keyring for the whole batch (its lock, and the check that the
        // trust anchors are unchanged), not one per envelope.
        let keys: Option<Vec<VerifiedKey>> = {
            let ring = self.current_keys();
            envelopes
                .iter()
                .map(|e| {
                    ring.keys
                        .get(&(origin.to_string(), e.key_id.clone()))
                        .cloned()
                })
                .collect()
        };
        if let Some(keys) = keys {
            let refs: Vec<&Envelope> = envelopes.iter().collect();
            let key_refs: Vec<&VerifiedKey> = keys.iter().collect();
            if keys::verify_batch(&refs, &key_refs) {
                return envelopes
                    .into_iter()
                    .zip(keys)
                    .map(|(envelope, key)| {
                        let payload = keys::decode_verified(&envelope, &key)?;
                        self.check_change(peer, origin, epoch, payload, envelope)
                    })
                    .collect();
            }
        }
        envelopes
            .into_iter()
            .map(|e| self.verify_change(peer, origin, epoch, e))
            .collect()
    }

    /// Verifies one envelope received from `peer` in a batch of `origin` at `epoch`, and
    /// turns it into a change the storage layer can apply.
    pub fn verify_change(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        envelope: Envelope,
    ) -> Result<RemoteChange, RefusedChange> {
        let key = self.key_for(origin, &envelope.key_id)?;
        let payload: EnvelopePayload = keys::verify_envelope(&envelope, &key)?;
        self.check_change(peer, origin, epoch, payload, envelope)
    }

    /// Applies the federation's rules to a change whose signature verified, and decodes it.
    fn check_change(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        payload: EnvelopePayload,
        envelope: Envelope,
    ) -> Result<RemoteChange, RefusedChange> {
        if payload.origin != origin || payload.epoch != epoch {
            return Err(RefusedChange::Rule(format!(
                "envelope of {} epoch {} inside a batch of {origin} epoch {epoch}",
                payload.origin, payload.epoch
            )));
        }
        if payload.origin == self.district {
            return Err(RefusedChange::Rule(format!(
                "{peer} sent a change of this node's own district"
            )));
        }
        let kind = match ItemKind::try_from(payload.kind) {
            Ok(ItemKind::Record) => Kind::Record,
            Ok(ItemKind::MoNote) => Kind::MoNote,
            Ok(ItemKind::Alert) => Kind::Alert,
            Ok(ItemKind::AlertAck) => Kind::AlertAck,
            _ => {
                return Err(RefusedChange::Rule(format!(
                    "unknown item kind {}",
                    payload.kind
                )))
            }
        };
        let full = !payload.deleted && !payload.retracted;
        if kind.is_alert() && (!full || payload.handling != Handling::Peers as i32) {
            return Err(RefusedChange::Rule(format!(
                "{kind} {} must travel in full with PEERS handling (alerts are cancelled, never deleted, and never relayed)",
                payload.id
            )));
        }
        if full && payload.handling == Handling::LocalOnly as i32 {
            return Err(RefusedChange::Rule(format!(
                "{kind} {} is LOCAL_ONLY and may not leave {origin}",
                payload.id
            )));
        }
        if full && payload.handling == Handling::Peers as i32 && peer != origin {
            return Err(RefusedChange::Rule(format!(
                "{kind} {} is PEERS-only but was relayed by {peer}, not sent by its origin {origin}",
                payload.id
            )));
        }
        let decode_err = |what: &'static str| {
            move |e: prost::DecodeError| RefusedChange::Decode {
                what,
                detail: e.to_string(),
            }
        };
        let body = if payload.retracted {
            RemoteBody::Retracted
        } else if payload.deleted {
            let t = Tombstone::decode(payload.body.as_slice()).map_err(decode_err("tombstone"))?;
            if t.id != payload.id || t.origin != origin {
                return Err(RefusedChange::Rule("tombstone names another item".into()));
            }
            RemoteBody::Tombstone(t)
        } else {
            match kind {
                Kind::Record => {
                    let r = PersonRecord::decode(payload.body.as_slice())
                        .map_err(decode_err("record"))?;
                    if r.id != payload.id || r.origin != origin {
                        return Err(RefusedChange::Rule("record body names another item".into()));
                    }
                    RemoteBody::Record(r)
                }
                Kind::MoNote => {
                    let n =
                        MoNote::decode(payload.body.as_slice()).map_err(decode_err("MO note"))?;
                    if n.id != payload.id || n.origin != origin {
                        return Err(RefusedChange::Rule(
                            "MO note body names another item".into(),
                        ));
                    }
                    RemoteBody::MoNote(n)
                }
                Kind::Alert => {
                    let a = Alert::decode(payload.body.as_slice()).map_err(decode_err("alert"))?;
                    if a.id != payload.id || a.origin != origin {
                        return Err(RefusedChange::Rule("alert body names another item".into()));
                    }
                    self.check_targeted(kind, &a.id, &a.targets)?;
                    RemoteBody::Alert(a)
                }
                Kind::AlertAck => {
                    let a = AlertAck::decode(payload.body.as_slice())
                        .map_err(decode_err("alert acknowledgement"))?;
                    if a.id != payload.id || a.origin != origin {
                        return Err(RefusedChange::Rule(
                            "alert acknowledgement body names another item".into(),
                        ));
                    }
                    self.check_targeted(kind, &a.id, &a.targets)?;
                    RemoteBody::AlertAck(a)
                }
            }
        };
        Ok(RemoteChange {
            kind,
            id: payload.id,
            origin: payload.origin,
            epoch: payload.epoch,
            seq: payload.seq,
            handling: payload.handling,
            body,
            envelope,
        })
    }

    /// An alert item is only accepted by a district it targets.
    fn check_targeted(
        &self,
        kind: Kind,
        id: &str,
        targets: &[String],
    ) -> Result<(), RefusedChange> {
        if targets.contains(&self.district) {
            Ok(())
        } else {
            Err(RefusedChange::Rule(format!(
                "{kind} {id} is not addressed to {} (targets: {})",
                self.district,
                targets.join(", ")
            )))
        }
    }

    /// Removes tombstones that every peer sent their origin has applied, once the grace
    /// period is over.
    pub fn collect_tombstones(&self) -> Result<usize, crate::storage::StorageError> {
        let now = crate::clock::now_ms();
        let grace_ms = i64::try_from(self.tombstone_grace.as_millis()).unwrap_or(i64::MAX);
        let mut acks = HashMap::new();
        for peer in &self.peers {
            acks.insert(
                peer.district.clone(),
                self.storage.peer_acks(&peer.district)?,
            );
        }
        self.storage.gc_tombstones(|state, tombstone| {
            if now.saturating_sub(tombstone.deleted_at_ms) < grace_ms {
                return false;
            }
            self.peers.iter().all(|peer| {
                let sent = if state.origin == self.district {
                    true
                } else {
                    peer.relays(&state.origin)
                };
                !sent
                    || peer.district == state.origin
                    || acks.get(&peer.district).is_some_and(|list| {
                        list.iter().any(|w| {
                            w.origin == state.origin && w.epoch == state.epoch && w.seq >= state.seq
                        })
                    })
            })
        })
    }
}
