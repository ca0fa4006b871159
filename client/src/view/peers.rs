//! The JSON view of `setu peers`: the district's federation links as the node reports them.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

/// How far this node has applied one origin's changes received from a peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatermarkView {
    /// The district whose changes these are.
    pub origin: String,
    /// The origin database's epoch (random, fixed when its database was created).
    pub epoch: u64,
    /// The highest sequence number of the origin's changes applied.
    pub seq: u64,
}

impl From<pb::Watermark> for WatermarkView {
    fn from(w: pb::Watermark) -> Self {
        Self {
            origin: w.origin,
            epoch: w.epoch,
            seq: w.seq,
        }
    }
}

/// How far behind this node is on one origin's changes that a peer holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OriginLagView {
    /// The district whose changes these are.
    pub origin: String,
    /// The peer's highest sequence of the origin, as its last batch said.
    pub peer_head: u64,
    /// How far this node has applied the origin from that peer.
    pub applied: u64,
    /// Changes of the origin the peer has and this node has not taken yet.
    pub behind: u64,
}

impl From<pb::OriginLag> for OriginLagView {
    fn from(l: pb::OriginLag) -> Self {
        Self {
            origin: l.origin,
            peer_head: l.peer_head,
            applied: l.applied,
            behind: l.behind,
        }
    }
}

/// Bytes that crossed a link for one class of traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkBytesView {
    /// `live`, `catch-up` or `photos`.
    pub class: String,
    /// Bytes received from the peer since the node started.
    pub bytes_in: u64,
    /// Bytes sent to the peer since the node started.
    pub bytes_out: u64,
}

impl From<pb::LinkBytes> for LinkBytesView {
    fn from(b: pb::LinkBytes) -> Self {
        Self {
            class: b.class,
            bytes_in: b.bytes_in,
            bytes_out: b.bytes_out,
        }
    }
}

/// One federation link. Timestamps are Unix milliseconds; 0 means never.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerView {
    /// The peer's district, e.g. "br-gaya".
    pub district: String,
    /// The peer's address as configured on the node.
    pub address: String,
    /// Whether a sync stream from the peer is open.
    pub connected: bool,
    /// When the last message came from the peer.
    pub last_contact_ms: i64,
    /// The peer's own changes this node has not applied yet.
    pub lag_in: u64,
    /// This node's changes the peer has not applied yet, as it last said.
    pub lag_out: u64,
    /// When the last anti-entropy check ran.
    pub anti_entropy_at_ms: i64,
    /// What the last anti-entropy check found; empty before the first one.
    pub anti_entropy_result: String,
    /// The last error on the link; empty when there has been none.
    pub last_error: String,
    /// When the last error happened.
    pub last_error_at_ms: i64,
    /// Items received from this peer, per origin.
    pub watermarks: Vec<WatermarkView>,
    /// When the peer's node certificate expires, as last seen; 0 while not yet seen.
    pub peer_cert_expires_at_ms: i64,
    /// That certificate's serial number (lower-case hex); empty while not yet seen.
    pub peer_cert_serial: String,
    /// Per origin received through this peer, how far behind this node is: where a
    /// change is stuck.
    pub origin_lags: Vec<OriginLagView>,
    /// Bytes in and out by class of traffic since the node started.
    pub link_bytes: Vec<LinkBytesView>,
    /// How many times the link was (re)established in the last hour.
    pub reconnects_last_hour: u32,
    /// When the oldest of this node's changes the peer has not applied was signed.
    pub oldest_undelivered_change_ms: i64,
    /// When the oldest of this node's alerts for the peer not applied there was signed.
    pub oldest_undelivered_alert_ms: i64,
    /// A sentence when a catch-up from the peer is slowed by its link; empty otherwise.
    pub slow_link: String,
}

impl From<pb::PeerStatus> for PeerView {
    fn from(p: pb::PeerStatus) -> Self {
        Self {
            district: p.district,
            address: p.address,
            connected: p.connected,
            last_contact_ms: p.last_contact_ms,
            lag_in: p.lag_in,
            lag_out: p.lag_out,
            anti_entropy_at_ms: p.anti_entropy_at_ms,
            anti_entropy_result: p.anti_entropy_result,
            last_error: p.last_error,
            last_error_at_ms: p.last_error_at_ms,
            watermarks: p.watermarks.into_iter().map(WatermarkView::from).collect(),
            peer_cert_expires_at_ms: p.peer_cert_expires_at_ms,
            peer_cert_serial: p.peer_cert_serial,
            origin_lags: p.origin_lags.into_iter().map(OriginLagView::from).collect(),
            link_bytes: p.link_bytes.into_iter().map(LinkBytesView::from).collect(),
            reconnects_last_hour: p.reconnects_last_hour,
            oldest_undelivered_change_ms: p.oldest_undelivered_change_ms,
            oldest_undelivered_alert_ms: p.oldest_undelivered_alert_ms,
            slow_link: p.slow_link,
        }
    }
}

/// What `setu peers` prints: the node's own district and its links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerListView {
    /// The district of the node that answered.
    pub district: String,
    /// One entry per configured peer.
    pub peers: Vec<PeerView>,
    /// When the answering node's own certificate expires; 0 when the node did not say.
    pub own_cert_expires_at_ms: i64,
    /// Its serial number (lower-case hex).
    pub own_cert_serial: String,
    /// Every district the node knows: its own, its peers and the origins it holds.
    pub known_districts: Vec<String>,
}

impl From<pb::ListPeersResponse> for PeerListView {
    fn from(r: pb::ListPeersResponse) -> Self {
        Self {
            district: r.district,
            peers: r.peers.into_iter().map(PeerView::from).collect(),
            own_cert_expires_at_ms: r.own_cert_expires_at_ms,
            own_cert_serial: r.own_cert_serial,
            known_districts: r.known_districts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_the_contract_names_and_integers() -> Result<(), serde_json::Error> {
        let view = PeerListView::from(pb::ListPeersResponse {
            district: "jh-dhanbad".into(),
            peers: vec![pb::PeerStatus {
                district: "br-gaya".into(),
                address: "https://node.br-gaya.example:7443".into(),
                connected: true,
                last_contact_ms: 1_760_000_000_000,
                lag_in: 2,
                lag_out: 0,
                anti_entropy_at_ms: 0,
                anti_entropy_result: String::new(),
                last_error: String::new(),
                last_error_at_ms: 0,
                watermarks: vec![pb::Watermark {
                    origin: "br-gaya".into(),
                    epoch: u64::MAX - 1,
                    seq: 1042,
                }],
                peer_cert_expires_at_ms: 1_762_000_000_000,
                peer_cert_serial: "4a1b".into(),
                origin_lags: vec![pb::OriginLag {
                    origin: "jh-ranchi".into(),
                    peer_head: 50,
                    applied: 20,
                    behind: 30,
                }],
                ..Default::default()
            }],
            own_cert_expires_at_ms: 1_761_000_000_000,
            own_cert_serial: "5c2d".into(),
            known_districts: vec!["br-gaya".into(), "jh-dhanbad".into()],
        });
        let json = serde_json::to_value(&view)?;
        assert_eq!(json["district"], "jh-dhanbad");
        let peer = &json["peers"][0];
        assert_eq!(peer["connected"], true);
        assert_eq!(peer["last_contact_ms"], 1_760_000_000_000_i64);
        assert_eq!(peer["anti_entropy_at_ms"], 0);
        assert_eq!(peer["lag_in"], 2);
        assert_eq!(peer["watermarks"][0]["epoch"], u64::MAX - 1);
        assert_eq!(peer["watermarks"][0]["seq"], 1042);
        assert_eq!(peer["peer_cert_expires_at_ms"], 1_762_000_000_000_i64);
        assert_eq!(json["own_cert_expires_at_ms"], 1_761_000_000_000_i64);
        assert_eq!(json["own_cert_serial"], "5c2d");
        assert_eq!(peer["origin_lags"][0]["origin"], "jh-ranchi");
        assert_eq!(peer["origin_lags"][0]["behind"], 30);
        assert_eq!(serde_json::from_value::<PeerListView>(json)?, view);
        Ok(())
    }
}
