//! What may travel where. The sending node decides, per change and per peer, whether the
//! peer gets the full envelope, only its signed retraction (so that it drops a copy it may
//! no longer hold), or nothing at all.
//!
//! - `LOCAL_ONLY` never leaves its origin; an item that was shared before and then narrowed
//!   to `LOCAL_ONLY` goes out as a retraction only.
//! - `PEERS` goes in full only from the origin to its direct peers; relays forward the
//!   retraction instead.
//! - `FEDERATION` may be relayed by any node to the peers whose `relay_origins` allow it.
//! - Expunges travel as signed tombstones wherever the item may have gone.
//! - Alerts and acknowledgements go from their origin to the districts they target, and
//!   nowhere else: never to other peers, never relayed.
//!
//! An envelope travels with its signed retraction attached only when the receiver may
//! have to forward that retraction: a `PEERS` change, which the receiver holds in full but
//! passes on only as a retraction. A `FEDERATION` change is always passed on in full, and an
//! alert never, so their retractions stay at the origin (about 40 % of a record's bytes on
//! the wire).

use crate::config::PeerConfig;
use crate::storage::{Kind, LogEntry};
use prost::Message;
use setu_proto::v1::{Alert, AlertAck, Envelope, EnvelopePayload, Handling};

/// The districts an alert item is addressed to, read from its signed envelope.
fn alert_targets(entry: &LogEntry) -> Vec<String> {
    let Ok(payload) = EnvelopePayload::decode(entry.envelope.payload.as_slice()) else {
        return Vec::new();
    };
    match entry.kind {
        Kind::Alert => Alert::decode(payload.body.as_slice())
            .map(|a| a.targets)
            .unwrap_or_default(),
        Kind::AlertAck => AlertAck::decode(payload.body.as_slice())
            .map(|a| a.targets)
            .unwrap_or_default(),
        Kind::Record | Kind::MoNote => Vec::new(),
    }
}

/// Whether an alert item goes to `peer`: only from its origin, only to its targets.
fn alert_goes_to(own_district: &str, origin: &str, entry: &LogEntry, peer: &PeerConfig) -> bool {
    origin == own_district && entry.state.has_data && alert_targets(entry).contains(&peer.district)
}

/// Whether this node sends anything of `origin` to `peer`.
pub fn sends_origin(own_district: &str, origin: &str, peer: &PeerConfig) -> bool {
    if origin == peer.district {
        // A peer never gets its own changes back.
        return false;
    }
    origin == own_district || peer.relays(origin)
}

/// The handling codes of `origin`'s records and notes that `peer` gets in full from this
/// node: what an anti-entropy digest for the peer covers.
pub fn handlings_sent(own_district: &str, origin: &str, peer: &PeerConfig) -> Vec<i32> {
    if !sends_origin(own_district, origin, peer) {
        return Vec::new();
    }
    if origin == own_district {
        [Handling::Peers as i32, Handling::Federation as i32]
            .into_iter()
            .filter(|h| peer.sends_own(*h))
            .collect()
    } else {
        vec![Handling::Federation as i32]
    }
}

/// Whether `peer` gets `entry` in full.
pub fn sends_in_full(
    own_district: &str,
    origin: &str,
    entry: &LogEntry,
    peer: &PeerConfig,
) -> bool {
    if entry.kind.is_alert() {
        return alert_goes_to(own_district, origin, entry, peer);
    }
    let state = &entry.state;
    if !state.has_data || !sends_origin(own_district, origin, peer) {
        return false;
    }
    if origin == own_district {
        peer.sends_own(state.handling)
    } else {
        state.handling == Handling::Federation as i32
    }
}

/// `entry`'s envelope as sent in full: with its retraction only when the receiver may have
/// to pass the change on as a retraction (see the module's notes).
fn in_full(entry: &LogEntry) -> Envelope {
    let keeps_retraction =
        !entry.kind.is_alert() && entry.state.handling != Handling::Federation as i32;
    if keeps_retraction || entry.envelope.retraction.is_none() {
        return entry.envelope.clone();
    }
    Envelope {
        payload: entry.envelope.payload.clone(),
        key_id: entry.envelope.key_id.clone(),
        signature: entry.envelope.signature.clone(),
        retraction: None,
    }
}

/// The envelope `peer` gets for `entry` of `origin`, if any.
pub fn outgoing(
    own_district: &str,
    origin: &str,
    entry: &LogEntry,
    peer: &PeerConfig,
) -> Option<Envelope> {
    if entry.kind.is_alert() {
        return alert_goes_to(own_district, origin, entry, peer).then(|| in_full(entry));
    }
    if !sends_origin(own_district, origin, peer) {
        return None;
    }
    let state = &entry.state;
    if origin == own_district {
        if state.deleted {
            // A tombstone goes wherever the item may have gone.
            return state.shared.then(|| entry.envelope.clone());
        }
        if peer.sends_own(state.handling) {
            return Some(in_full(entry));
        }
        if state.shared {
            return entry.envelope.retraction.as_deref().cloned();
        }
        return None;
    }
    // Relaying another district's change. Its retraction or tombstone travels on only if
    // this node may have relayed the item before (it held it as FEDERATION), so that the
    // ids of PEERS-only items do not spread beyond the origin's direct peers.
    if state.deleted || !state.has_data {
        // Tombstones and retractions carry no data: forward them as they came.
        return state.shared.then(|| entry.envelope.clone());
    }
    if state.handling == Handling::Federation as i32 {
        Some(in_full(entry))
    } else if state.shared {
        entry.envelope.retraction.as_deref().cloned()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SendHandling;
    use crate::storage::{ItemState, Kind};

    fn peer(district: &str, send: Vec<SendHandling>, relay: &[&str]) -> PeerConfig {
        PeerConfig {
            district: district.into(),
            address: "https://127.0.0.1:1".into(),
            ca: "ca.pem".into(),
            send,
            relay_origins: relay.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn entry(
        origin: &str,
        handling: Handling,
        shared: bool,
        has_data: bool,
        deleted: bool,
    ) -> LogEntry {
        let stub = Envelope {
            payload: b"stub".to_vec(),
            ..Default::default()
        };
        LogEntry {
            kind: Kind::Record,
            id: "x".into(),
            state: ItemState {
                origin: origin.into(),
                epoch: 1,
                seq: 1,
                handling: handling as i32,
                shared,
                has_data,
                deleted,
            },
            envelope: Envelope {
                payload: b"full".to_vec(),
                retraction: Some(Box::new(stub)),
                ..Default::default()
            },
        }
    }

    fn kind_of(e: Option<Envelope>) -> &'static str {
        match e {
            None => "none",
            Some(e) if e.payload == b"full" => "full",
            Some(_) => "stub",
        }
    }

    #[test]
    fn handling_codes_decide_what_travels() {
        let all = vec![SendHandling::Peers, SendHandling::Federation];
        let b = peer("b", all.clone(), &["*"]);
        let own = |h, shared| kind_of(outgoing("a", "a", &entry("a", h, shared, true, false), &b));
        assert_eq!(own(Handling::Federation, true), "full");
        assert_eq!(own(Handling::Peers, true), "full");
        assert_eq!(own(Handling::LocalOnly, false), "none");
        assert_eq!(own(Handling::LocalOnly, true), "stub");
        // B relaying A's items to C.
        let c = peer("c", all.clone(), &["*"]);
        let relay = |h| kind_of(outgoing("b", "a", &entry("a", h, true, true, false), &c));
        assert_eq!(relay(Handling::Federation), "full");
        assert_eq!(relay(Handling::Peers), "stub");
        // A PEERS item this node never held as FEDERATION is not even announced onwards.
        let never_relayed = entry("a", Handling::Peers, false, true, false);
        assert_eq!(kind_of(outgoing("b", "a", &never_relayed, &c)), "none");
        // Relaying can be limited per peer, and a peer never gets its own items back.
        let c_none = peer("c", all.clone(), &[]);
        assert_eq!(
            kind_of(outgoing(
                "b",
                "a",
                &entry("a", Handling::Federation, true, true, false),
                &c_none
            )),
            "none"
        );
        let a = peer("a", all, &["*"]);
        assert_eq!(
            kind_of(outgoing(
                "b",
                "a",
                &entry("a", Handling::Federation, true, true, false),
                &a
            )),
            "none"
        );
        // A FEDERATION change travels without its retraction (every receiver passes it on
        // in full); a PEERS change keeps it, for the receiver to pass on instead.
        let sent = |h, own: &str, to: &PeerConfig| {
            outgoing(own, "a", &entry("a", h, true, true, false), to)
                .expect("sent in full")
                .retraction
                .is_some()
        };
        assert!(!sent(Handling::Federation, "a", &b));
        assert!(!sent(Handling::Federation, "b", &c));
        assert!(sent(Handling::Peers, "a", &b));
        // A peer configured for federation only does not get PEERS items.
        let fed_only = peer("b", vec![SendHandling::Federation], &["*"]);
        assert_eq!(
            kind_of(outgoing(
                "a",
                "a",
                &entry("a", Handling::Peers, true, true, false),
                &fed_only
            )),
            "stub"
        );
    }
}
