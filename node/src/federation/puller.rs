//! The outgoing side of a peer link: this node dials the peer, opens `Sync` with its
//! watermarks, verifies and applies what arrives batch by batch (each batch with its
//! watermark in one transaction, flushed), runs anti-entropy on a timer, and reconnects
//! with exponential backoff and jitter. Two more parts of the link run on connections of
//! their own, so that neither waits behind the catch-up: the priority stream of the
//! peer's alerts and acknowledgements ([`PriorityLink`]), applied ahead of the backlog,
//! and the photo fetcher ([`PhotoFetcher`]), which resumes interrupted transfers.

use super::status::TrafficClass;
use super::{Federation, SYNC_CLASS_HEADER};
use crate::config::PeerConfig;
use crate::net::connection::PeerConnector;
use crate::net::reload::TlsState;
use crate::storage::digest::{Bucket, BUCKETS};
use crate::storage::{EpochChange, Kind, RemoteChange};
use prost::Message as _;
use setu_proto::v1::federation_service_client::FederationServiceClient;
use setu_proto::v1::sync_message::Message as SyncPart;
use setu_proto::v1::{
    DigestRequest, Envelope, FetchPhotoRequest, ItemVersion, RepairRequest, SyncBatch, SyncClass,
    SyncRequest,
};
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::{watch, Notify};
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint, Uri};

/// Batches with at least this many envelopes have their signatures checked on two threads.
const SPLIT_VERIFY_AT: usize = 64;

/// First reconnect delay.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest reconnect delay: a link back after a long outage is found within this time
/// (sooner when the peer's node calls in first). A try over a dead link costs a few
/// packets, so it can be short.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// One failed try in this many is logged as a warning (about one a minute at the longest
/// delay); the others are debug lines.
const FAILURES_PER_WARNING: u32 = 12;

/// First retry delay of a photo whose transfer failed.
const PHOTO_RETRY_START: Duration = Duration::from_secs(1);
/// Longest retry delay of a photo whose transfer failed: seconds, not the anti-entropy
/// period.
const PHOTO_RETRY_MAX: Duration = Duration::from_secs(8);
/// When a peer said it does not hold a photo, how long before it is asked again.
const PHOTO_NOT_HELD_RETRY: Duration = Duration::from_secs(60);
/// How often the photo task looks for missing photos when nothing woke it.
const PHOTO_IDLE_CHECK: Duration = Duration::from_secs(300);
/// How long the priority and photo parts of a link may take to end once the node stops.
const PART_STOP_GRACE: Duration = Duration::from_secs(2);
/// How long to wait before asking a peer that predates the priority stream again.
const PRIORITY_UNSUPPORTED_RETRY: Duration = Duration::from_secs(600);

/// Why one connection ended.
enum LinkEnd {
    /// The node is shutting down.
    Stopped,
    /// The peer predates the priority stream (it answered without the class header).
    Unsupported,
}

/// Why a photo transfer failed.
enum PhotoFailure {
    /// The peer does not hold the photo.
    NotHeld,
    /// The link broke or the peer refused: retry soon, from where the transfer stopped.
    Link(String),
    /// The bytes were wrong (hash or size): the partial copy was discarded.
    Bad(String),
}

/// How many differing buckets one anti-entropy check narrows per origin; the rest wait
/// for the next check.
const MAX_BUCKETS_PER_CHECK: usize = 64;
/// How many items one repair call asks for (the peer's limit).
const MAX_REPAIR_ITEMS: usize = 4096;

/// A batch whose signatures are being checked.
struct VerifyingBatch {
    origin: String,
    epoch: u64,
    watermark: u64,
    head: u64,
    reset: bool,
    caught_up: bool,
    handle: tokio::task::JoinHandle<Option<Vec<RemoteChange>>>,
}

/// Resolves when the pending batch's checks are done.
async fn wait_verified(
    pending: &mut Option<VerifyingBatch>,
) -> Result<Option<Vec<RemoteChange>>, tokio::task::JoinError> {
    match pending.as_mut() {
        Some(batch) => (&mut batch.handle).await,
        None => std::future::pending().await,
    }
}

/// One peer link, run until `stop` turns true.
pub struct Puller {
    federation: Arc<Federation>,
    peer: PeerConfig,
    endpoint: Endpoint,
    /// Dials the peer with the TLS material current at each attempt.
    connector: PeerConnector,
    /// Origins to fetch in full on the next connection.
    /// When the last anti-entropy check finished: the next is due a period later, across
    /// reconnects.
    last_check: Option<tokio::time::Instant>,
    /// Full passes in progress: origin → items seen so far.
    passes: HashMap<String, HashSet<(Kind, String)>>,
    /// Wakes the acknowledgement task of the current connection.
    ack: Option<watch::Sender<u64>>,
    /// Wakes the photo task when a batch referenced photos that are not here.
    photos_wanted: Arc<Notify>,
    /// Wakes the priority link when the full stream (re)connects: the link is back, so
    /// the priority stream need not wait out its backoff.
    link_up: Arc<Notify>,
    /// Origins whose backlog the current connection has delivered: what follows is live.
    live_origins: HashSet<String>,
}

fn jittered(delay: Duration) -> Duration {
    let factor = 0.5 + rand::random::<f64>();
    delay.mul_f64(factor)
}

impl Puller {
    /// Prepares the link to `peer`: the peer's certificate must chain to its configured CA
    /// and carry the name `<district>.node.setu`, so a node of another district is refused
    /// in the handshake. Each dial takes the node's certificate and the peer's CA as they
    /// are at that moment in `tls` (a reload changes the next dial, not an open link).
    pub fn new(
        federation: Arc<Federation>,
        peer: PeerConfig,
        tls: Arc<TlsState>,
    ) -> Result<Puller, String> {
        let address: Uri = peer
            .address
            .parse()
            .map_err(|e| format!("peer {} address: {e}", peer.district))?;
        let authority = address
            .authority()
            .ok_or_else(|| format!("peer {} address has no host", peer.district))?;
        let connector = PeerConnector::new(tls, federation.clone(), &peer.district, &address)?;
        // TLS is the connector's part, so tonic is given the plain scheme; the connector
        // dials the configured https address.
        let endpoint = Endpoint::from_shared(format!("http://{authority}"))
            .map_err(|e| format!("peer {} address: {e}", peer.district))?
            .connect_timeout(Duration::from_secs(5))
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(10));
        Ok(Puller {
            federation,
            peer,
            endpoint,
            connector,
            last_check: None,
            passes: HashMap::new(),
            ack: None,
            photos_wanted: Arc::new(Notify::new()),
            link_up: Arc::new(Notify::new()),
            live_origins: HashSet::new(),
        })
    }

    /// Dials the peer on a connection of its own (TCP and TLS), so that what another
    /// connection has queued cannot hold this one's traffic back.
    async fn dial(
        endpoint: &Endpoint,
        connector: &PeerConnector,
        address: &str,
    ) -> Result<Channel, String> {
        endpoint
            .connect_with_connector(connector.clone())
            .await
            .map_err(|e| format!("cannot connect to {address}: {}", error_chain(&e)))
    }

    /// Keeps the link up until `stop` turns true.
    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        let priority = PriorityLink {
            federation: self.federation.clone(),
            peer: self.peer.clone(),
            endpoint: self.endpoint.clone(),
            connector: self.connector.clone(),
            link_up: self.link_up.clone(),
            photos_wanted: self.photos_wanted.clone(),
        };
        let priority = crate::spawn(priority.run(stop.clone()));
        let photos = PhotoFetcher {
            federation: self.federation.clone(),
            peer: self.peer.clone(),
            endpoint: self.endpoint.clone(),
            connector: self.connector.clone(),
            wake: self.photos_wanted.clone(),
        };
        let photos = crate::spawn(photos.run(stop.clone()));
        self.run_full(stop).await;
        // The other two parts of the link end on the same signal; nothing of the link may
        // outlive the node (each holds the store), so a part still busy is ended.
        for mut part in [priority, photos] {
            if tokio::time::timeout(PART_STOP_GRACE, &mut part)
                .await
                .is_err()
            {
                part.abort();
                let _ = part.await;
            }
        }
    }

    /// The full stream: connects, pulls and reconnects until `stop` turns true.
    async fn run_full(&mut self, mut stop: watch::Receiver<bool>) {
        let mut delay = BACKOFF_START;
        let called_in = self.federation.calls_from(&self.peer.district);
        // Failed tries in a row: the first and then one a minute or so are warnings, the
        // rest debug lines, so that a long outage does not flood the log.
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                return;
            }
            let mut progressed = false;
            let result = self.connect_and_pull(&mut stop, &mut progressed).await;
            if progressed {
                failures = 0;
            }
            let district = self.peer.district.clone();
            self.federation
                .status
                .update(&district, |s| s.connected = false);
            match result {
                Ok(LinkEnd::Stopped) => return,
                Ok(LinkEnd::Unsupported) => {}
                Err(error) => {
                    let retry_in_ms = delay.as_millis() as u64;
                    if failures.is_multiple_of(FAILURES_PER_WARNING) {
                        tracing::warn!(peer = %district, %error, retry_in_ms, failures_in_a_row = failures + 1, "peer link down");
                    } else {
                        tracing::debug!(peer = %district, %error, retry_in_ms, failures_in_a_row = failures + 1, "peer link still down");
                    }
                    failures = failures.saturating_add(1);
                    self.federation.status.update(&district, |s| {
                        s.last_error = error.clone();
                        s.last_error_at_ms = crate::clock::now_ms();
                    });
                }
            }
            if progressed {
                delay = BACKOFF_START;
            }
            tokio::select! {
                _ = tokio::time::sleep(jittered(delay)) => {}
                // The peer reached this node, so the link is back: no need to wait longer.
                _ = called_in.notified() => {}
                _ = stop.changed() => return,
            }
            delay = (delay * 2).min(BACKOFF_MAX);
        }
    }

    async fn connect_and_pull(
        &mut self,
        stop: &mut watch::Receiver<bool>,
        progressed: &mut bool,
    ) -> Result<LinkEnd, String> {
        let peer = self.peer.district.clone();
        let channel = Self::dial(&self.endpoint, &self.connector, &self.peer.address).await?;
        // zstd first: the order is this node's preference, and gzip stays for older peers.
        let mut client = FederationServiceClient::new(channel.clone())
            .accept_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Gzip);
        let storage = &self.federation.storage;
        let watermarks = storage.watermarks(&peer).map_err(|e| e.to_string())?;
        let mut stream = client
            .sync(SyncRequest {
                watermarks,
                full_resync: Vec::new(),
                class: SyncClass::All as i32,
            })
            .await
            .map_err(|s| format!("sync refused: {}", status_text(&s)))?
            .into_inner();
        self.passes.clear();
        self.live_origins.clear();
        self.start_acknowledging(&channel);
        self.federation.status.update(&peer, |s| {
            let now = crate::clock::now_ms();
            s.connected = true;
            s.last_contact_ms = now;
            s.connected_at(now);
        });
        // Photos the last connection left missing are the photo task's to retry, and a
        // priority stream waiting out its backoff can come back now.
        self.photos_wanted.notify_one();
        self.link_up.notify_one();
        tracing::info!(%peer, "sync stream open");
        // Due a period after the last completed check, whatever happened to the link since
        // (a check missed while the link was down is made at once).
        let period = self.federation.anti_entropy;
        let due = self.last_check.map_or_else(
            || tokio::time::Instant::now() + period,
            |last| last + period,
        );
        let mut anti_entropy = tokio::time::interval_at(due, period);
        anti_entropy.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Two stages: the signatures of batch N+1 are checked while batch N is applied.
        let mut pending: Option<VerifyingBatch> = None;
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => return Ok(LinkEnd::Stopped),
                // A due check goes before the next batch: its cost is a few bucket reads,
                // and on a busy stream it would otherwise wait for the backlog to drain.
                _ = anti_entropy.tick() => {
                    if let Some(previous) = pending.take() {
                        self.apply_verified(previous).await?;
                    }
                    self.anti_entropy(&mut client).await?;
                    self.last_check = Some(tokio::time::Instant::now());
                    self.photos_wanted.notify_one();
                }
                message = stream.message() => {
                    let message = message.map_err(|s| format!("sync stream broke: {}", status_text(&s)))?;
                    let Some(message) = message else {
                        return Err("the peer closed the sync stream".to_string());
                    };
                    *progressed = true;
                    let class = match &message.message {
                        Some(SyncPart::Batch(b)) if !self.live_origins.contains(&b.origin) => TrafficClass::CatchUp,
                        _ => TrafficClass::Live,
                    };
                    let size = message.encoded_len();
                    self.federation.status.update(&peer, |s| {
                        s.last_contact_ms = crate::clock::now_ms();
                        s.count_in(class, size);
                    });
                    match message.message {
                        Some(SyncPart::Key(statement)) => {
                            // Keys must be known before the batches that follow are checked.
                            if let Some(previous) = pending.take() {
                                self.apply_verified(previous).await?;
                            }
                            self.federation.take_key_statements(&peer, [&statement]).await?;
                        }
                        Some(SyncPart::Batch(batch)) => {
                            let next = self.start_verifying(batch);
                            if let Some(previous) = pending.replace(next) {
                                self.apply_verified(previous).await?;
                            }
                        }
                        None => {}
                    }
                }
                verified = wait_verified(&mut pending), if pending.is_some() => {
                    if let Some(batch) = pending.take() {
                        self.apply_verified_now(batch, verified).await?;
                    }
                }

            }
        }
    }

    /// Starts checking a batch's signatures off the async threads, split over two threads.
    fn start_verifying(&self, batch: SyncBatch) -> VerifyingBatch {
        let federation = self.federation.clone();
        let peer = self.peer.district.clone();
        let origin = batch.origin.clone();
        let epoch = batch.epoch;
        let envelopes = batch.envelopes;
        let handle = tokio::task::spawn_blocking(move || {
            let verify = |part: Vec<Envelope>| verified(&federation, &peer, &origin, epoch, part);
            if envelopes.len() < SPLIT_VERIFY_AT {
                // A live change or two: a second thread would cost more than it saves.
                return Some(verify(envelopes));
            }
            let mut first = envelopes;
            let second = first.split_off(first.len() / 2);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| verify(second));
                let mut changes = verify(first);
                // A failed half fails the whole batch, so that no change is skipped while
                // the watermark moves past it.
                changes.extend(other.join().ok()?);
                Some(changes)
            })
        });
        VerifyingBatch {
            origin: batch.origin,
            epoch,
            watermark: batch.watermark,
            head: batch.head,
            reset: batch.reset,
            caught_up: batch.caught_up,
            handle,
        }
    }

    /// Waits for a batch's signature checks, then applies it.
    async fn apply_verified(&mut self, mut batch: VerifyingBatch) -> Result<(), String> {
        let verified = (&mut batch.handle).await;
        self.apply_verified_now(batch, verified).await
    }

    /// Applies a checked batch with its watermark in one transaction, flushes, fetches the
    /// photos its records need, and ends a full pass when the batch closes one.
    async fn apply_verified_now(
        &mut self,
        batch: VerifyingBatch,
        verified: Result<Option<Vec<RemoteChange>>, tokio::task::JoinError>,
    ) -> Result<(), String> {
        let changes = verified
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "a signature-check thread failed".to_string())?;
        let federation = self.federation.clone();
        let storage = federation.storage.clone();
        let peer = self.peer.district.clone();
        let origin = batch.origin.clone();
        if origin == federation.district {
            return Ok(());
        }
        // A new epoch for a known origin must reach this node's own peers soon (they drop
        // what the origin no longer has), so it is flushed and announced like a change.
        let mut epoch_adopted = false;
        if batch.reset {
            match storage
                .adopt_origin_epoch(&origin, batch.epoch)
                .map_err(|e| e.to_string())?
            {
                EpochChange::Retired => {
                    tracing::warn!(%peer, %origin, epoch = batch.epoch, "ignored a full pass under a retired epoch");
                    return Ok(());
                }
                EpochChange::Adopted => {
                    epoch_adopted = true;
                    tracing::info!(%peer, %origin, epoch = batch.epoch, "new epoch: full resync of this origin");
                }
                EpochChange::First => {
                    tracing::info!(%peer, %origin, "first sync of this origin");
                }
                EpochChange::Same => {}
            }
            self.passes.insert(origin.clone(), HashSet::new());
        }
        if let Some(pass) = self.passes.get_mut(&origin) {
            pass.extend(changes.iter().map(|c| (c.kind, c.id.clone())));
        }
        let received = changes.len() as u64;
        let (epoch, watermark) = (batch.epoch, batch.watermark);
        let (apply_peer, apply_origin) = (peer.clone(), origin.clone());
        let apply_storage = storage.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            apply_storage.apply_remote(&apply_peer, &apply_origin, epoch, &changes, watermark)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        if outcome.applied > 0 || epoch_adopted {
            // Durable, then announced to this node's sync streams, which relay it.
            storage.flush().await.map_err(|e| e.to_string())?;
        }
        // Otherwise only the watermark moved (an empty pass, or changes another peer
        // brought first). It is committed with the batch; it becomes durable with the next
        // flush, at the latest the one before this node acknowledges it to the peer, and a
        // crash before that only means pulling the same changes again.
        let status = &self.federation.status;
        status.update(&peer, |s| s.count_envelopes(&origin, received, &outcome));
        for refusal in &outcome.refused {
            tracing::error!(%peer, %origin, "{refusal}");
        }
        if outcome.applied > 0 {
            tracing::debug!(%peer, %origin, applied = outcome.applied, watermark, "applied changes");
        }
        self.federation.status.update(&peer, |s| {
            if origin == peer {
                s.peer_head = batch.head;
            }
            s.origin_heads.insert(origin.clone(), batch.head);
        });
        if !outcome.missing_photos.is_empty() {
            // Fetched by the photo task on its own connection: the stream does not wait.
            self.photos_wanted.notify_one();
        }
        if batch.caught_up {
            self.live_origins.insert(origin.clone());
            if let Some(seen) = self.passes.remove(&origin) {
                self.finish_pass(&origin, epoch, &seen).await?;
            }
            self.acknowledge();
        }
        Ok(())
    }

    /// Asks the acknowledgement task to tell the peer how far this node has applied.
    fn acknowledge(&mut self) {
        if let Some(ack) = &self.ack {
            ack.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Starts the task that tells the peer how far this node has applied, so that the
    /// peer's `setu peers` shows a current outgoing lag: at most once a second, and always
    /// once more after the last change. Best effort: a lost acknowledgement only delays
    /// that figure. The task ends with the connection (when `self.ack` is replaced).
    fn start_acknowledging(&mut self, channel: &Channel) {
        let (tx, mut rx) = watch::channel(0u64);
        self.ack = Some(tx);
        let mut client = FederationServiceClient::new(channel.clone());
        let storage = self.federation.storage.clone();
        let peer = self.peer.district.clone();
        crate::spawn(async move {
            while rx.changed().await.is_ok() {
                // Durable before acknowledged: the peer may collect a tombstone once every
                // peer has acknowledged it, so an acknowledged watermark must survive a crash.
                if storage.flush().await.is_err() {
                    return;
                }
                let Ok(watermarks) = storage.watermarks(&peer) else {
                    return;
                };
                let request = DigestRequest {
                    watermarks,
                    acknowledge_only: true,
                    ..Default::default()
                };
                if let Err(status) = client.digest(request).await {
                    tracing::debug!(%peer, error = %status_text(&status), "acknowledgement not delivered");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// At the end of a full pass, drops the items of `origin` the pass did not bring: all of
    /// them when the peer is the origin itself (it is the authority on its own items), only
    /// those from a retired epoch otherwise.
    async fn finish_pass(
        &self,
        origin: &str,
        epoch: u64,
        seen: &HashSet<(Kind, String)>,
    ) -> Result<(), String> {
        let storage = &self.federation.storage;
        let authoritative = origin == self.peer.district;
        let stale: Vec<(Kind, String)> = storage
            .items_of_origin(origin)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(kind, id, state)| {
                state.epoch != epoch || (authoritative && !seen.contains(&(*kind, id.clone())))
            })
            .map(|(kind, id, _)| (kind, id))
            .collect();
        if !stale.is_empty() {
            let dropped = storage.drop_items(&stale).map_err(|e| e.to_string())?;
            storage.flush().await.map_err(|e| e.to_string())?;
            tracing::info!(peer = %self.peer.district, %origin, dropped, "full resync removed items the origin no longer has");
        }
        Ok(())
    }

    /// Compares the incremental digests with the peer, origin by origin, and repairs what
    /// differs: only origins this node has caught up with are compared (a catch-up in
    /// progress is never restarted and no watermark moves); a difference is narrowed to
    /// buckets, then to items, and only those items are fetched.
    async fn anti_entropy(
        &mut self,
        client: &mut FederationServiceClient<Channel>,
    ) -> Result<(), String> {
        let peer = self.peer.district.clone();
        let storage = self.federation.storage.clone();
        let watermarks = storage.watermarks(&peer).map_err(|e| e.to_string())?;
        let response = client
            .digest(DigestRequest {
                watermarks: watermarks.clone(),
                ..Default::default()
            })
            .await
            .map_err(|s| format!("digest refused: {}", status_text(&s)))?
            .into_inner();
        let mut in_sync = 0;
        let mut notes = Vec::new();
        for d in &response.digests {
            if d.origin == self.federation.district {
                continue;
            }
            let caught_up = watermarks
                .iter()
                .find(|w| w.origin == d.origin)
                .filter(|w| w.epoch == d.epoch)
                .map(|w| w.seq);
            match caught_up {
                Some(seq) if seq >= d.head_seq => {}
                other => {
                    notes.push(format!(
                        "{} catching up ({} of {})",
                        d.origin,
                        other.unwrap_or(0),
                        d.head_seq
                    ));
                    continue;
                }
            }
            let mine = storage
                .digest_root(&d.origin, d.epoch, &d.handlings)
                .map_err(|e| e.to_string())?;
            if mine.count == d.count && hex::encode(mine.hash) == d.hash {
                in_sync += 1;
                continue;
            }
            let repaired = self.repair_origin(client, d).await?;
            notes.push(format!(
                "{} repaired {repaired} (here {} items, peer {})",
                d.origin, mine.count, d.count
            ));
        }
        let result = if notes.is_empty() {
            let origins = if in_sync == 1 { "origin" } else { "origins" };
            format!("in sync ({in_sync} {origins} compared)")
        } else {
            format!("{in_sync} in sync; {}", notes.join(", "))
        };
        tracing::info!(%peer, %result, "anti-entropy");
        self.federation.status.update(&peer, |s| {
            s.anti_entropy_at_ms = crate::clock::now_ms();
            s.anti_entropy_result = result.clone();
        });
        Ok(())
    }

    /// Narrows a difference in one origin's digest to buckets and items, and fetches the
    /// items that differ; returns how many changes were applied or dropped.
    async fn repair_origin(
        &mut self,
        client: &mut FederationServiceClient<Channel>,
        theirs: &setu_proto::v1::OriginDigest,
    ) -> Result<usize, String> {
        let storage = self.federation.storage.clone();
        let origin = theirs.origin.clone();
        let ask = |buckets: bool, bucket_items: Vec<u32>| DigestRequest {
            origins: vec![origin.clone()],
            buckets,
            bucket_items,
            ..Default::default()
        };
        let narrowed = client
            .digest(ask(true, Vec::new()))
            .await
            .map_err(|s| format!("digest refused: {}", status_text(&s)))?
            .into_inner();
        let Some(their_buckets) = narrowed.digests.into_iter().find(|d| d.origin == origin) else {
            return Ok(0);
        };
        let mine = storage
            .digest_buckets(&origin, theirs.epoch, &theirs.handlings)
            .map_err(|e| e.to_string())?;
        let mut remote = vec![Bucket::default(); BUCKETS];
        for b in &their_buckets.buckets {
            if let (Some(slot), Ok(hash)) = (
                remote.get_mut(b.index as usize),
                <[u8; 32]>::try_from(b.hash.as_slice()),
            ) {
                *slot = Bucket {
                    count: b.count,
                    hash,
                };
            }
        }
        let differing: Vec<u32> = (0..BUCKETS)
            .filter(|&i| mine[i] != remote[i])
            .take(MAX_BUCKETS_PER_CHECK)
            .map(|i| i as u32)
            .collect();
        if differing.is_empty() {
            return Ok(0);
        }
        let listed = client
            .digest(ask(false, differing.clone()))
            .await
            .map_err(|s| format!("digest refused: {}", status_text(&s)))?
            .into_inner();
        let their_items: HashMap<(Kind, String), u64> = listed
            .digests
            .into_iter()
            .filter(|d| d.origin == origin)
            .flat_map(|d| d.items)
            .filter_map(|i| Some(((Kind::from_item_kind(i.kind)?, i.id), i.seq)))
            .collect();
        let buckets: Vec<u16> = differing.iter().map(|b| *b as u16).collect();
        let my_items: HashMap<(Kind, String), u64> = storage
            .digest_items(&origin, theirs.epoch, &theirs.handlings, &buckets)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(kind, id, seq)| ((kind, id), seq))
            .collect();
        let version = |(kind, id): &(Kind, String), seq: u64| ItemVersion {
            kind: kind.item_kind() as i32,
            id: id.clone(),
            seq,
        };
        let mut wanted: Vec<ItemVersion> = their_items
            .iter()
            .filter(|(key, seq)| my_items.get(*key).is_none_or(|mine| mine < *seq))
            .map(|(key, seq)| version(key, *seq))
            .collect();
        // The origin itself is the authority on its items: what this node holds and the
        // origin does not list was expunged or retracted there (or never existed).
        let authoritative = origin == self.peer.district;
        if authoritative {
            wanted.extend(
                my_items
                    .iter()
                    .filter(|(key, _)| !their_items.contains_key(*key))
                    .map(|(key, seq)| version(key, *seq)),
            );
        }
        wanted.truncate(MAX_REPAIR_ITEMS);
        if wanted.is_empty() {
            return Ok(0);
        }
        let repair = client
            .repair(RepairRequest {
                origin: origin.clone(),
                items: wanted,
            })
            .await
            .map_err(|s| format!("repair refused: {}", status_text(&s)))?
            .into_inner();
        self.federation
            .take_key_statements(&self.peer.district, &repair.keys)
            .await?;
        let mut repaired = 0;
        if let Some(batch) = repair.batch {
            repaired += self.apply_repair(batch).await?;
        }
        if authoritative && !repair.unknown.is_empty() {
            let gone: Vec<(Kind, String)> = repair
                .unknown
                .iter()
                .filter_map(|i| Some((Kind::from_item_kind(i.kind)?, i.id.clone())))
                .collect();
            repaired += storage.drop_items(&gone).map_err(|e| e.to_string())?;
            storage.flush().await.map_err(|e| e.to_string())?;
        }
        tracing::info!(peer = %self.peer.district, %origin, repaired, "anti-entropy repair");
        Ok(repaired)
    }

    /// Verifies and applies a repair batch without touching the watermarks, then fetches
    /// the photos its records need.
    async fn apply_repair(&self, batch: SyncBatch) -> Result<usize, String> {
        let federation = self.federation.clone();
        let peer = self.peer.district.clone();
        let (origin, epoch) = (batch.origin.clone(), batch.epoch);
        if origin == federation.district {
            return Ok(0);
        }
        let outcome = tokio::task::spawn_blocking(move || {
            let changes = verified(&federation, &peer, &origin, epoch, batch.envelopes);
            federation
                .storage
                .apply_repair(&peer, &origin, epoch, &changes)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let storage = &self.federation.storage;
        storage.flush().await.map_err(|e| e.to_string())?;
        for refusal in &outcome.refused {
            tracing::error!(peer = %self.peer.district, "{refusal}");
        }
        if !outcome.missing_photos.is_empty() {
            self.photos_wanted.notify_one();
        }
        Ok(outcome.applied)
    }
}

/// The priority side of a peer link: a `Sync` stream limited to the peer's own alerts and
/// acknowledgements, and its live changes while the full stream is far behind
/// (`SyncClass::Alerts`), on a connection of its own, so that an alert or a new record
/// never waits behind a catch-up or a photo. What arrives is verified exactly as on the
/// full stream and applied without moving a watermark; the full stream later reaches the
/// same changes and finds them held (the same sequence is never applied twice, and the
/// alert feed takes an item only when its content is new).
struct PriorityLink {
    federation: Arc<Federation>,
    peer: PeerConfig,
    endpoint: Endpoint,
    connector: PeerConnector,
    /// Notified when the full stream (re)connects.
    link_up: Arc<Notify>,
    /// Wakes the photo task, for records applied ahead whose photos are missing.
    photos_wanted: Arc<Notify>,
}

impl PriorityLink {
    /// Keeps the priority stream open until `stop` turns true, reconnecting with backoff.
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut delay = BACKOFF_START;
        loop {
            if *stop.borrow() {
                return;
            }
            let mut progressed = false;
            let mut stopping = stop.clone();
            let pulled = tokio::select! {
                pulled = self.pull(&mut stop, &mut progressed) => pulled,
                // A dial or an apply in progress does not hold the node's stop back.
                _ = stopping.wait_for(|stopped| *stopped) => return,
            };
            let wait = match pulled {
                Ok(LinkEnd::Stopped) => return,
                Ok(LinkEnd::Unsupported) => {
                    tracing::info!(peer = %self.peer.district, "the peer predates the priority stream; its alerts come with the full stream");
                    PRIORITY_UNSUPPORTED_RETRY
                }
                Err(error) => {
                    if progressed {
                        delay = BACKOFF_START;
                    }
                    tracing::debug!(peer = %self.peer.district, %error, "priority stream down");
                    let wait = jittered(delay);
                    delay = (delay * 2).min(BACKOFF_MAX);
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // The full stream got through: so may this one.
                _ = self.link_up.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    async fn pull(
        &self,
        stop: &mut watch::Receiver<bool>,
        progressed: &mut bool,
    ) -> Result<LinkEnd, String> {
        let peer = self.peer.district.clone();
        let channel = Puller::dial(&self.endpoint, &self.connector, &self.peer.address).await?;
        // zstd first: the order is this node's preference, and gzip stays for older peers.
        let mut client = FederationServiceClient::new(channel)
            .accept_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Gzip);
        let watermarks = self
            .federation
            .storage
            .watermarks(&peer)
            .map_err(|e| e.to_string())?;
        let response = client
            .sync(SyncRequest {
                watermarks,
                full_resync: Vec::new(),
                class: SyncClass::Alerts as i32,
            })
            .await
            .map_err(|s| format!("priority sync refused: {}", status_text(&s)))?;
        if response.metadata().get(SYNC_CLASS_HEADER).is_none() {
            return Ok(LinkEnd::Unsupported);
        }
        let mut stream = response.into_inner();
        loop {
            let message = tokio::select! {
                _ = stop.changed() => return Ok(LinkEnd::Stopped),
                message = stream.message() => message,
            };
            let message = message
                .map_err(|s| format!("priority stream broke: {}", status_text(&s)))?
                .ok_or_else(|| "the peer closed the priority stream".to_string())?;
            *progressed = true;
            let size = message.encoded_len();
            self.federation.status.update(&peer, |s| {
                s.last_contact_ms = crate::clock::now_ms();
                s.count_in(TrafficClass::Live, size);
            });
            match message.message {
                Some(SyncPart::Key(statement)) => {
                    self.federation
                        .take_key_statements(&peer, [&statement])
                        .await?;
                }
                Some(SyncPart::Batch(batch)) => {
                    let ahead = self.apply(batch).await?;
                    if !ahead.is_empty() {
                        self.acknowledge_ahead(&client, ahead);
                    }
                }
                None => {}
            }
        }
    }

    /// Verifies a priority batch and applies its alerts and acknowledgements, leaving every
    /// watermark where it is. Alerts travel only from their origin, so a batch of any other
    /// origin is refused whole; anything else than an alert item is left to the full
    /// stream.
    /// Tells the peer, on this connection, which of its changes this node now holds ahead
    /// of its watermark (flushed already), so that the peer's `setu peers` stops counting
    /// them as undelivered. Best effort: a lost acknowledgement only delays that figure.
    fn acknowledge_ahead(&self, client: &FederationServiceClient<Channel>, seqs: Vec<u64>) {
        let mut client = client.clone();
        let storage = self.federation.storage.clone();
        let peer = self.peer.district.clone();
        crate::spawn(async move {
            let Ok(watermarks) = storage.watermarks(&peer) else {
                return;
            };
            let request = DigestRequest {
                watermarks,
                acknowledge_only: true,
                applied_ahead: seqs,
                ..Default::default()
            };
            if let Err(status) = client.digest(request).await {
                tracing::debug!(%peer, error = %status_text(&status), "acknowledgement of changes held ahead not delivered");
            }
        });
    }

    /// Verifies and applies a priority batch ahead of the backlog, flushed; returns the
    /// sequences of the changes now held.
    async fn apply(&self, batch: SyncBatch) -> Result<Vec<u64>, String> {
        let peer = self.peer.district.clone();
        if batch.origin != peer {
            tracing::error!(%peer, origin = %batch.origin, "ALARM: the priority stream carried another district's changes; refused");
            return Ok(Vec::new());
        }
        let federation = self.federation.clone();
        let (origin, epoch) = (batch.origin.clone(), batch.epoch);
        let apply_peer = peer.clone();
        let (outcome, seqs) = tokio::task::spawn_blocking(move || {
            let changes = verified(&federation, &apply_peer, &origin, epoch, batch.envelopes);
            let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
            federation
                .storage
                .apply_ahead(&apply_peer, &origin, epoch, &changes)
                .map(|outcome| (outcome, seqs))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        self.federation
            .storage
            .flush()
            .await
            .map_err(|e| e.to_string())?;
        for refusal in &outcome.refused {
            tracing::error!(%peer, "{refusal}");
        }
        if outcome.applied > 0 {
            tracing::info!(%peer, applied = outcome.applied, "changes applied ahead of the backlog from the priority stream");
        }
        if !outcome.missing_photos.is_empty() {
            self.photos_wanted.notify_one();
        }
        // Held now: applied, or held already. After a refusal nothing is claimed, so the
        // peer keeps showing what did not arrive.
        Ok(if outcome.refused.is_empty() {
            seqs
        } else {
            Vec::new()
        })
    }
}

/// Fetches the photos that held records reference but whose bytes are missing, on a
/// connection of its own: resumes an interrupted transfer from the bytes already spooled
/// (a file per peer and photo in the data folder's `photo-spool`), checks the whole photo
/// against its SHA-256 before storing it, and retries a failed transfer after seconds,
/// whatever the anti-entropy period.
struct PhotoFetcher {
    federation: Arc<Federation>,
    peer: PeerConfig,
    endpoint: Endpoint,
    connector: PeerConnector,
    wake: Arc<Notify>,
}

impl PhotoFetcher {
    /// Fetches missing photos whenever woken, until `stop` turns true.
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut channel: Option<Channel> = None;
        let mut delay = PHOTO_RETRY_START;
        let mut not_held: HashMap<String, tokio::time::Instant> = HashMap::new();
        loop {
            if *stop.borrow() {
                return;
            }
            let now = tokio::time::Instant::now();
            not_held.retain(|_, until| *until > now);
            let missing = match self.federation.storage.missing_photos() {
                Ok(missing) => missing,
                Err(e) => {
                    tracing::warn!(peer = %self.peer.district, error = %e, "cannot list missing photos");
                    Vec::new()
                }
            };
            self.clean_spool(&missing).await;
            let mut failed = false;
            let wanted: Vec<String> = missing
                .iter()
                .filter(|sha| !not_held.contains_key(*sha))
                .cloned()
                .collect();
            for sha in &wanted {
                if *stop.borrow() {
                    return;
                }
                let ch = match &channel {
                    Some(ch) => ch.clone(),
                    None => match Puller::dial(&self.endpoint, &self.connector, &self.peer.address)
                        .await
                    {
                        Ok(ch) => {
                            channel = Some(ch.clone());
                            ch
                        }
                        Err(e) => {
                            tracing::debug!(peer = %self.peer.district, error = %e, "photo link down");
                            failed = true;
                            break;
                        }
                    },
                };
                let mut stopping = stop.clone();
                let fetched = tokio::select! {
                    fetched = self.fetch(&ch, sha) => fetched,
                    // What was spooled so far stays for the next start.
                    _ = stopping.wait_for(|stopped| *stopped) => return,
                };
                match fetched {
                    Ok(()) => delay = PHOTO_RETRY_START,
                    Err(PhotoFailure::NotHeld) => {
                        not_held.insert(sha.clone(), now + PHOTO_NOT_HELD_RETRY);
                    }
                    Err(PhotoFailure::Link(e)) => {
                        tracing::info!(peer = %self.peer.district, %sha, error = %e, "photo transfer interrupted; it resumes from the bytes received");
                        channel = None;
                        failed = true;
                        break;
                    }
                    Err(PhotoFailure::Bad(e)) => {
                        tracing::warn!(peer = %self.peer.district, %sha, error = %e, "photo discarded; it is fetched again");
                        failed = true;
                    }
                }
            }
            let wait = if failed {
                let wait = jittered(delay);
                delay = (delay * 2).min(PHOTO_RETRY_MAX);
                wait
            } else if let Some(first) = not_held.values().min() {
                first.saturating_duration_since(now).min(PHOTO_IDLE_CHECK)
            } else {
                PHOTO_IDLE_CHECK
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// The spool file of one photo from this peer; `None` for a name that is not a
    /// SHA-256 in lower-case hex (names come from records other districts wrote).
    fn spool_path(&self, sha: &str) -> Option<std::path::PathBuf> {
        let valid = sha.len() == 64
            && sha
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| {
            self.federation
                .spool_dir
                .join(format!("{}-{sha}.part", self.peer.district))
        })
    }

    /// Removes this peer's spool files of photos no longer missing.
    async fn clean_spool(&self, missing: &[String]) {
        let Ok(mut dir) = tokio::fs::read_dir(&self.federation.spool_dir).await else {
            return;
        };
        let prefix = format!("{}-", self.peer.district);
        while let Ok(Some(entry)) = dir.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(sha) = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".part"))
            else {
                continue;
            };
            if !missing.iter().any(|m| m == sha) {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }

    /// Fetches one photo, from where an earlier transfer stopped.
    async fn fetch(&self, channel: &Channel, sha: &str) -> Result<(), PhotoFailure> {
        let peer = &self.peer.district;
        let path = self
            .spool_path(sha)
            .ok_or_else(|| PhotoFailure::Bad("the photo's name is not a SHA-256".to_string()))?;
        let io = |what: &'static str| {
            move |e: std::io::Error| PhotoFailure::Link(format!("photo spool {what}: {e}"))
        };
        tokio::fs::create_dir_all(&self.federation.spool_dir)
            .await
            .map_err(io("folder"))?;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(io("open"))?;
        let limit = crate::validate::limits::MAX_PHOTO_BYTES as u64;
        let mut offset = file.metadata().await.map_err(io("size"))?.len();
        if offset > limit {
            file.set_len(0).await.map_err(io("truncate"))?;
            offset = 0;
        }
        // Photos are compressed already: this client does not ask for transport compression.
        let mut client = FederationServiceClient::new(channel.clone());
        let response = client
            .fetch_photo(FetchPhotoRequest {
                sha256: sha.to_string(),
                offset,
            })
            .await;
        let mut stream = match response {
            Ok(r) => r.into_inner(),
            Err(s) if s.code() == tonic::Code::NotFound => return Err(PhotoFailure::NotHeld),
            Err(s) if s.code() == tonic::Code::OutOfRange => {
                // The spooled bytes are longer than the photo: start again.
                let _ = tokio::fs::remove_file(&path).await;
                return Err(PhotoFailure::Bad(status_text(&s)));
            }
            Err(s) => return Err(PhotoFailure::Link(status_text(&s))),
        };
        let mut first = true;
        let mut total = 0;
        loop {
            let chunk = match stream.message().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(s) => {
                    let _ = file.flush().await;
                    return Err(PhotoFailure::Link(status_text(&s)));
                }
            };
            if first && chunk.offset != offset {
                if chunk.offset != 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(PhotoFailure::Bad(format!(
                        "offset: asked for {offset}, the first chunk starts at {}",
                        chunk.offset
                    )));
                }
                // A peer that predates resuming sends the photo from its start.
                file.set_len(0).await.map_err(io("truncate"))?;
                offset = 0;
            }
            first = false;
            total = chunk.total_size;
            if chunk.offset != offset || offset + chunk.chunk.len() as u64 > limit {
                let _ = tokio::fs::remove_file(&path).await;
                return Err(PhotoFailure::Bad(format!(
                    "photo: a chunk at offset {} (expected {offset}) or beyond the limit of {limit} bytes",
                    chunk.offset
                )));
            }
            file.write_all(&chunk.chunk).await.map_err(io("write"))?;
            offset += chunk.chunk.len() as u64;
            self.federation.status.update(peer, |s| {
                s.count_in(TrafficClass::Photos, chunk.chunk.len())
            });
        }
        file.flush().await.map_err(io("flush"))?;
        drop(file);
        if total != 0 && offset != total {
            return Err(PhotoFailure::Link(format!(
                "photo: {offset} of {total} bytes arrived"
            )));
        }
        let bytes = tokio::fs::read(&path).await.map_err(io("read"))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha {
            let _ = tokio::fs::remove_file(&path).await;
            tracing::error!(%peer, expected = %sha, %actual, "ALARM: a photo did not match its hash; discarded");
            return Err(PhotoFailure::Bad("hash mismatch".to_string()));
        }
        let storage = &self.federation.storage;
        let stored = storage
            .store_fetched_photo(sha, &bytes)
            .map_err(|e| PhotoFailure::Link(e.to_string()))?;
        if stored {
            storage
                .flush()
                .await
                .map_err(|e| PhotoFailure::Link(e.to_string()))?;
        }
        let _ = tokio::fs::remove_file(&path).await;
        tracing::debug!(%peer, %sha, bytes = bytes.len(), "photo fetched");
        Ok(())
    }
}

/// The changes among `envelopes` whose signatures verify against `origin`'s keys; each
/// refused one is raised as an alarm in the log.
fn verified(
    federation: &Federation,
    peer: &str,
    origin: &str,
    epoch: u64,
    envelopes: Vec<Envelope>,
) -> Vec<RemoteChange> {
    federation
        .verify_changes(peer, origin, epoch, envelopes)
        .into_iter()
        .filter_map(|checked| match checked {
            Ok(change) => Some(change),
            Err(e) => {
                tracing::error!(%peer, %origin, error = %e, "ALARM: refused a change from a peer");
                None
            }
        })
        .collect()
}

fn status_text(status: &tonic::Status) -> String {
    use std::error::Error as _;
    let mut text = format!("{:?}: {}", status.code(), status.message());
    let mut source = status.source();
    while let Some(s) = source {
        push_cause(&mut text, &s.to_string());
        source = s.source();
    }
    text
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        push_cause(&mut text, &s.to_string());
        source = s.source();
    }
    text
}

/// Appends a cause to an error's text unless the text already says it: an error that wraps
/// another often displays the same words (`Connection refused (os error 111)` twice).
fn push_cause(text: &mut String, cause: &str) {
    let cause = cause.trim();
    if !cause.is_empty() && !text.contains(cause) {
        text.push_str(": ");
        text.push_str(cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let inner = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let outer = std::io::Error::other(inner);
        let text = error_chain(&outer);
        assert_eq!(
            text.matches("Connection refused (os error 111)").count(),
            1,
            "{text}"
        );
    }
}
