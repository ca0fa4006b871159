//! `setu.v1.FederationService`: what a node serves to its peers' nodes (never to officers):
//! the `Sync` stream of signed changes (backlog in sequence order, then a live tail), the
//! anti-entropy `Digest`, and photos by hash.

use crate::config::PeerConfig;
use crate::error::{NodeError, NodeResult};
use crate::federation::status::TrafficClass;
use crate::federation::{policy, Federation, SYNC_CLASS_HEADER};
use crate::ops::metrics::CallTimer;
use crate::service::note;
use crate::storage::digest::BUCKETS;
use crate::storage::{Kind, StorageError};
use crate::trust::auth;
use crate::trust::cert::CertFacts;
use crate::trust::identity::Identity;
use prost::Message;
use setu_proto::v1::federation_service_server::FederationService;
use setu_proto::v1::sync_message::Message as SyncPart;
use setu_proto::v1::Envelope;
use setu_proto::v1::{
    AuditEntry, BucketDigest, DigestRequest, DigestResponse, FetchPhotoRequest, ItemVersion,
    KeyStatement, OriginDigest, PhotoChunk, RepairRequest, RepairResponse, SyncBatch, SyncClass,
    SyncMessage, SyncRequest, Watermark,
};
use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Envelopes per batch.
const BATCH: usize = 512;
/// How far (in changes of this district's log) the full stream to a peer must be behind
/// before a live change also goes on the priority stream, overtaking the backlog. Below
/// it the full stream delivers the change about as soon, without sending it twice.
const OVERTAKE_BEHIND: u64 = BATCH as u64;
/// Batches of one origin's backlog sent before the stream turns to the other origins, so
/// that a long catch-up of one origin does not hold back another's live changes.
const BATCHES_PER_TURN: usize = 8;
/// Chunk size of photo transfers.
const PHOTO_CHUNK: usize = 256 * 1024;

/// The most sequences held ahead that are remembered per peer (an acknowledgement with
/// more is cut, the oldest forgotten first: they only make a figure in `setu peers`).
const MAX_APPLIED_AHEAD: usize = 4096;
/// The most items one repair call may ask for.
const MAX_REPAIR_ITEMS: usize = 4096;

/// The federation service of one node.
pub struct FederationServiceImpl {
    federation: Arc<Federation>,
    /// Turns true when the node shuts down: every sync stream then ends.
    stop: tokio::sync::watch::Receiver<bool>,
}

impl FederationServiceImpl {
    /// A service over the node's federation state.
    pub fn new(federation: Arc<Federation>, stop: tokio::sync::watch::Receiver<bool>) -> Self {
        FederationServiceImpl { federation, stop }
    }

    /// The configured peer behind a request: a node certificate of a configured peer
    /// district, and nothing else. A certificate on the deny-list is refused and the
    /// refusal appended to the audit trail.
    async fn peer_of<T: Sync>(
        &self,
        request: &Request<T>,
        method: &'static str,
    ) -> NodeResult<PeerConfig> {
        crate::service::refusals::handler_reached(request);
        let identity = match auth::identify(request) {
            Ok(identity) => identity,
            Err(refused) => {
                tracing::warn!(method, reason = %refused, "refused a federation call from a certificate without a Setu identity");
                return Err(refused);
            }
        };
        let vouch = auth::check_vouched(request, &identity, &self.federation.district);
        // A certificate its CA may not vouch for is audited as unknown, with its claim.
        let disown = matches!(vouch, Err(NodeError::Unauthenticated(_)));
        let refused = match vouch {
            Ok(()) => auth::check_deny(request, &identity).err(),
            // An officer is refused below in any case, with its own sentence.
            Err(NodeError::PermissionDenied(_)) => None,
            Err(other) => Some(other),
        };
        if let Some(refused) = refused {
            self.audit_refusal(method, &identity, disown, &refused)
                .await;
            return Err(refused);
        }
        let outcome = match &identity {
            Identity::Node { district } => match self.federation.peer(district) {
                Some(peer) => {
                    self.federation.heard_from(district);
                    Ok(peer.clone())
                }
                None => {
                    tracing::warn!(%district, "refused a sync call from a node that is not a configured peer");
                    Err(NodeError::PermissionDenied(format!(
                        "{district} is not a configured peer of {}",
                        self.federation.district
                    )))
                }
            },
            Identity::Officer(officer) => Err(NodeError::PermissionDenied(format!(
                "the federation service serves district nodes only; {} is an officer certificate",
                officer.badge
            ))),
        };
        if let Err(refused) = &outcome {
            self.audit_refusal(method, &identity, false, refused).await;
        }
        outcome
    }

    /// Appends the audit entry of a refused federation call, and makes it durable. With
    /// `disown`, the certificate's CA may not vouch for what it names, and the entry
    /// records the caller as unknown, with its claim.
    async fn audit_refusal(
        &self,
        method: &'static str,
        identity: &Identity,
        disown: bool,
        refused: &NodeError,
    ) {
        let mut entry = AuditEntry {
            action: note::action_of(method),
            method: method.to_string(),
            district: identity.district().to_string(),
            at_ms: crate::clock::now_ms(),
            ..Default::default()
        };
        match identity {
            Identity::Node { district } => {
                entry.officer = format!("node {district}");
                entry.role = "node".to_string();
            }
            Identity::Officer(officer) => {
                entry.officer = officer.badge.clone();
                entry.officer_name = officer.name.clone();
                entry.role = officer.role.to_string();
            }
        }
        let code = refused.code();
        if disown {
            crate::service::disown(&mut entry, identity);
        }
        entry.outcome = note::code_name(code).to_string();
        let storage = &self.federation.storage;
        let written = match storage.append_audit(entry) {
            Ok(_) => storage.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            tracing::error!(caller = %identity, method, error = %e, "the audit entry of a refused federation call could not be written");
        }
    }
}

/// Where a sync stream stands in one origin's log.
struct Cursor {
    epoch: u64,
    seq: u64,
    /// The next batch starts a full pass.
    reset: bool,
    /// The caught-up mark for the current pass has been sent.
    caught_up: bool,
    /// A caught-up mark was sent on this stream: what follows is live traffic.
    live: bool,
}

/// Sends one message on a sync stream and counts its bytes for `peer` under `class`;
/// false when the requester has gone.
async fn send_counted(
    federation: &Federation,
    peer: &str,
    tx: &mpsc::Sender<Result<SyncMessage, Status>>,
    class: TrafficClass,
    message: SyncPart,
) -> bool {
    let message = SyncMessage {
        message: Some(message),
    };
    let size = message.encoded_len();
    if tx.send(Ok(message)).await.is_err() {
        return false;
    }
    federation
        .status
        .update(peer, |link| link.count_out(class, size));
    true
}

/// The priority stream (`SyncClass::Alerts`): this node's key statements, then its own
/// alerts and acknowledgements addressed to the requester above the requester's
/// watermark, then live ones, until the requester goes away. A live change of another
/// kind (a record, a note, an expunge) goes too while the full stream to the requester is
/// more than [`OVERTAKE_BEHIND`] changes behind it. Batches carry watermark 0: the full
/// stream still delivers the same changes in order, and the receiver applies each one
/// once. The same policy as the full stream decides what the peer gets.
async fn run_priority_sync(
    federation: Arc<Federation>,
    peer: PeerConfig,
    request: SyncRequest,
    tx: mpsc::Sender<Result<SyncMessage, Status>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), StorageError> {
    let storage = &federation.storage;
    let own = federation.district.as_str();
    let epoch = storage.epoch();
    let mut changed = storage.subscribe();
    changed.borrow_and_update();
    for (origin, _, bytes) in storage.key_statements()? {
        if origin != own {
            continue;
        }
        let Ok(statement) = KeyStatement::decode(bytes.as_slice()) else {
            continue;
        };
        if !send_counted(
            &federation,
            &peer.district,
            &tx,
            TrafficClass::Live,
            SyncPart::Key(statement),
        )
        .await
        {
            return Ok(());
        }
    }
    let after = request
        .watermarks
        .iter()
        .find(|w| w.origin == own && w.epoch == epoch)
        .map_or(0, |w| w.seq);
    // The head first: an alert committed after it is read is found again by the live
    // tail below (sending it twice is harmless, the receiver applies it once).
    let head = storage.origin_info(own)?.map_or(0, |i| i.max_seq);
    let outstanding = storage.alert_changes_after(own, after)?;
    let mut cursor = head.max(outstanding.last().map_or(0, |e| e.state.seq));
    let mut pending: Vec<Envelope> = outstanding
        .iter()
        .filter_map(|e| policy::outgoing(own, own, e, &peer))
        .collect();
    loop {
        for part in pending.chunks(BATCH) {
            let batch = SyncBatch {
                origin: own.to_string(),
                epoch,
                envelopes: part.to_vec(),
                watermark: 0,
                reset: false,
                caught_up: false,
                head: cursor,
            };
            if !send_counted(
                &federation,
                &peer.district,
                &tx,
                TrafficClass::Live,
                SyncPart::Batch(batch),
            )
            .await
            {
                return Ok(());
            }
        }
        tokio::select! {
            result = changed.changed() => {
                if result.is_err() {
                    return Ok(());
                }
            }
            _ = tx.closed() => return Ok(()),
            _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
        }
        changed.borrow_and_update();
        if storage.epoch() != epoch {
            // Restored under a new epoch: the requester reconnects and starts again.
            return Ok(());
        }
        pending.clear();
        loop {
            let entries = storage.log_after(own, cursor, BATCH)?;
            let Some(last) = entries.last() else {
                break;
            };
            cursor = last.state.seq;
            let ordered_sent = federation.ordered_sent(&peer.district);
            pending.extend(
                entries
                    .iter()
                    .filter(|e| e.kind.is_alert() || e.state.seq > ordered_sent + OVERTAKE_BEHIND)
                    .filter_map(|e| policy::outgoing(own, own, e, &peer)),
            );
        }
    }
}

/// Streams everything newer than the requester's watermarks, then live changes, until the
/// requester goes away.
async fn run_sync(
    federation: Arc<Federation>,
    peer: PeerConfig,
    request: SyncRequest,
    tx: mpsc::Sender<Result<SyncMessage, Status>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), StorageError> {
    let storage = &federation.storage;
    let own = federation.district.as_str();
    let mut changed = storage.subscribe();
    let wanted: HashMap<&str, &Watermark> = request
        .watermarks
        .iter()
        .map(|w| (w.origin.as_str(), w))
        .collect();
    let full: HashSet<&str> = request.full_resync.iter().map(String::as_str).collect();
    let mut cursors: HashMap<String, Cursor> = HashMap::new();
    let mut sent_keys: HashSet<(String, String)> = HashSet::new();
    let mut keys_read_at = None;
    loop {
        changed.borrow_and_update();
        // Key statements first, so every envelope that follows can be verified; they are
        // reread only when one was added (read the version first: a key added during the
        // read changes it again).
        let keys_version = storage.key_statements_version();
        let statements = if keys_read_at == Some(keys_version) {
            Vec::new()
        } else {
            keys_read_at = Some(keys_version);
            storage.key_statements()?
        };
        for (origin, key_id, bytes) in statements {
            if !policy::sends_origin(own, &origin, &peer)
                || sent_keys.contains(&(origin.clone(), key_id.clone()))
            {
                continue;
            }
            let Ok(statement) = KeyStatement::decode(bytes.as_slice()) else {
                continue;
            };
            if !send_counted(
                &federation,
                &peer.district,
                &tx,
                TrafficClass::Live,
                SyncPart::Key(statement),
            )
            .await
            {
                return Ok(());
            }
            sent_keys.insert((origin, key_id));
        }
        // Set when an origin still has backlog after its turn: the stream goes round again
        // at once instead of waiting for a change.
        let mut more = false;
        for info in storage.origins()? {
            if !policy::sends_origin(own, &info.origin, &peer) {
                continue;
            }
            let cursor = cursors.entry(info.origin.clone()).or_insert_with(|| {
                match wanted.get(info.origin.as_str()) {
                    Some(w) if w.epoch == info.epoch && !full.contains(info.origin.as_str()) => {
                        Cursor {
                            epoch: info.epoch,
                            seq: w.seq,
                            reset: false,
                            caught_up: false,
                            live: false,
                        }
                    }
                    _ => Cursor {
                        epoch: info.epoch,
                        seq: 0,
                        reset: true,
                        caught_up: false,
                        live: false,
                    },
                }
            });
            if cursor.epoch != info.epoch {
                // The origin was restored under a new epoch: start a full pass.
                *cursor = Cursor {
                    epoch: info.epoch,
                    seq: 0,
                    reset: true,
                    caught_up: false,
                    live: false,
                };
            }
            if info.origin == own {
                // Where this stream starts (or resumes) in this district's own log.
                federation.note_ordered_sent(&peer.district, cursor.seq);
            }
            if cursor.caught_up && !cursor.reset && cursor.seq >= info.max_seq {
                // Nothing new of this origin since the last turn: no need to read its log.
                continue;
            }
            let mut turn = 0;
            loop {
                if turn == BATCHES_PER_TURN {
                    // The other origins' live changes go before the rest of this backlog.
                    more = true;
                    break;
                }
                turn += 1;
                let entries = storage.log_after(&info.origin, cursor.seq, BATCH)?;
                let Some(last) = entries.last() else {
                    if !cursor.caught_up || cursor.reset {
                        let batch = SyncBatch {
                            origin: info.origin.clone(),
                            epoch: info.epoch,
                            envelopes: Vec::new(),
                            watermark: cursor.seq,
                            reset: cursor.reset,
                            caught_up: true,
                            head: info.max_seq,
                        };
                        let class = if cursor.live {
                            TrafficClass::Live
                        } else {
                            TrafficClass::CatchUp
                        };
                        if !send_counted(
                            &federation,
                            &peer.district,
                            &tx,
                            class,
                            SyncPart::Batch(batch),
                        )
                        .await
                        {
                            return Ok(());
                        }
                        cursor.reset = false;
                        cursor.caught_up = true;
                        cursor.live = true;
                    }
                    break;
                };
                let watermark = last.state.seq;
                let envelopes = entries
                    .iter()
                    .filter_map(|e| policy::outgoing(own, &info.origin, e, &peer))
                    .collect();
                let batch = SyncBatch {
                    origin: info.origin.clone(),
                    epoch: info.epoch,
                    envelopes,
                    watermark,
                    reset: cursor.reset,
                    caught_up: false,
                    head: info.max_seq.max(watermark),
                };
                let class = if cursor.live {
                    TrafficClass::Live
                } else {
                    TrafficClass::CatchUp
                };
                if !send_counted(
                    &federation,
                    &peer.district,
                    &tx,
                    class,
                    SyncPart::Batch(batch),
                )
                .await
                {
                    return Ok(());
                }
                cursor.seq = watermark;
                cursor.reset = false;
                cursor.caught_up = false;
                if info.origin == own {
                    federation.note_ordered_sent(&peer.district, watermark);
                }
            }
        }
        if more {
            continue;
        }
        tokio::select! {
            result = changed.changed() => {
                if result.is_err() {
                    return Ok(());
                }
            }
            _ = tx.closed() => return Ok(()),
            _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
        }
    }
}

/// A storage failure as the status a peer gets.
fn storage_failed(e: StorageError) -> Status {
    NodeError::from(e).into()
}

type SyncStream = Pin<Box<dyn Stream<Item = Result<SyncMessage, Status>> + Send>>;
type PhotoStream = Pin<Box<dyn Stream<Item = Result<PhotoChunk, Status>> + Send>>;

#[tonic::async_trait]
impl FederationService for FederationServiceImpl {
    type SyncStream = SyncStream;

    async fn sync(&self, request: Request<SyncRequest>) -> Result<Response<SyncStream>, Status> {
        let timer = CallTimer::start(&request, "FederationService/Sync");
        timer.finish(self.open_sync(request).await)
    }

    async fn digest(
        &self,
        request: Request<DigestRequest>,
    ) -> Result<Response<DigestResponse>, Status> {
        let timer = CallTimer::start(&request, "FederationService/Digest");
        timer.finish(self.answer_digest(request).await)
    }

    async fn repair(
        &self,
        request: Request<RepairRequest>,
    ) -> Result<Response<RepairResponse>, Status> {
        let timer = CallTimer::start(&request, "FederationService/Repair");
        timer.finish(self.answer_repair(request).await)
    }

    type FetchPhotoStream = PhotoStream;

    async fn fetch_photo(
        &self,
        request: Request<FetchPhotoRequest>,
    ) -> Result<Response<PhotoStream>, Status> {
        let timer = CallTimer::start(&request, "FederationService/FetchPhoto");
        timer.finish(self.send_photo(request).await)
    }
}

/// The calls' bodies, each timed and counted by its trait method above.
impl FederationServiceImpl {
    /// Records the node certificate a peer presented on its sync call, for `setu peers`
    /// and the expiry warning.
    fn note_peer_cert<T>(&self, request: &Request<T>, peer: &str) {
        let facts = request
            .peer_certs()
            .and_then(|certs| certs.first().cloned())
            .and_then(|leaf| CertFacts::of_der(leaf.as_ref()).ok());
        if let Some(facts) = facts {
            self.federation.saw_peer_cert(peer, &facts);
        }
    }

    async fn open_sync(
        &self,
        request: Request<SyncRequest>,
    ) -> Result<Response<SyncStream>, Status> {
        let peer = self
            .peer_of(&request, "FederationService/Sync")
            .await
            .map_err(Status::from)?;
        self.note_peer_cert(&request, &peer.district);
        let request = request.into_inner();
        let priority = request.class == SyncClass::Alerts as i32;
        if !priority {
            self.federation
                .storage
                .set_peer_acks(&peer.district, &request.watermarks)
                .map_err(storage_failed)?;
        }
        tracing::info!(peer = %peer.district, origins = request.watermarks.len(), full = ?request.full_resync, priority, "sync stream opened");
        let (tx, rx) = mpsc::channel(4);
        let federation = self.federation.clone();
        let stop = self.stop.clone();
        crate::spawn(async move {
            let district = peer.district.clone();
            let result = if priority {
                run_priority_sync(federation, peer, request, tx.clone(), stop).await
            } else {
                run_sync(federation, peer, request, tx.clone(), stop).await
            };
            if let Err(e) = result {
                tracing::error!(peer = %district, error = %e, "sync stream failed");
                let _ = tx.send(Err(Status::internal(e.to_string()))).await;
            }
        });
        let mut response = Response::new(Box::pin(ReceiverStream::new(rx)) as SyncStream);
        if priority {
            response.metadata_mut().insert(
                SYNC_CLASS_HEADER,
                tonic::metadata::MetadataValue::from_static("alerts"),
            );
        }
        Ok(response)
    }

    async fn answer_digest(
        &self,
        request: Request<DigestRequest>,
    ) -> Result<Response<DigestResponse>, Status> {
        let peer = self
            .peer_of(&request, "FederationService/Digest")
            .await
            .map_err(Status::from)?;
        let request = request.into_inner();
        let federation = &self.federation;
        let storage = &federation.storage;
        storage
            .set_peer_acks(&peer.district, &request.watermarks)
            .map_err(storage_failed)?;
        let mut digests = Vec::new();
        if request.acknowledge_only {
            // What the peer holds ahead, kept until its watermark passes it.
            let own = federation.district.as_str();
            let acked = request
                .watermarks
                .iter()
                .find(|w| w.origin == own && w.epoch == storage.epoch())
                .map_or(0, |w| w.seq);
            federation.status.update(&peer.district, |s| {
                s.applied_ahead.extend(
                    request
                        .applied_ahead
                        .iter()
                        .take(MAX_APPLIED_AHEAD)
                        .copied(),
                );
                s.applied_ahead.retain(|&seq| seq > acked);
                while s.applied_ahead.len() > MAX_APPLIED_AHEAD {
                    s.applied_ahead.pop_first();
                }
            });
            return Ok(Response::new(DigestResponse { digests }));
        }
        let bucket_items: Vec<u16> = request
            .bucket_items
            .iter()
            .filter_map(|b| u16::try_from(*b).ok())
            .filter(|b| usize::from(*b) < BUCKETS)
            .collect();
        for info in storage.origins().map_err(storage_failed)? {
            if !policy::sends_origin(&federation.district, &info.origin, &peer)
                || (!request.origins.is_empty() && !request.origins.contains(&info.origin))
            {
                continue;
            }
            let handlings = policy::handlings_sent(&federation.district, &info.origin, &peer);
            // The head is read first: a change committed meanwhile is then in the buckets
            // but above the head, so a requester at the head sees a difference and narrows
            // it on a later check rather than missing it.
            let head = storage
                .origin_info(&info.origin)
                .map_err(storage_failed)?
                .map_or(info.max_seq, |i| i.max_seq);
            let root = storage
                .digest_root(&info.origin, info.epoch, &handlings)
                .map_err(storage_failed)?;
            let mut digest = OriginDigest {
                origin: info.origin.clone(),
                epoch: info.epoch,
                count: root.count,
                hash: hex::encode(root.hash),
                head_seq: head,
                handlings: handlings.clone(),
                buckets: Vec::new(),
                items: Vec::new(),
            };
            if request.buckets {
                let buckets = storage
                    .digest_buckets(&info.origin, info.epoch, &handlings)
                    .map_err(storage_failed)?;
                digest.buckets = buckets
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.count > 0)
                    .map(|(i, b)| BucketDigest {
                        index: i as u32,
                        count: b.count,
                        hash: b.hash.to_vec(),
                    })
                    .collect();
            }
            if !bucket_items.is_empty() {
                digest.items = storage
                    .digest_items(&info.origin, info.epoch, &handlings, &bucket_items)
                    .map_err(storage_failed)?
                    .into_iter()
                    .map(|(kind, id, seq)| ItemVersion {
                        kind: kind.item_kind() as i32,
                        id,
                        seq,
                    })
                    .collect();
            }
            digests.push(digest);
        }
        Ok(Response::new(DigestResponse { digests }))
    }

    /// The current change of each item asked for, as the sync stream would send it to this
    /// peer (full, retraction or nothing, by the same policy), with watermark 0.
    async fn answer_repair(
        &self,
        request: Request<RepairRequest>,
    ) -> Result<Response<RepairResponse>, Status> {
        let peer = self
            .peer_of(&request, "FederationService/Repair")
            .await
            .map_err(Status::from)?;
        let request = request.into_inner();
        if request.items.len() > MAX_REPAIR_ITEMS {
            return Err(Status::invalid_argument(format!(
                "items: {} items asked for; the limit is {MAX_REPAIR_ITEMS}",
                request.items.len()
            )));
        }
        let federation = &self.federation;
        let storage = &federation.storage;
        let own = federation.district.as_str();
        let origin = request.origin;
        let Some(info) = storage.origin_info(&origin).map_err(storage_failed)? else {
            return Ok(Response::new(RepairResponse::default()));
        };
        if !policy::sends_origin(own, &origin, &peer) {
            return Err(Status::permission_denied(format!(
                "{} changes are not sent to {}",
                crate::validate::excerpt(&origin),
                peer.district
            )));
        }
        let mut envelopes = Vec::new();
        let mut unknown = Vec::new();
        for item in request.items {
            let Some(kind) = Kind::from_item_kind(item.kind) else {
                continue;
            };
            let entry = storage
                .current_change(kind, &item.id)
                .map_err(storage_failed)?;
            match entry {
                Some(entry) if entry.state.origin == origin && entry.state.epoch == info.epoch => {
                    if let Some(envelope) = policy::outgoing(own, &origin, &entry, &peer) {
                        envelopes.push(envelope);
                    }
                }
                _ => unknown.push(item),
            }
        }
        let mut keys = Vec::new();
        for (key_origin, _, bytes) in storage.key_statements().map_err(storage_failed)? {
            if key_origin == origin {
                if let Ok(statement) = KeyStatement::decode(bytes.as_slice()) {
                    keys.push(statement);
                }
            }
        }
        Ok(Response::new(RepairResponse {
            batch: Some(SyncBatch {
                origin: origin.clone(),
                epoch: info.epoch,
                envelopes,
                watermark: 0,
                reset: false,
                caught_up: false,
                head: info.max_seq,
            }),
            unknown,
            keys,
        }))
    }

    async fn send_photo(
        &self,
        request: Request<FetchPhotoRequest>,
    ) -> Result<Response<PhotoStream>, Status> {
        let peer = self
            .peer_of(&request, "FederationService/FetchPhoto")
            .await
            .map_err(Status::from)?;
        let FetchPhotoRequest {
            sha256: sha,
            offset,
        } = request.into_inner();
        let Some((meta, bytes)) = self
            .federation
            .storage
            .photo(&sha)
            .map_err(storage_failed)?
        else {
            return Err(Status::not_found(format!(
                "photo {} is not held here",
                crate::validate::excerpt(&sha)
            )));
        };
        let total = bytes.len() as u64;
        if offset > total {
            return Err(Status::out_of_range(format!(
                "offset: {offset} is beyond the photo's {total} bytes"
            )));
        }
        let start = offset as usize;
        let chunks: Vec<Result<PhotoChunk, Status>> = bytes[start..]
            .chunks(PHOTO_CHUNK)
            .enumerate()
            .map(|(i, c)| {
                Ok(PhotoChunk {
                    chunk: c.to_vec(),
                    mime_type: meta.mime_type.clone(),
                    offset: (start + i * PHOTO_CHUNK) as u64,
                    total_size: total,
                })
            })
            .collect();
        // Counted as handed to the stream: what the link really carried is the receiver's
        // figure.
        let federation = self.federation.clone();
        let district = peer.district;
        let counted = tokio_stream::StreamExt::map(tokio_stream::iter(chunks), move |chunk| {
            if let Ok(c) = &chunk {
                federation.status.update(&district, |link| {
                    link.count_out(TrafficClass::Photos, c.chunk.len())
                });
            }
            chunk
        });
        Ok(Response::new(Box::pin(counted)))
    }
}
