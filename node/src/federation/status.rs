//! The live state of each peer link (connected, last contact, last error, anti-entropy
//! result), kept in memory, and each link's status with its lag in both directions, as
//! `setu peers` and the metrics endpoint show it.

use super::Federation;
use crate::config::PeerConfig;
use crate::storage::{ApplyOutcome, StorageResult};
use crate::trust::cert::CertFacts;
use setu_proto::v1::{EnvelopePayload, LinkBytes, OriginLag, PeerStatus};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

/// The classes of traffic on a peer link, as counted in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrafficClass {
    /// Alerts, acknowledgements, key statements and changes after a catch-up.
    Live,
    /// The backlog of an origin, before its caught-up mark.
    CatchUp,
    /// Photo chunks.
    Photos,
}

impl TrafficClass {
    /// Every class, in the order they are shown.
    pub const ALL: [TrafficClass; 3] = [
        TrafficClass::Live,
        TrafficClass::CatchUp,
        TrafficClass::Photos,
    ];

    /// The class's name in `setu peers` and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            TrafficClass::Live => "live",
            TrafficClass::CatchUp => "catch-up",
            TrafficClass::Photos => "photos",
        }
    }
}

/// How long reconnects are remembered for the "last hour" figure.
const RECONNECT_WINDOW_MS: i64 = 3_600_000;
/// A catch-up expected to take longer than this is reported as a slow link.
const SLOW_CATCH_UP_MS: u64 = 60_000;

/// How many envelopes of one origin came from one peer since the node started, and what
/// applying them did (the metrics show these, so that a relay storm or a loop is visible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvelopeCounts {
    /// Envelopes received whose signature verified.
    pub received: u64,
    /// Of those, the ones stored (new here).
    pub applied: u64,
    /// Of those, the ones this node already had (or something newer).
    pub ignored: u64,
}

/// What is known about one peer link.
#[derive(Debug, Clone, Default)]
pub struct PeerLink {
    /// The peer's address.
    pub address: String,
    /// Whether a sync stream from the peer is open.
    pub connected: bool,
    /// When the last message came from the peer (Unix ms; 0 never).
    pub last_contact_ms: i64,
    /// The peer's highest sequence of its own changes, as it last said.
    pub peer_head: u64,
    /// The peer's highest sequence of every origin it sends, as its last batch said.
    pub origin_heads: HashMap<String, u64>,
    /// When the last anti-entropy check ran (Unix ms) and what it found.
    pub anti_entropy_at_ms: i64,
    pub anti_entropy_result: String,
    /// The last error on the link and when it happened.
    pub last_error: String,
    pub last_error_at_ms: i64,
    /// The peer's node certificate as last seen (on its sync calls or our dial).
    pub peer_cert: Option<CertFacts>,
    /// Envelopes received from the peer since start, by origin.
    pub envelopes: BTreeMap<String, EnvelopeCounts>,
    /// Bytes received from the peer and sent to it since start, by class: (in, out).
    pub bytes: BTreeMap<TrafficClass, (u64, u64)>,
    /// When the pull link was established (Unix ms), within the last hour.
    pub connects: VecDeque<i64>,
    /// Catch-up progress on the current connection: (when it started in Unix ms, changes
    /// applied from the peer since then), for the slow-link estimate.
    pub catch_up_rate: Option<(i64, u64)>,
    /// Sequences of this district's own changes that the peer said it holds ahead of its
    /// acknowledged watermark (alerts and live changes from the priority stream).
    pub applied_ahead: std::collections::BTreeSet<u64>,
}

impl PeerLink {
    /// Counts `n` bytes received from the peer.
    pub fn count_in(&mut self, class: TrafficClass, n: usize) {
        self.bytes.entry(class).or_default().0 += n as u64;
    }

    /// Counts `n` bytes sent to the peer.
    pub fn count_out(&mut self, class: TrafficClass, n: usize) {
        self.bytes.entry(class).or_default().1 += n as u64;
    }

    /// Notes that the pull link was (re)established at `now_ms`.
    pub fn connected_at(&mut self, now_ms: i64) {
        self.connects.push_back(now_ms);
        while self
            .connects
            .front()
            .is_some_and(|t| now_ms - t > RECONNECT_WINDOW_MS)
        {
            self.connects.pop_front();
        }
        self.catch_up_rate = Some((now_ms, 0));
    }

    /// Connections established in the hour before `now_ms`.
    pub fn reconnects_last_hour(&self, now_ms: i64) -> u32 {
        self.connects
            .iter()
            .filter(|t| now_ms - **t <= RECONNECT_WINDOW_MS)
            .count() as u32
    }

    /// A sentence when the catch-up from the peer, at the rate seen on this connection,
    /// would take more than a minute to finish `behind` changes; empty otherwise.
    pub fn slow_link(&self, behind: u64, now_ms: i64) -> String {
        let Some((since, applied)) = self.catch_up_rate else {
            return String::new();
        };
        let elapsed = now_ms.saturating_sub(since).max(1) as u64;
        if behind == 0 || !self.connected || elapsed < 5_000 {
            return String::new();
        }
        let rate_per_s = applied * 1000 / elapsed;
        let eta_ms = (behind * 1000).checked_div(rate_per_s).unwrap_or(u64::MAX);
        if eta_ms <= SLOW_CATCH_UP_MS {
            return String::new();
        }
        let received: u64 = self.bytes.values().map(|(i, _)| *i).sum();
        let kib_per_s = received * 1000 / elapsed.max(1) / 1024;
        if rate_per_s == 0 {
            format!(
                "slow link: {behind} changes behind and none applied in {} s",
                elapsed / 1000
            )
        } else {
            format!(
                "slow link: {behind} changes behind at {rate_per_s} changes/s (about {kib_per_s} KiB/s received); about {} s to catch up",
                eta_ms / 1000
            )
        }
    }

    /// Counts a batch of `received` verified envelopes of `origin` from this peer, and what
    /// applying it did.
    pub fn count_envelopes(&mut self, origin: &str, received: u64, outcome: &ApplyOutcome) {
        let counts = self.envelopes.entry(origin.to_string()).or_default();
        counts.received += received;
        counts.applied += outcome.applied as u64;
        counts.ignored += outcome.ignored as u64;
        if let Some((_, applied)) = &mut self.catch_up_rate {
            *applied += received;
        }
    }
}

/// Every peer's link state.
pub struct PeerStatusBoard {
    links: Mutex<HashMap<String, PeerLink>>,
}

impl PeerStatusBoard {
    /// A board with one entry per configured peer.
    pub fn new(peers: &[PeerConfig]) -> Self {
        let links = peers
            .iter()
            .map(|p| {
                (
                    p.district.clone(),
                    PeerLink {
                        address: p.address.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        PeerStatusBoard {
            links: Mutex::new(links),
        }
    }

    /// Changes one peer's entry.
    pub fn update(&self, peer: &str, change: impl FnOnce(&mut PeerLink)) {
        if let Ok(mut links) = self.links.lock() {
            change(links.entry(peer.to_string()).or_default());
        }
    }

    /// A copy of one peer's entry.
    pub fn get(&self, peer: &str) -> PeerLink {
        self.links
            .lock()
            .ok()
            .and_then(|links| links.get(peer).cloned())
            .unwrap_or_default()
    }
}

impl Federation {
    /// Records the node certificate `peer` presented (on its call or our dial); warns in
    /// the log when a newly seen one expires within the warning period.
    pub fn saw_peer_cert(&self, peer: &str, facts: &CertFacts) {
        let mut fresh = false;
        self.status.update(peer, |link| {
            fresh = link.peer_cert.as_ref() != Some(facts);
            link.peer_cert = Some(facts.clone());
        });
        if fresh {
            crate::trust::cert::warn_if_expiring(
                &format!("peer {peer}'s node"),
                facts,
                crate::clock::now_ms(),
            );
        }
    }

    /// Every configured peer's link status: the live state from the board, the watermarks
    /// per origin, and the lag each way (`lag_in`: the peer's own changes not applied here;
    /// `lag_out`: this district's changes the peer has not said it applied).
    pub fn peer_statuses(&self) -> StorageResult<Vec<PeerStatus>> {
        let own_head = self
            .storage
            .origin_info(&self.district)?
            .map(|i| i.max_seq)
            .unwrap_or(0);
        let mut peers = Vec::new();
        for peer in &self.peers {
            let link = self.status.get(&peer.district);
            let watermarks = self.storage.watermarks(&peer.district)?;
            let applied_from_peer = watermarks
                .iter()
                .find(|w| w.origin == peer.district)
                .map(|w| w.seq)
                .unwrap_or(0);
            let acked_by_peer = self
                .storage
                .peer_acks(&peer.district)?
                .into_iter()
                .find(|w| w.origin == self.district)
                .map(|w| w.seq)
                .unwrap_or(0);
            let now = crate::clock::now_ms();
            let lag_in = link.peer_head.saturating_sub(applied_from_peer);
            let behind_total: u64 = link
                .origin_heads
                .iter()
                .map(|(origin, head)| {
                    let applied = watermarks
                        .iter()
                        .find(|w| &w.origin == origin)
                        .map_or(0, |w| w.seq);
                    head.saturating_sub(applied)
                })
                .sum();
            let slow_link = link.slow_link(behind_total, now);
            let reconnects_last_hour = link.reconnects_last_hour(now);
            let link_bytes = TrafficClass::ALL
                .iter()
                .map(|class| {
                    let (bytes_in, bytes_out) = link.bytes.get(class).copied().unwrap_or_default();
                    LinkBytes {
                        class: class.name().to_string(),
                        bytes_in,
                        bytes_out,
                    }
                })
                .collect();
            let (oldest_change, oldest_alert) =
                self.oldest_undelivered(peer, acked_by_peer, own_head, &link.applied_ahead)?;
            let origin_lags = link
                .origin_heads
                .iter()
                .map(|(origin, head)| {
                    let applied = watermarks
                        .iter()
                        .find(|w| &w.origin == origin)
                        .map_or(0, |w| w.seq);
                    OriginLag {
                        origin: origin.clone(),
                        peer_head: *head,
                        applied,
                        behind: head.saturating_sub(applied),
                    }
                })
                .collect();
            peers.push(PeerStatus {
                origin_lags,
                district: peer.district.clone(),
                address: peer.address.clone(),
                connected: link.connected,
                last_contact_ms: link.last_contact_ms,
                lag_in,
                lag_out: own_head.saturating_sub(acked_by_peer),
                anti_entropy_at_ms: link.anti_entropy_at_ms,
                anti_entropy_result: link.anti_entropy_result,
                last_error: link.last_error,
                last_error_at_ms: link.last_error_at_ms,
                watermarks,
                peer_cert_expires_at_ms: link.peer_cert.as_ref().map_or(0, |c| c.not_after_ms),
                slow_link,
                reconnects_last_hour,
                link_bytes,
                oldest_undelivered_change_ms: oldest_change,
                oldest_undelivered_alert_ms: oldest_alert,
                peer_cert_serial: link.peer_cert.map(|c| c.serial).unwrap_or_default(),
            });
        }
        Ok(peers)
    }
}

impl Federation {
    /// When the oldest of this node's changes, and of its alerts and acknowledgements for
    /// `peer`, above what the peer last reported applied (`acked`) were signed (Unix ms; 0
    /// for none). Reads one log entry and the alerts tree, never the backlog.
    fn oldest_undelivered(
        &self,
        peer: &PeerConfig,
        acked: u64,
        own_head: u64,
        applied_ahead: &std::collections::BTreeSet<u64>,
    ) -> StorageResult<(i64, i64)> {
        let signed_at = |entry: &crate::storage::LogEntry| {
            use prost::Message as _;
            EnvelopePayload::decode(entry.envelope.payload.as_slice())
                .map(|p| p.signed_at_ms)
                .unwrap_or(0)
        };
        let mut oldest_change = 0;
        if own_head > acked {
            for entry in self.storage.log_after(&self.district, acked, 64)? {
                if super::policy::outgoing(&self.district, &self.district, &entry, peer).is_some() {
                    oldest_change = signed_at(&entry);
                    break;
                }
            }
        }
        // An alert the peer said it holds ahead of its watermark is delivered.
        let oldest_alert = self
            .storage
            .alert_changes_after(&self.district, acked)?
            .iter()
            .filter(|e| !applied_ahead.contains(&e.state.seq))
            .find(|e| super::policy::outgoing(&self.district, &self.district, e, peer).is_some())
            .map_or(0, signed_at);
        Ok((oldest_change, oldest_alert))
    }
}

impl crate::net::connection::PeerCertSink for Federation {
    fn saw_peer_cert(&self, district: &str, facts: &CertFacts) {
        Federation::saw_peer_cert(self, district, facts);
    }
}

/// Checks the node's own certificate and every peer certificate seen, at start and then
/// once a day, until `stop` turns true.
pub async fn watch_expiry(
    tls: std::sync::Arc<crate::net::reload::TlsState>,
    federation: std::sync::Arc<Federation>,
    clock: crate::clock::Clock,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
    loop {
        let now = clock.now_ms();
        crate::trust::cert::warn_if_expiring("this node's", &tls.own(), now);
        for peer in &federation.peers {
            if let Some(facts) = federation.status.get(&peer.district).peer_cert {
                crate::trust::cert::warn_if_expiring(
                    &format!("peer {}'s node", peer.district),
                    &facts,
                    now,
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(DAY) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}
